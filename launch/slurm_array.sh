#!/bin/bash
# SLURM array job: one paper figure's sweep split over array tasks.
#
# Edit the #SBATCH lines and the variables below for your cluster, then:
#   sbatch launch/slurm_array.sh
# Each task runs every NUM_TASKS-th chunk (launch.sweep reads
# SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT) and writes its own parts; a
# requeued or resubmitted task skips finished chunks and resumes its
# unfinished one from the last checkpoint. When all tasks are done, merge:
#   python -m launch.sweep --workdir=$WORKDIR --merge_only
# (or submit this script with MERGE=1 as a dependent job:
#   sbatch --dependency=afterok:<array job id> --array=0 --export=ALL,MERGE=1 launch/slurm_array.sh)
#
#SBATCH --job-name=featurespring
#SBATCH --array=0-7                 # NUM_TASKS = 8 tasks
#SBATCH --gres=gpu:1                # one GPU per task (drop for CPU nodes)
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --requeue                   # preempted tasks restart and resume
#SBATCH --output=logs/%x-%A_%a.out

set -euo pipefail
CONFIG=${CONFIG:-experiments/fig1a_label_noise.py}   # the figure to sweep
WORKDIR=${WORKDIR:-runs/fig1a}                        # shared filesystem path
MERGE=${MERGE:-0}

cd "${SLURM_SUBMIT_DIR:-.}"          # the repository root
mkdir -p logs
# source .venv/bin/activate         # your environment

if [[ "$MERGE" == 1 ]]; then
  exec python -m launch.sweep --workdir="$WORKDIR" --merge_only
fi
exec python -m launch.sweep --config="$CONFIG" --workdir="$WORKDIR" "$@"

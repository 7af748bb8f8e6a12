#!/bin/bash
# SLURM array job: one paper figure's sweep split over array tasks.
#
# Submit it with launch/slurm_submit.sh, which creates logs/ first and queues
# the merge job behind it:
#   bash launch/slurm_submit.sh --config=experiments/fig1a_label_noise.py --workdir=runs/fig1a
# (sbatch opens --output=logs/... before this script runs, so a missing logs/
# makes every task fail without a log; the script cannot create it itself.)
# Direct use, from the repository root with logs/ present:
#   sbatch launch/slurm_array.sh --config=... --workdir=... [more launch.sweep flags]
#
# Arguments are launch.sweep flags, passed through unchanged (they travel as
# script arguments, not environment variables, so they survive any site
# --export policy and values with commas). Each task runs every NUM_TASKS-th
# chunk (launch.sweep reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT) and
# writes its own parts; a requeued or resubmitted task skips finished chunks
# and resumes its unfinished one from the last checkpoint.
#
# The workdir must be a POSIX path every node sees (NFS, Lustre, a gcsfuse
# mount), not a gs:// URL: the sweep writes with open() and os.replace.
#
# Edit the #SBATCH lines for your cluster (or set SBATCH_PARTITION,
# SBATCH_ACCOUNT, SBATCH_ARRAY_INX=0-15, ... when calling slurm_submit.sh).
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
# launch is not an installed package: python -m launch.sweep needs the
# repository root as working directory (slurm_submit.sh submits from there).
cd "${SLURM_SUBMIT_DIR:-.}"
# source .venv/bin/activate         # your environment

exec python -m launch.sweep "$@"

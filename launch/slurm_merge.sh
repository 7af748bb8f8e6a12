#!/bin/bash
# SLURM merge job: joins the parts of a finished array sweep into results.npz.
#
# launch/slurm_submit.sh queues it behind the array job
# (--dependency=afterok:<array job id>). By hand, from the repository root:
#   sbatch --dependency=afterok:<array job id> launch/slurm_merge.sh --workdir=runs/fig1a
# Arguments are launch.sweep flags (at least --workdir). If an array task
# failed, this job never starts (afterok): scancel it, fix the cause and run
# slurm_submit.sh again; finished chunks are skipped.
#
# The merge is plain NumPy on one core: no GPU, and it must not hold one while
# it waits. It loads every part at once, so raise --mem for very large sweeps.
#
#SBATCH --job-name=featurespring-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=00:30:00
#SBATCH --output=logs/%x-%j.out

set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"          # the repository root
# source .venv/bin/activate         # your environment

# No accelerator here; skip JAX's probe for one.
export JAX_PLATFORMS=cpu
exec python -m launch.sweep --merge_only "$@"

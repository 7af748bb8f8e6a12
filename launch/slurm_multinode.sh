#!/bin/bash
# Multi-node SLURM job: one sweep, every chunk sharded over all GPUs of all nodes.
#
# From the repository root (mkdir first: sbatch opens --output=logs/... before
# this script runs, and a missing directory makes the job fail without a log):
#   mkdir -p logs && sbatch launch/slurm_multinode.sh \
#       --config=experiments/fig1c_dropout.py --workdir=runs/fig1c
#
# Arguments are launch.sweep flags, passed through unchanged. srun starts one
# process per GPU (--ntasks-per-node = GPUs per node). Why per GPU: with
# --multihost, jax.distributed.initialize() reads the SLURM variables
# (SLURM_NTASKS processes, SLURM_PROCID, coordinator on the first node) and
# gives each process only GPU number SLURM_LOCALID among those it sees, so one
# process per node would use one GPU per node. For the same reason every task
# must see all of its node's GPUs: do not add --gpus-per-task or --gpu-bind.
# Process 0 writes the parts, checkpoints and, at the end, the merged results
# (a single job needs no merge job). To resume after preemption, a timeout or
# a failure, submit the same command again: finished chunks are skipped and
# the unfinished one restarts from its checkpoint.
#
# The workdir must be a POSIX path every node sees (NFS, Lustre, a gcsfuse
# mount), not a gs:// URL: the sweep writes with open() and os.replace.
#
#SBATCH --job-name=featurespring-mn
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4         # = GPUs per node: one process per GPU
#SBATCH --gres=gpu:4                # all of a node's GPUs, visible to each task
#SBATCH --cpus-per-task=8
#SBATCH --mem=0                     # all of each node's memory
#SBATCH --time=04:00:00
#SBATCH --requeue                   # a preempted job restarts and resumes
#SBATCH --output=logs/%x-%j.out

set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"          # the repository root
# source .venv/bin/activate         # your environment

# --kill-on-bad-exit: a process that dies would leave the others waiting in
# collectives until the time limit.
exec srun --kill-on-bad-exit=1 python -m launch.sweep --multihost "$@"

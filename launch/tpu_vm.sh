#!/bin/bash
# Multi-host sweep on a TPU VM slice (or any multi-host JAX cluster).
#
# Every chunk is sharded over the devices of all hosts: each host runs this
# same command, jax.distributed.initialize() (--multihost) finds the others
# from the TPU metadata (on GPU clusters set JAX_COORDINATOR_ADDRESS,
# JAX_NUM_PROCESSES and JAX_PROCESS_ID, or run under SLURM), and process 0
# writes the parts, checkpoints and results. WORKDIR must be on storage all
# hosts see (e.g. a gcsfuse or NFS mount). Rerun the same command to resume.
#
# Edit the variables, then from your workstation:
#   bash launch/tpu_vm.sh
set -euo pipefail
TPU_NAME=${TPU_NAME:-my-tpu}                          # your TPU VM slice
ZONE=${ZONE:-us-central2-b}
REPO_DIR=${REPO_DIR:-~/featurespring}                 # checkout on every host
CONFIG=${CONFIG:-experiments/fig1c_dropout.py}
WORKDIR=${WORKDIR:-/mnt/shared/runs/fig1c}

gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" --worker=all --command="
  cd $REPO_DIR && python -m launch.sweep --multihost --config=$CONFIG --workdir=$WORKDIR $*"

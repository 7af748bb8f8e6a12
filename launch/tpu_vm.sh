#!/bin/bash
# Multi-host sweep on a TPU VM slice, started from your workstation.
#
#   TPU_NAME=my-tpu ZONE=us-central2-b bash launch/tpu_vm.sh [launch.sweep flags]
#   e.g. bash launch/tpu_vm.sh --config.grid.noise='(0.0,0.1)'
#
# Every worker runs the same command in the background (setsid nohup, so it
# outlives the ssh session), logging to REPO_DIR/logs/tpu_vm-<hostname>.log on
# that worker; the script prints how to follow it. jax.distributed.initialize()
# (--multihost) finds the other workers from the TPU metadata, every chunk is
# sharded over the devices of all hosts, and process 0 writes the parts,
# checkpoints and results. Rerun the same command to resume, once the previous
# run has ended (two runs would write the same workdir).
#
# Arguments are forwarded to python on each worker unchanged (quoted with
# printf %q, so spaces, parentheses and $ survive the remote shell).
# Variables (environment, or edit the defaults below):
#   REPO_DIR  the checkout on every worker: relative to the remote home
#             (default featurespring) or absolute; a leading ~/ means the
#             remote home too. Nothing is expanded on this machine.
#   WORKDIR   must be a POSIX path every worker sees, e.g. a gcsfuse mount of
#             a GCS bucket or an NFS/Filestore mount, not a gs:// URL: the
#             sweep writes with open() and moves files into place with
#             os.replace.
#   INSTALL   1 (default) first runs on each worker, in REPO_DIR:
#               $PYTHON -m pip install -e . "jax[tpu]==0.10.2"
#             (the jax version of constraints.txt); 0 skips it.
#   PYTHON    the interpreter on the workers (default python3).
set -euo pipefail
TPU_NAME=${TPU_NAME:-my-tpu}                          # your TPU VM slice
ZONE=${ZONE:-us-central2-b}
PROJECT=${PROJECT:-}                                  # empty: gcloud's default
REPO_DIR=${REPO_DIR:-featurespring}                   # on every worker, see above
CONFIG=${CONFIG:-experiments/fig1c_dropout.py}
WORKDIR=${WORKDIR:-/mnt/shared/runs/fig1c}
INSTALL=${INSTALL:-1}
PYTHON=${PYTHON:-python3}

if [[ "$WORKDIR" == *://* ]]; then
  echo "error: WORKDIR=$WORKDIR is a URL; mount the bucket (gcsfuse) and use the mount path" >&2
  exit 2
fi
# ssh starts in the remote home, so a relative path is relative to it.
case $REPO_DIR in
  "~") repo=. ;;
  "~/"*) repo=${REPO_DIR#"~/"} ;;
  *) repo=$REPO_DIR ;;
esac

printf -v job '%q ' "$PYTHON" -m launch.sweep --multihost \
  "--config=$CONFIG" "--workdir=$WORKDIR" "$@"
if [[ "$INSTALL" == 1 ]]; then
  printf -v install '%q ' "$PYTHON" -m pip install -e . "jax[tpu]==0.10.2"
  job="$install&& $job"
fi
# The job string is quoted once more for bash -c; $(hostname) stays unquoted
# so it expands on each worker. Only the job goes to the background (in
# braces): a failing cd is reported by ssh, and no process that still holds
# ssh's stdout keeps the session open.
log='logs/tpu_vm-"$(hostname)".log'
# (printf %q rather than ${var@Q}: macOS still ships bash 3.2.)
printf -v remote 'cd -- %q && mkdir -p logs && %s' "$repo" \
  "$(printf '{ setsid nohup bash -c %q > %s 2>&1 < /dev/null & }' "$job" "$log")"

gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" ${PROJECT:+--project="$PROJECT"} \
  --worker=all --command="$remote"

printf -v follow '%q ' tail -f "$repo/logs/tpu_vm-"
echo "started on every worker of $TPU_NAME; follow worker 0's log with:"
echo "  gcloud compute tpus tpu-vm ssh $TPU_NAME --zone=$ZONE${PROJECT:+ --project=$PROJECT} --worker=0 \\"
echo "    --command=\"${follow% }*.log\""

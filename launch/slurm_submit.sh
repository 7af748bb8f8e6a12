#!/bin/bash
# Submits one figure's sweep to SLURM: the array job (launch/slurm_array.sh)
# and a merge job (launch/slurm_merge.sh) that starts once every task succeeded.
#
#   bash launch/slurm_submit.sh --config=experiments/fig1a_label_noise.py --workdir=runs/fig1a
#
# Arguments are launch.sweep flags (--workdir is required), forwarded to every
# array task unchanged. The jobs run from the repository root, so relative
# paths (config, workdir, logs/) are relative to it wherever you type this.
# The script creates logs/ before calling sbatch: sbatch opens
# --output=logs/... before the job script runs, and a missing directory makes
# the job fail without a log. Resources: the #SBATCH lines of the two scripts;
# sbatch also reads SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_ARRAY_INX=0-15,
# ... from the environment (array- and GPU-related ones are kept from the
# merge job). To resume after a failure or timeout, run the same command
# again: finished chunks are skipped.
#
# The workdir must be a POSIX path every node sees (NFS, Lustre, a gcsfuse
# mount), not a gs:// URL: the sweep writes with open() and os.replace.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

workdir=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --workdir=*) workdir=${args[i]#--workdir=} ;;
    --workdir) workdir=${args[i + 1]:-} ;;
  esac
done
if [[ -z "$workdir" ]]; then
  echo "usage: bash launch/slurm_submit.sh --config=<file> --workdir=<dir> [launch.sweep flags]" >&2
  exit 2
fi
if [[ "$workdir" == *://* ]]; then
  echo "error: --workdir=$workdir is a URL; use a POSIX path (e.g. a gcsfuse mount)" >&2
  exit 2
fi

mkdir -p logs
array_id=$(sbatch --parsable launch/slurm_array.sh "$@")
array_id=${array_id%%;*}              # --parsable prints "id" or "id;cluster"
if [[ ! "$array_id" =~ ^[0-9]+$ ]]; then
  echo "error: sbatch printed '$array_id', not a job id; no merge job queued" >&2
  exit 1
fi

# SBATCH_* variables apply to every sbatch call; the merge must not inherit an
# array range or a GPU request meant for the array job.
unset_vars=()
for var in $(compgen -e); do
  case $var in
    SBATCH_ARRAY_INX | SBATCH_GRES* | SBATCH_GPU* | SBATCH_*_GPU | SBATCH_TRES_PER_TASK)
      unset_vars+=(-u "$var") ;;
  esac
done
merge_id=$(env "${unset_vars[@]}" sbatch --parsable --dependency=afterok:"$array_id" \
  launch/slurm_merge.sh --workdir="$workdir")
merge_id=${merge_id%%;*}

echo "array job $array_id, merge job $merge_id (runs after the array succeeds)"
echo "follow:  squeue -j $array_id,$merge_id;  tail -f logs/featurespring-${array_id}_*.out"

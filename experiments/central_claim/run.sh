#!/usr/bin/env bash
# The six 10-seed sweeps behind experiments/central_claim/README.md (the pre-registered test
# of "best accuracy near the linear load curve") and experiments/bridge/README.md.
#
#   bash experiments/central_claim/run.sh [RUNS_DIR] [name ...]
#
# RUNS_DIR defaults to runs/central; names pick a subset (default: all, in the
# order below: the short S5/S6 sweeps first). Every sweep resumes from its
# checkpoints and a finished one is skipped, so the script can be killed and
# restarted across sessions; the wall time of each invocation that finished a
# chunk goes to RUNS_DIR/runtimes.tsv (experiments/runtimes.sh; a sweep split over several
# invocations has several lines; the report sums them).
#
# The configs run unchanged (full grids, 10 seeds, the paper's epochs) except
# for two settings that do not change training (experiments/central_claim/README.md,
# "Changes to this plan"): metrics are evaluated every 10 epochs instead of
# every epoch (the analysis reads the final epoch only), and chunks hold at
# most 32 nets so that a sweep fits beside other work on a 24 GiB machine. On
# an accelerator, run it as is; the chunk size there is a memory choice only.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs/central}
shift || true
mkdir -p "$RUNS"
source experiments/runtimes.sh
EXECUTION=(--config.dnn.eval_every=10 --config.chunk_size=32)
SELECTED=("$@")

run() {  # run NAME CONFIG [overrides...]
  local name=$1 config=$2
  shift 2
  if [[ ${#SELECTED[@]} -gt 0 && ! " ${SELECTED[*]} " =~ " $name " ]]; then
    return
  fi
  if [[ -f "$RUNS/$name/results.json" ]]; then
    echo "$name: finished, skipped"
    return
  fi
  timed_sweep "$RUNS/runtimes.tsv" "$name" "$(date -u +%FT%TZ)" "$RUNS/$name" \
    python -m launch.sweep --config="$config" --workdir="$RUNS/$name" "${EXECUTION[@]}" "$@"
  python -m launch.plot --workdir="$RUNS/$name"
}

run s5 experiments/s5_depth.py
run s6 experiments/s6_width.py --config.chunk_size=16
run fig1c experiments/fig1c_dropout.py
run fig1a experiments/fig1a_label_noise.py
run fig1d experiments/fig1d_batch_size.py
run fig1b experiments/fig1b_learning_rate.py

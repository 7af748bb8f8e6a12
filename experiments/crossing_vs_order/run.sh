#!/usr/bin/env bash
# The second test's sweeps (experiments/crossing_vs_order/README.md), both families:
# phase 1 (cheap runs: each row's crossing), the refined cells, phase 2 (full runs).
#
#   bash experiments/crossing_vs_order/run.sh [RUNS_DIR] [family ...]
#
# RUNS_DIR defaults to runs/crossing_vs_order; families: mnist_dropout,
# s7_fashion_noise (default both, in that order). Every sweep resumes from
# its checkpoints and a finished one is skipped, so the script can be killed
# and restarted across sessions; the cells file, once written, is never
# rewritten (phase 2's grid must not move under a resumed sweep). The wall
# time of each invocation that finished a chunk goes to RUNS_DIR/runtimes.tsv
# (experiments/runtimes.sh). Extra launch.sweep
# flags (e.g. smoke-test sizes) come from $SWEEP_ARGS.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs/crossing_vs_order}
shift || true
# A smoke test's finished sweeps would stand in for the plan's there (a
# finished sweep is skipped, and the report would read them).
if [[ -n "${RUNLOCAL:-}" && "$(realpath -m "$RUNS")" == "$(realpath -m runs/crossing_vs_order)" ]]; then
  echo "RUNLOCAL runs need a RUNS_DIR other than runs/crossing_vs_order" >&2
  exit 2
fi
mkdir -p "$RUNS"
source experiments/runtimes.sh
FAMILIES=("$@")
[[ ${#FAMILIES[@]} -gt 0 ]] || FAMILIES=(mnist_dropout s7_fashion_noise)
CONFIG=experiments/crossing_vs_order/sweep_config.py

run() {  # run NAME CONFIG_ARG
  local name=$1 arg=$2
  if [[ -f "$RUNS/$name/results.json" ]]; then
    echo "$name: finished, skipped"
    return
  fi
  # shellcheck disable=SC2086
  timed_sweep "$RUNS/runtimes.tsv" "$name" "$(date -u +%FT%TZ)" "$RUNS/$name" \
    python -m launch.sweep --config="$CONFIG:$arg" --workdir="$RUNS/$name" ${SWEEP_ARGS:-}
}

for family in "${FAMILIES[@]}"; do
  run "${family}_short" "family=$family${RUNLOCAL:+,runlocal}"
  cells="$RUNS/${family}_cells.json"
  [[ -f "$cells" ]] || python -m experiments.crossing_vs_order.refine \
    --short="$RUNS/${family}_short" --out="$cells"
  run "${family}_full" "family=$family,cells=$cells${RUNLOCAL:+,runlocal}"
done

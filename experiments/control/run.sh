#!/usr/bin/env bash
# The eight sweeps behind experiments/control/README.md (the load-curve controller against
# tuned fixed-dropout grids), then its report.
#
#   bash experiments/control/run.sh [RUNS_DIR] [setting ...]
#
# RUNS_DIR defaults to runs/control; settings pick a subset of fig1c,
# fashion_mnist, depth4, width50 (default: all, in that order). For each
# setting the controlled sweep and its fixed-rate baseline run with the
# configs unchanged; every sweep resumes from its checkpoints and a finished
# one is skipped, so the script can be killed and restarted across sessions.
# The wall time of each invocation that finished a chunk goes to RUNS_DIR/runtimes.tsv
# (experiments/runtimes.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs/control}
shift || true
mkdir -p "$RUNS"
source experiments/runtimes.sh
SELECTED=("$@")

run() {  # run NAME CONFIG
  local name=$1 config=$2
  if [[ -f "$RUNS/$name/results.json" ]]; then
    echo "$name: finished, skipped"
    return
  fi
  timed_sweep "$RUNS/runtimes.tsv" "$name" "$(date -u +%FT%TZ)" "$RUNS/$name" \
    python -m launch.sweep --config="$config" --workdir="$RUNS/$name"
}

for setting in fig1c fashion_mnist depth4 width50; do
  if [[ ${#SELECTED[@]} -gt 0 && ! " ${SELECTED[*]} " =~ " $setting " ]]; then
    continue
  fi
  case $setting in
    fig1c) arg="" ;;
    fashion_mnist) arg=":dataset=fashion_mnist" ;;
    depth4) arg=":depth=4" ;;
    width50) arg=":width=50" ;;
  esac
  run "control_$setting" "experiments/control/control_fig1c.py$arg"
  run "baseline_$setting" "experiments/control/baseline_fig1c.py$arg"
done
python -m experiments.control.report --runs="$RUNS"

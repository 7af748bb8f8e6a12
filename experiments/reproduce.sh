#!/usr/bin/env bash
# Every run behind docs/reproduction.md, at the scale used there (a 2-core CPU,
# about 2.5 hours in all, S2 one of them), then the report's numbers and figures.
#
#   bash experiments/reproduce.sh [RUNS_DIR] [name ...]
#
# RUNS_DIR defaults to runs/reproduction; names pick a subset (default: all,
# in the order below). Each finished sweep is skipped on a rerun (the sweep
# resumes from its checkpoints, and a merged result is kept), so the script can
# be interrupted and restarted. Wall times go to RUNS_DIR/runtimes.tsv.
#
# Scale, against the paper's (SPEC §2): 3 seeds per cell instead of 10; load
# curves and accuracies measured every 10 epochs (``eval_every``: training is
# unchanged, only the unused intermediate evaluations are skipped), except for
# the load-curve dynamics (Fig. 4), measured every epoch; Fig. 1(a) and S7 at
# 5 of the 9 noise levels, Fig. 1(b) at 5 of the 12 learning rates, Fig. 1(d)
# at 5 of the 10 batch sizes; S5/S6/S12 at 4 dropout rates; S6 without width
# 400; S2 at 100 + 100 epochs. Everything else is as in the configs. On a GPU,
# drop the overrides to run the paper's full grids.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs/reproduction}
shift || true
mkdir -p "$RUNS"

SCALE=(--config.seeds=3 --config.dnn.eval_every=10)
DROPOUTS4="--config.grid.dropout=(0.0,0.1,0.2,0.3)"
NOISE5="--config.grid.noise=(0.0,0.2,0.4,0.6,0.8)"

run() {  # run NAME CONFIG [overrides...]
  local name=$1 config=$2
  shift 2
  if [[ ${#SELECTED[@]} -gt 0 && ! " ${SELECTED[*]} " =~ " $name " ]]; then
    return
  fi
  local start=$SECONDS
  python -m launch.sweep --config="$config" --workdir="$RUNS/$name" "$@"
  python -m launch.plot --workdir="$RUNS/$name"
  printf '%s\t%d\t%s\n' "$name" $((SECONDS - start)) "$config $*" >> "$RUNS/runtimes.tsv"
}
SELECTED=("$@")

run fig1c experiments/fig1c_dropout.py "${SCALE[@]}"
run fig1a experiments/fig1a_label_noise.py "${SCALE[@]}" "$NOISE5"
run fig1d experiments/fig1d_batch_size.py "${SCALE[@]}" \
  "--config.grid.batch_size=(10,40,160,640,2560)"
run fig1b experiments/fig1b_learning_rate.py "${SCALE[@]}" \
  "--config.grid.learning_rate=(1e-4,1e-3,1e-2,5e-2,0.2)"
run s12 experiments/s12_regression.py "${SCALE[@]}" "$DROPOUTS4"
run s5 experiments/s5_depth.py "${SCALE[@]}" "$DROPOUTS4"
run s6 experiments/s6_width.py "${SCALE[@]}" "$DROPOUTS4" "--config.grid.width=(50,100,200)"
run fig4_dnn experiments/fig4_dynamics.py:engine=dnn
run fig4_springs experiments/fig4_dynamics.py:engine=springs
if [[ -f "$RUNS/fig4_dnn/results.json" && -f "$RUNS/fig4_springs/results.json" ]]; then
  python -m launch.plot --workdir="$RUNS/fig4_dnn" --beside="$RUNS/fig4_springs" \
    --outdir="$RUNS/fig4_beside"
fi
run fig5a experiments/fig5a_linear_dnn.py --config.dnn.eval_every=10
run s7a experiments/s7_fashion_mnist.py "${SCALE[@]}" "$NOISE5"
run s7b experiments/s7_fashion_mnist.py:optimizer=sgd "${SCALE[@]}" "$NOISE5"
run s2 experiments/s2_cnn_dropout.py "${SCALE[@]}" --config.dnn.num_epochs=200 \
  --config.dnn.dropout_switch_epoch=100
# The chain phase diagrams (Fig. 3, S13, S14) at the configs' full scale.
run fig3 experiments/fig3_springs.py
run s13 experiments/s13_springs_second_order.py
run s14 experiments/s14_springs_langevin.py

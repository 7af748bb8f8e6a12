#!/usr/bin/env bash
# Every long sweep of the docs, in order, resumable: the paper items that never
# ran (the no-BatchNorm Fig. 1(c), S7 on its full grid at 10 seeds: about 1.2 h),
# the pre-registered test's ten-seed grids (experiments/central_claim/README.md,
# also read by experiments/bridge/README.md and the reproduction; about 5 h, a
# rerun of published results), the bridge's dynamics fits with their two small
# sweeps (experiments/bridge/dynamics.md, which it rewrites), the rest of the reproduction
# (experiments/reproduction/README.md: about 2 h on 2 CPU cores at 3 seeds,
# several more since S7, S2 and the no-BatchNorm grid run at the paper's size,
# S2 alone about 7 h), and last the controller's evaluation
# (experiments/control/README.md, about 1.5 h; it finished on 2026-12-06 and
# its results are in that README, so it runs again only to regenerate them).
# Finished sweeps are skipped and unfinished chunks resume from their
# checkpoints, so after an interruption (a closed session, a preempted job)
# start it again:
#
#   setsid nohup nice -n 19 bash experiments/long_runs.sh > runs/long_runs.log 2>&1 &
#
# A fresh clone has no checkpoints, but it has every finished chunk: the
# parts, manifests and wall times under runs/ are committed (.gitignore keeps
# the checkpoints, logs and plots local), so a sweep spread over sessions or
# machines loses at most the chunks that were running. Commit them with
#
#   git add runs && git commit -m "runs: finished chunks"
#
# Then regenerate the docs from what finished:
#   python -m experiments.central_claim.report
#   python -m experiments.bridge.report
#   python -m experiments.reproduction.report --runs=runs/reproduction --out=experiments/reproduction/results \
#       --doc=experiments/reproduction/README.md
#   python -m experiments.control.report
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/central runs/control runs/reproduction
bash experiments/reproduction/run.sh runs/reproduction fig1c_no_batch_norm s7a s7b \
  >> runs/reproduction/log.txt 2>&1
bash experiments/central_claim/run.sh >> runs/central/log.txt 2>&1
mkdir -p runs/bridge_dynamics
python -m experiments.bridge.dynamics --num_candidates=32768 --refine_iterations=30 \
  >> runs/bridge_dynamics/log.txt 2>&1
bash experiments/reproduction/run.sh runs/reproduction >> runs/reproduction/log.txt 2>&1
bash experiments/control/run.sh >> runs/control/log.txt 2>&1

#!/usr/bin/env bash
# Every long sweep of the docs, in order, resumable: the controller's evaluation
# (experiments/control/README.md, about 1.5 h as measured in its runtimes.tsv; the
# estimate before it ran was 6-9 h; first because its matched-compute baselines are
# new results), the paper items that never ran (the no-BatchNorm Fig. 1(c), S7 on
# its full grid at 10 seeds: about 1.2 h), the pre-registered test's ten-seed grids
# (experiments/central_claim/README.md, also read by experiments/bridge/README.md; about
# 5 h, a rerun of published results), then the rest of the
# reproduction (experiments/reproduction/README.md: about 2 h on 2 CPU cores at
# 3 seeds, several more since S7, S2 and the no-BatchNorm grid run at the paper's
# size, S2 alone about 7 h, last). Finished sweeps are skipped and
# unfinished chunks resume from their checkpoints, so after an interruption
# (a closed session, a preempted job) start it again:
#
#   setsid nohup nice -n 19 bash experiments/long_runs.sh > runs/long_runs.log 2>&1 &
#
# Then regenerate the docs from what finished:
#   python -m experiments.control.report
#   python -m experiments.central_claim.report
#   python -m experiments.bridge.report
#   python -m experiments.reproduction.report --runs=runs/reproduction --out=experiments/reproduction/results \
#       --doc=experiments/reproduction/README.md
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/central runs/control runs/reproduction
bash experiments/control/run.sh >> runs/control/log.txt 2>&1
bash experiments/reproduction/run.sh runs/reproduction fig1c_no_batch_norm s7a s7b \
  >> runs/reproduction/log.txt 2>&1
bash experiments/central_claim/run.sh >> runs/central/log.txt 2>&1
bash experiments/reproduction/run.sh runs/reproduction >> runs/reproduction/log.txt 2>&1

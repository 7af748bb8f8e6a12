#!/usr/bin/env bash
# Every long sweep of the docs, in order, resumable: the pre-registered test's
# ten-seed grids (docs/central_claim.md, also read by docs/bridge.md), the
# rest of the reproduction (docs/reproduction.md, about 2 h on 2 CPU cores),
# then the controller's evaluation (docs/control.md, about 1.5 h as measured in
# its runtimes.tsv; the estimate before it ran was 6-9 h). The
# reproduction goes before the evaluation so that the two docs that
# share the ten-seed grids can be finished first. Finished sweeps are skipped and
# unfinished chunks resume from their checkpoints, so after an interruption
# (a closed session, a preempted job) start it again:
#
#   setsid nohup nice -n 19 bash experiments/long_runs.sh > runs/long_runs.log 2>&1 &
#
# Then regenerate the docs from what finished:
#   python experiments/central_claim_report.py
#   python experiments/bridge_report.py
#   python experiments/control_report.py
#   python experiments/reproduction_report.py --runs=runs/reproduction --out=docs/reproduction \
#       --doc=docs/reproduction.md
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/central runs/control runs/reproduction
bash experiments/central_claim.sh >> runs/central/log.txt 2>&1
bash experiments/reproduce.sh runs/reproduction >> runs/reproduction/log.txt 2>&1
bash experiments/control.sh >> runs/control/log.txt 2>&1

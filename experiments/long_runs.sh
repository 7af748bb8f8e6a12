#!/usr/bin/env bash
# Every long sweep of the docs, in order, resumable: the paper items that never
# ran (the no-BatchNorm Fig. 1(c), S7 on its full grid at 10 seeds: about 1.2 h),
# the pre-registered test's ten-seed grids (experiments/central_claim/README.md,
# also read by experiments/bridge/README.md and the reproduction; about 5 h, a
# rerun of published results), the bridge's dynamics fits with their two small
# sweeps (experiments/bridge/dynamics.md, which it rewrites; skipped once
# runs/bridge_dynamics/numbers.json exists), the rest of the reproduction
# (experiments/reproduction/README.md: about 2 h on 2 CPU cores at 3 seeds,
# several more since S7, S2 and the no-BatchNorm grid run at the paper's size,
# S2 alone about 7 h), the controller's evaluation
# (experiments/control/README.md, about 1.5 h; it finished on 2026-12-06 and
# its results are in that README, so it runs again only to regenerate them),
# and last the replication of the second pre-registered test
# (experiments/crossing_vs_order/README.md: the first run's working directory
# was never committed; about 2.9 h, as long as the first run took).
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
# A chunk of hours (S2's take 1.5 h) need not restart either: before a
# session ends, force-add its latest checkpoint, and the next clone resumes
# inside the chunk (the checkpoint records its sweep's config hash and data
# digest, so it never resumes another sweep or other data):
#
#   git add -f runs/reproduction/s2/checkpoints/chunk_00002.npz
#
# The run deletes it when the chunk finishes; `git add runs` stages that.
#
# Then regenerate the docs from what finished:
#   python -m experiments.central_claim.report
#   python -m experiments.bridge.report
#   python -m experiments.reproduction.report --runs=runs/reproduction --out=experiments/reproduction/results \
#       --doc=experiments/reproduction/README.md
#   python -m experiments.control.report
#   python -m experiments.crossing_vs_order.report   # once both families have finished
# Everything runs inside main, called on the last line: bash reads a script
# as it runs it, so a script edited while it runs (a later session's
# commit, during a run of hours) goes on from the wrong byte. On
# 2026-12-07 it stopped that way, with 'name: unbound variable', after
# lines were added above the step it was in. A function is read whole
# before it starts.
main() {
  set -uo pipefail
  cd "$(dirname "$0")/.."
  # `nice` alone does not make a setsid job yield: with the kernel's session
  # autogroups (sched_autogroup, on by default) every session gets a fair share
  # of the CPU whatever its processes' niceness, so the sweeps took half of a
  # 2-core machine from a test suite run beside them (measured 2026-12-07: the
  # suite took 31 min 50 s beside them, 14 min 40 s once their group was
  # niced). When this script leads its own session, its group takes its
  # niceness too.
  if [[ "$(ps -o sid= -p $$ | tr -d ' ')" == "$$" && -w /proc/self/autogroup ]]; then
    echo "$(nice)" 2> /dev/null > /proc/self/autogroup || true
  fi
  mkdir -p runs/central runs/control runs/reproduction runs/bridge_dynamics runs/crossing_vs_order
  # A step that fails does not stop the later ones (they are independent), but
  # it is named at the end and the script exits non-zero: on 2026-12-07 S2 had
  # stopped at once (out of memory) and only its log said so.
  failed=()
  step() {  # step NAME LOG COMMAND...
    local name=$1 log=$2
    shift 2
    echo "$(date -u +%FT%TZ) $name: started (log: $log)"
    if "$@" >> "$log" 2>&1; then
      echo "$(date -u +%FT%TZ) $name: done"
    else
      local status=$?
      echo "$(date -u +%FT%TZ) $name: FAILED with status $status (see $log)"
      failed+=("$name")
    fi
  }
  step "paper items" runs/reproduction/log.txt \
    bash experiments/reproduction/run.sh runs/reproduction fig1c_no_batch_norm s7a s7b
  step "central grids" runs/central/log.txt bash experiments/central_claim/run.sh
  # The fits are redone only when their numbers are missing: redone on another
  # host they move in the last digits and rewrite the committed docs for
  # nothing (delete runs/bridge_dynamics/numbers.json to redo them).
  if [[ -f runs/bridge_dynamics/numbers.json ]]; then
    echo "$(date -u +%FT%TZ) bridge dynamics: runs/bridge_dynamics/numbers.json exists, skipped"
  else
    step "bridge dynamics" runs/bridge_dynamics/log.txt \
      python -m experiments.bridge.dynamics --num_candidates=32768 --refine_iterations=30
  fi
  step "reproduction" runs/reproduction/log.txt bash experiments/reproduction/run.sh runs/reproduction
  step "controller" runs/control/log.txt bash experiments/control/run.sh
  step "second test (replication)" runs/crossing_vs_order/log.txt \
    bash experiments/crossing_vs_order/run.sh
  if ((${#failed[@]})); then
    echo "failed: ${failed[*]}"
    exit 1
  fi
  echo "all steps done"
}

main "$@"; exit $?

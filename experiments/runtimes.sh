# Sourced by the studies' run scripts: the wall time of each invocation that
# finished a chunk goes to a runtimes.tsv (name, seconds, note).
#
#   timed_sweep TSV NAME NOTE WORKDIR COMMAND...
#
# runs COMMAND (a sweep into WORKDIR) and appends a line only when a finished
# chunk (WORKDIR/parts/*.npz) is new or rewritten afterwards. A rerun that
# only merges finished chunks again (in every fresh clone, where results.json
# is not committed) takes seconds and is no runtime of the sweep; before
# 2026-12-07 such reruns were logged too and are still in the committed files
# (1 to 17 s lines). An invocation interrupted inside a chunk logs nothing, so
# a sweep's complete time is its result sidecar's (the sum over its chunks).
# A COMMAND that fails logs nothing and returns its status.

finished_chunks() {  # finished_chunks WORKDIR: "name mtime" per finished chunk
  # find fails on a workdir not made yet, which pipefail and set -e would make fatal
  { find "$1/parts" -maxdepth 1 -name '*.npz' -printf '%f %T@\n' 2> /dev/null || true; } | sort
}

timed_sweep() {
  local tsv=$1 name=$2 note=$3 workdir=$4
  shift 4
  local before start=$SECONDS
  before=$(finished_chunks "$workdir")
  "$@" || return
  if [[ -n "$(comm -13 <(echo "$before") <(finished_chunks "$workdir"))" ]]; then
    printf '%s\t%d\t%s\n' "$name" $((SECONDS - start)) "$note" >> "$tsv"
  fi
}

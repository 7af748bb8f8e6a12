# Sourced by the studies' run scripts: the wall time of each invocation that
# trained goes to a runtimes.tsv (name, seconds, note).
#
#   timed_sweep TSV NAME NOTE WORKDIR COMMAND...
#
# runs COMMAND (a sweep into WORKDIR) and appends a line only when WORKDIR has
# more finished chunks (parts/*.npz) afterwards than before. A rerun that only
# merges finished chunks again (in every fresh clone, where results.json is
# not committed) takes seconds and is no runtime of the sweep; before
# 2026-12-07 such reruns were logged too and are still in the committed files
# (1 to 17 s lines). A COMMAND that fails logs nothing and returns its status.

finished_chunks() {  # finished_chunks WORKDIR
  # compgen fails when nothing matches, which pipefail and set -e would make fatal
  { compgen -G "$1/parts/*.npz" || true; } | wc -l
}

timed_sweep() {
  local tsv=$1 name=$2 note=$3 workdir=$4
  shift 4
  local before start=$SECONDS
  before=$(finished_chunks "$workdir")
  "$@" || return
  if (($(finished_chunks "$workdir") > before)); then
    printf '%s\t%d\t%s\n' "$name" $((SECONDS - start)) "$note" >> "$tsv"
  fi
}

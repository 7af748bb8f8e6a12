"""The studies' ``runtimes.tsv``: one line per run-script invocation that finished a chunk.

``experiments/runtimes.sh`` writes them (name, wall seconds, a note: the
command or a UTC timestamp); a sweep split over several invocations has
several lines, and the reports sum them.
"""

import collections
import os


def read_rows(path):
  """The file's lines as ``{"name", "seconds", "note"}`` dicts, in order; none if it is missing.

  A line cut short while a run script was writing it (no name or no seconds)
  is skipped.
  """
  rows = []
  if not os.path.exists(path):
    return rows
  with open(path) as f:
    for line in f:
      parts = line.rstrip("\n").split("\t")
      if len(parts) < 2 or not parts[0].strip():
        continue
      try:
        seconds = float(parts[1])
      except ValueError:
        continue
      rows.append({"name": parts[0], "seconds": seconds, "note": "\t".join(parts[2:])})
  return rows


def per_name(path):
  """Summed seconds and number of invocations per name: ``{name: {"seconds", "invocations"}}``."""
  seconds, count = collections.defaultdict(float), collections.defaultdict(int)
  for row in read_rows(path):
    seconds[row["name"]] += row["seconds"]
    count[row["name"]] += 1
  return {name: {"seconds": seconds[name], "invocations": count[name]} for name in seconds}


def wall_time_words(seconds, unrecorded=()):
  """A result's wall time (``featurespring.sweep.total_wall_time``) for a doc: "-" if
  unknown, and a lower bound naming the chunks whose time before a resume
  went unrecorded."""
  if seconds is None:
    return "-"
  text = f"{seconds:.0f} s"
  if unrecorded:
    text = f"at least {text} ({', '.join(unrecorded)}: resumed, the time before the resume not recorded)"
  return text

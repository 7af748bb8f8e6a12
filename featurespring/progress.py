"""Periodic progress lines of sweeps and grids: chunk, unit, nets/s or chains/s, ETA.

A log line rather than a terminal bar, so batch-job logs stay readable; it is
printed every ``log_every_s`` seconds and at the end of every chunk: through
absl logging under ``launch`` (``app.run``), else to stderr, so that a
notebook or a script shows it too. The rate and ETA leave out the calls that
compiled (the first of each static group): until a call has run without
compiling, the ETA is shown as unknown rather than guessed from a rate that
a compile inflated (it was 2.3x too high on the main job's first line).
"""

from __future__ import annotations

import datetime
import time

import sys

from absl import flags
from absl import logging


def _duration(seconds: float) -> str:
  return str(datetime.timedelta(seconds=int(max(seconds, 0))))


def _rate(per_second: float) -> str:
  # Three significant figures: a CNN sweep runs at 0.5 net-epochs/s, a
  # spring sweep at 10^6 net-steps/s.
  return f"{per_second:,.0f}" if abs(per_second) >= 100 else f"{per_second:.3g}"


def default_emit(line: str) -> None:
  """absl INFO under ``app.run`` (the command line), else a line on stderr."""
  if flags.FLAGS.is_parsed():
    logging.info(line)
  else:
    print(line, file=sys.stderr, flush=True)


def silent(line: str) -> None:
  """Drops a progress line (``progress=False``)."""
  del line


class Progress:
  """Tracks one task's work: ``total_work`` member-units over all its chunks.

  One member-unit is one net (or chain) advanced by one unit (an epoch, or a
  block of chain steps). The line shows member-units per second and the same
  rate in whole runs (nets/s, chains/s), both comparable across chunk sizes.
  """

  def __init__(
      self,
      num_chunks: int,
      total_work: int,
      unit_name: str,
      log_every_s: float = 10.0,
      clock=time.monotonic,
      member_name: str = "net",
      emit=None,
  ):
    self._num_chunks = num_chunks
    self._total_work = max(total_work, 1)
    self._unit_name = unit_name
    self._log_every_s = log_every_s
    self._clock = clock
    self._member_name = member_name
    self._emit = default_emit if emit is None else emit
    self._start = self._last_log = self._last_update = clock()
    self._done = 0
    # Time and work of calls that also compiled: left out of the rate, so the
    # ETA is not inflated by compiles that will not recur.
    self._compile_s = 0.0
    self._compile_work = 0
    self.lines: list[str] = []  # kept for tests and summaries

  def skip(self, work: int) -> None:
    """Counts work that needs no running (finished or restored) toward ETA."""
    self._total_work = max(self._total_work - work, 1)

  def update(
      self,
      chunk_position: int,
      chunk_name: str,
      unit: int,
      num_units: int,
      work: int,
      force: bool = False,
      compiled: bool = False,
      summary: str | None = None,
  ) -> None:
    """Records ``work`` member-units done; logs if it is time to.

    Args:
      chunk_position: the chunk's position among this task's chunks.
      chunk_name: its name.
      unit: units of the chunk done so far.
      num_units: units per run.
      work: member-units done since the last update.
      force: log now (end of a chunk).
      compiled: this work's call also traced and compiled; its time and work
        are left out of the rate behind the ETA.
      summary: a population summary appended to the line (e.g. loss and
        accuracy quantiles); logged on its own line at every update.
    """
    now = self._clock()
    self._done += work
    if compiled:
      self._compile_s += now - self._last_update
      self._compile_work += work
    self._last_update = now
    if summary:
      self._emit(f"{chunk_name} {self._unit_name} {unit}/{num_units}: {summary}")
    if not force and now - self._last_log < self._log_every_s:
      return
    self._last_log = now
    elapsed = now - self._start
    steady_s, steady_work = elapsed - self._compile_s, self._done - self._compile_work
    steady = steady_work > 0 and steady_s > 0
    if steady:
      rate = steady_work / steady_s
    else:  # only compiling calls so far: their rate, but no ETA from it
      rate = self._done / elapsed if elapsed > 0 else float("nan")
    remaining = self._total_work - self._done
    if remaining <= 0:
      eta = "0:00:00"
    elif steady and rate > 0:
      eta = _duration(remaining / rate)
    else:
      eta = "? (after the first call that does not compile)"
    member = self._member_name
    line = (
        f"chunk {chunk_position + 1}/{self._num_chunks} ({chunk_name}) "
        f"{self._unit_name} {unit}/{num_units} | {_rate(rate)} {member}-{self._unit_name}s/s"
        f" = {rate / max(num_units, 1):,.2f} {member}s/s"
        f" | elapsed {_duration(elapsed)} | ETA {eta}"
    )
    self.lines.append(line)
    self._emit(line)

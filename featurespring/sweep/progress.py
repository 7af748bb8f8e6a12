"""Periodic progress lines: chunk, unit (epoch / record step), nets/s, ETA.

A log line rather than a terminal bar, so batch-job logs stay readable; it is
printed every ``log_every_s`` seconds and at the end of every chunk. The rate
and ETA leave out the calls that compiled (the first of each static group),
so a sweep's ETA is right from its second call on.
"""

from __future__ import annotations

import datetime
import time

from absl import logging


def _duration(seconds: float) -> str:
  return str(datetime.timedelta(seconds=int(max(seconds, 0))))


def _rate(per_second: float) -> str:
  # Three significant figures: a CNN sweep runs at 0.5 net-epochs/s, a
  # spring sweep at 10^6 net-steps/s.
  return f"{per_second:,.0f}" if abs(per_second) >= 100 else f"{per_second:.3g}"


class Progress:
  """Tracks one task's work: ``total_work`` member-units over all its chunks.

  One member-unit is one net (or chain) advanced by one unit (an epoch, or a
  block of chain steps). The line shows member-units per second and the same
  rate in whole runs (nets/s), both comparable across chunk sizes.
  """

  def __init__(
      self,
      num_chunks: int,
      total_work: int,
      unit_name: str,
      log_every_s: float = 10.0,
      clock=time.monotonic,
  ):
    self._num_chunks = num_chunks
    self._total_work = max(total_work, 1)
    self._unit_name = unit_name
    self._log_every_s = log_every_s
    self._clock = clock
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
      logging.info("%s %s %d/%d: %s", chunk_name, self._unit_name, unit, num_units, summary)
    if not force and now - self._last_log < self._log_every_s:
      return
    self._last_log = now
    elapsed = now - self._start
    steady_s, steady_work = elapsed - self._compile_s, self._done - self._compile_work
    if steady_work > 0 and steady_s > 0:
      rate = steady_work / steady_s
    else:  # only compiling calls so far: the best estimate there is
      rate = self._done / elapsed if elapsed > 0 else float("nan")
    eta = (self._total_work - self._done) / rate if rate > 0 else float("nan")
    line = (
        f"chunk {chunk_position + 1}/{self._num_chunks} ({chunk_name}) "
        f"{self._unit_name} {unit}/{num_units} | {_rate(rate)} net-{self._unit_name}s/s"
        f" = {rate / max(num_units, 1):,.2f} nets/s"
        f" | elapsed {_duration(elapsed)} | ETA {_duration(eta) if eta == eta else '?'}"
    )
    self.lines.append(line)
    logging.info(line)

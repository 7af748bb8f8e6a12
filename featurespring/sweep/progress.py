"""Periodic progress lines: chunk, unit (epoch / record step), nets/s, ETA.

A log line rather than a terminal bar, so batch-job logs stay readable; it is
printed every ``log_every_s`` seconds and at the end of every chunk.
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

  def __init__(self, num_chunks: int, total_work: int, unit_name: str,
               log_every_s: float = 10.0, clock=time.monotonic):
    self._num_chunks = num_chunks
    self._total_work = max(total_work, 1)
    self._unit_name = unit_name
    self._log_every_s = log_every_s
    self._clock = clock
    self._start = self._last_log = clock()
    self._done = 0
    self.lines: list[str] = []  # kept for tests and summaries

  def skip(self, work: int) -> None:
    """Counts work that needs no running (finished or restored) toward ETA."""
    self._total_work = max(self._total_work - work, 1)

  def update(self, chunk_position: int, chunk_name: str, unit: int,
             num_units: int, work: int, force: bool = False) -> None:
    """Records ``work`` member-units done; logs if it is time to."""
    self._done += work
    now = self._clock()
    if not force and now - self._last_log < self._log_every_s:
      return
    self._last_log = now
    elapsed = now - self._start
    rate = self._done / elapsed if elapsed > 0 else float("nan")
    eta = (self._total_work - self._done) / rate if rate > 0 else float("nan")
    line = (f"chunk {chunk_position + 1}/{self._num_chunks} ({chunk_name}) "
            f"{self._unit_name} {unit}/{num_units} | {_rate(rate)} net-{self._unit_name}s/s"
            f" = {rate / max(num_units, 1):,.2f} nets/s"
            f" | elapsed {_duration(elapsed)} | ETA {_duration(eta) if eta == eta else '?'}")
    self.lines.append(line)
    logging.info(line)

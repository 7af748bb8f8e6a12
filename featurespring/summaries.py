"""Live per-unit summaries of a running sweep: JSONL and TensorBoard event files.

Switched on by ``config.progress.summaries`` (``"jsonl"``, ``"tensorboard"``
or both, comma-separated; empty: off). Each chunk writes under
``<workdir>/summaries/<chunk>/``: ``scalars.jsonl`` (one JSON object per line:
``{"unit": 12, "accuracy/median": 0.91, ...}``, readable with
``pandas.read_json(path, lines=True)``) and, for ``tensorboard``, event files
that ``tensorboard --logdir <workdir>/summaries`` shows as one run per chunk.
What is summarised is the engine's (`Engine.scalars`): for networks the
median and 10 / 90 % quantiles over the chunk's nets of the loss, accuracies
and load-curve curvature at every evaluated epoch, and the fractions stopped
and diverged; for chains the curvature quantiles and the fraction diverged
after every segment.

A resumed chunk appends from its checkpoint on, so a unit may appear twice;
its values are the same both times (a resumed run equals an uninterrupted
one). Summaries are a view for people watching a run; the results are
``results.npz``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

KINDS = ("jsonl", "tensorboard")


def parse_kinds(spec: str) -> tuple[str, ...]:
  """``"jsonl,tensorboard"`` -> the writer kinds; a ValueError names the field."""
  kinds = tuple(k.strip() for k in str(spec or "").split(",") if k.strip())
  unknown = sorted(set(kinds) - set(KINDS))
  if unknown:
    raise ValueError(
        f"config.progress.summaries names unknown writers {unknown}; allowed: "
        f"{', '.join(KINDS)} (comma-separated), or empty for none"
    )
  if "tensorboard" in kinds:
    try:
      import tensorboardX  # pylint: disable=g-import-not-at-top,unused-import
    except ImportError as err:
      raise ValueError(
          "config.progress.summaries=tensorboard needs tensorboardX: "
          "pip install 'featurespring[tensorboard]'"
      ) from err
  return kinds


def quantiles(name: str, values, valid=None) -> dict[str, float]:
  """``{name/q10, name/median, name/q90}`` over the finite (and ``valid``) values."""
  values = np.asarray(values, np.float64)
  keep = np.isfinite(values) if valid is None else np.isfinite(values) & np.asarray(valid, bool)
  if not keep.any():
    return {}
  q10, median, q90 = np.quantile(values[keep], (0.1, 0.5, 0.9))
  return {f"{name}/q10": float(q10), f"{name}/median": float(median), f"{name}/q90": float(q90)}


class Writer:
  """The summary writers of one chunk (a no-op without kinds)."""

  def __init__(self, logdir: str, kinds: Sequence[str]):
    self._kinds = tuple(kinds)
    self._jsonl = None
    self._events = None
    if not self._kinds:
      return
    os.makedirs(logdir, exist_ok=True)
    if "jsonl" in self._kinds:
      self._jsonl = open(os.path.join(logdir, "scalars.jsonl"), "a", encoding="utf-8")
    if "tensorboard" in self._kinds:
      import tensorboardX  # pylint: disable=g-import-not-at-top

      self._events = tensorboardX.SummaryWriter(logdir=logdir)

  def write(self, unit: int, scalars: Mapping[str, float]) -> None:
    """One unit's scalars (non-finite ones left out)."""
    finite = {k: float(v) for k, v in scalars.items() if math.isfinite(float(v))}
    if not finite:
      return
    if self._jsonl is not None:
      self._jsonl.write(json.dumps({"unit": int(unit), **finite}, sort_keys=True) + "\n")
      self._jsonl.flush()
    if self._events is not None:
      for name, value in finite.items():
        self._events.add_scalar(name, value, global_step=int(unit))
      self._events.flush()

  def close(self) -> None:
    if self._jsonl is not None:
      self._jsonl.close()
    if self._events is not None:
      self._events.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()

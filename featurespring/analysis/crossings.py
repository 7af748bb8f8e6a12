"""Where a row of cells changes sign, and the latest evaluated entry of a history.

Positions are fractional column indices (the phase diagram draws cells at
integer positions); :func:`x_at` maps one back to the axis value.
"""

from __future__ import annotations

import numpy as np


def zero_crossings(row):
  """Fractional column indices where ``row`` changes sign (linear interpolation).

  Only adjacent finite columns count; an exact zero is a crossing at its column.
  """
  row = np.asarray(row, np.float64)
  found = []
  for j in range(len(row) - 1):
    a, b = row[j], row[j + 1]
    if not (np.isfinite(a) and np.isfinite(b)):
      continue
    if a == 0.0:
      found.append(float(j))
    elif a * b < 0:
      found.append(j + a / (a - b))
  if len(row) and row[-1] == 0.0:
    found.append(float(len(row) - 1))
  return found


def x_at(index, values, log=False):
  """The axis value at a fractional column ``index`` of ``values``.

  Linear between columns, or geometric with ``log`` (a log-spaced axis such
  as the learning rate) when every value is positive.
  """
  columns = np.arange(len(values))
  values = np.asarray(values, np.float64)
  if log and np.all(values > 0):
    return float(np.exp(np.interp(index, columns, np.log(values))))
  return float(np.interp(index, columns, values))


def last_finite(values, upto):
  """Entries at the last finite position ``<= upto`` along the last axis.

  Per-epoch histories are NaN at epochs that were not evaluated
  (``config.dnn.eval_every``); this picks the latest evaluated one.

  Returns:
    ``(value, index)``: ``[...]`` values (NaN where none is finite) and the
    0-based positions used (``-1`` where none).
  """
  values = np.asarray(values, np.float64)[..., : upto + 1]
  finite = np.isfinite(values)
  positions = np.where(finite, np.arange(values.shape[-1]), -1).max(-1)
  picked = np.take_along_axis(values, np.maximum(positions, 0)[..., None], -1)[..., 0]
  return np.where(positions >= 0, picked, np.nan), positions

"""User arrays converted to the dtypes the engines compute with, checked after the cast.

A check made before a cast passes values the cast then changes: float64
``1e39`` is finite, and ``inf`` in float32; a complex array loses its
imaginary part; a float label ``1.7`` becomes class 1. Each function here
converts first and checks what will actually be used, raising a
``ValueError`` that names the array, the values and the first example.
"""

from __future__ import annotations

import numpy as np

# Largest integer label int32 holds; beyond it the conversion would wrap.
_INT32_END = int(np.iinfo(np.int32).max) + 1


def _first_bad(name: str, bad: np.ndarray, values: np.ndarray, what: str) -> ValueError:
  """A ``ValueError`` listing up to 3 of ``values[bad]`` and where they are."""
  examples = np.unique(np.nonzero(bad)[0]) if bad.ndim else np.zeros(1, np.int64)
  return ValueError(
      f"{name} holds {what} {values[bad][:3].tolist()} in {examples.size} example(s), "
      f"the first at index {examples[0]}"
  )


def float32(name: str, values) -> np.ndarray:
  """``values`` as a float32 NumPy array, every value finite in float32.

  Raises:
    ValueError: for a non-real dtype (complex, strings, objects), non-finite
      values, or values beyond float32's range (which would become inf).
  """
  values = np.asarray(values)
  if values.dtype.kind not in "biuf":
    raise ValueError(f"{name} must hold real numbers, got dtype {values.dtype}")
  with np.errstate(over="ignore"):
    converted = values.astype(np.float32)
  bad = ~np.isfinite(converted)
  if np.any(bad):
    if np.all(np.isfinite(values[bad])):
      raise _first_bad(name, bad, values, "values beyond float32's range (|x| > 3.4e38)")
    raise _first_bad(name, bad, values, "non-finite values")
  return converted


def int32_labels(name: str, labels, num_classes: int | None = None) -> np.ndarray:
  """Class labels as int32, each an integer in ``[0, num_classes)``.

  Without ``num_classes`` only labels no class count allows are refused:
  negative ones and ones int32 cannot hold. Floats that are whole numbers
  (``3.0``) are labels; ``1.7`` is refused, not truncated.

  Raises:
    ValueError: for another dtype, a non-integral float, or a label out of range.
  """
  labels = np.asarray(labels)
  if labels.dtype.kind == "f":
    with np.errstate(invalid="ignore"):
      bad = ~np.isfinite(labels) | (labels != np.trunc(labels))
    if np.any(bad):
      raise _first_bad(name, bad, labels, "class labels that are not whole numbers")
  elif labels.dtype.kind not in "iub":
    raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
  high = _INT32_END if num_classes is None else num_classes
  bad = (labels < 0) | (labels >= high)
  if np.any(bad):
    values, counts = np.unique(labels[bad], return_counts=True)
    listed = ", ".join(
        f"{v} ({c} example{'s' if c > 1 else ''})" for v, c in zip(values[:5], counts[:5])
    )
    more = f", ... ({values.size} values)" if values.size > 5 else ""
    raise ValueError(f"{name} holds labels outside [0, {high}): {listed}{more}")
  return labels.astype(np.int32)

"""Fluctuations of a chain's load curve once it has settled (paper Fig. 2).

With independent noise each block moves on its own; with synchronous noise
(one draw shared by all blocks) they move together. The final load curves
agree; these statistics tell the two apart.
"""

from __future__ import annotations

import numpy as np


def stationary_half(trajectory):
  """The snapshots of the run's second half, ``[..., T - T // 2, layers]``.

  A chain of paper Fig. 2 settles within the first half of its run; what
  moves in the second is fluctuation about the final state.
  """
  trajectory = np.asarray(trajectory, np.float64)
  return trajectory[..., trajectory.shape[-2] // 2 :, :]


def increment_correlation(trajectory):
  """Mean correlation across blocks of the load curves' increments, per run.

  The increments ``d_l(t') - d_l(t)`` of blocks ``l = 1..L`` between
  consecutive snapshots of :func:`stationary_half`, correlated over time for
  every pair of blocks, averaged over the pairs. Shared kicks (synchronous
  noise) move the sliding blocks together, so it is near 1; independent
  kicks correlate blocks only through the springs, so it is near 0.

  Args:
    trajectory: ``[..., T, L + 1]`` load curves over time.

  Returns:
    ``[...]``; NaN for a run with a block that did not move, a non-finite
    snapshot, or fewer than two blocks.
  """
  steps = np.diff(stationary_half(trajectory)[..., 1:], axis=-2)  # [..., T', L]
  num_blocks = steps.shape[-1]
  if num_blocks < 2:
    return np.full(steps.shape[:-2], np.nan)
  centred = steps - steps.mean(axis=-2, keepdims=True)
  cov = np.einsum("...tl,...tm->...lm", centred, centred)
  scale = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
  with np.errstate(divide="ignore", invalid="ignore"):
    corr = cov / (scale[..., :, None] * scale[..., None, :])
  return corr[..., ~np.eye(num_blocks, dtype=bool)].mean(axis=-1)

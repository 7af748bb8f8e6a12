"""Statistics over seeds and cells: means, signs, correlations with bootstrap CIs.

Pure NumPy (ranks from SciPy). Diverged runs are passed in as NaN and left
out of every statistic:

* :func:`cell_stats`: mean, sample std (``ddof=1``) and count over seeds;
* :func:`sign_pattern`: a cell's curvature is ``+`` / ``-`` when its mean lies
  more than :data:`SIGN_SE_FACTOR` standard errors above / below zero *and*
  farther from zero than :data:`SIGN_MIN_EFFECT`;
* :func:`curvature_accuracy_correlation`: |mean curvature| against mean
  accuracy over cells, with a bootstrap over seeds within cells, drawn from
  :func:`bootstrap_rng` (one generator per analysis, so each number is
  independent of which others were computed).
"""

from __future__ import annotations

import contextlib
import math
import warnings
import zlib

import numpy as np
from scipy import stats

# A cell's sign is nonzero beyond this many standard errors (std / sqrt(n)).
SIGN_SE_FACTOR = 2.0
# ... and only where |mean| also exceeds this absolute floor (curvature units:
# log-separation for networks, target lengths for spring chains). Significance
# alone is no effect size: with zero seed spread (a deterministic setting, all
# seeds identical) or a single seed there is no standard error, and a mean of
# 1e-6 would count. 1e-3 is about the float32 round-off of a curvature: the
# trace separation is good to c * 6e-5 with c of order 1-10
# (`metrics.separation`), the pinv separation to about 6e-4
# (`metrics.separation_pinv`), and a curvature d_0 - d_{L-1} combines four
# separations; a smaller mean cannot be told from arithmetic noise. The
# curvatures discussed in experiments/reproduction/README.md are 0.01 and larger.
SIGN_MIN_EFFECT = 1e-3
# A row counts as "curvature increases with noise" when its Spearman
# correlation with the noise direction is at least this.
MONOTONE_RHO = 0.8


@contextlib.contextmanager
def quiet():
  """Silences NumPy's RuntimeWarnings: all-NaN cells (every net diverged) are expected."""
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    yield


def cell_stats(values):
  """``(mean, std, n)`` over the last (seed) axis, NaN entries left out.

  ``std`` is the sample std (``ddof=1``), NaN with fewer than two entries.
  """
  values = np.asarray(values, np.float64)
  n = np.isfinite(values).sum(-1)
  with quiet():
    mean = np.nanmean(values, -1)
    std = np.where(n >= 2, np.nanstd(values, -1, ddof=1), np.nan)[()]  # [()]: 0-d -> scalar
  return mean, std, n


def stats_entry(values):
  """:func:`cell_stats` as a dict ``{"mean", "std", "n"}``."""
  mean, std, n = cell_stats(values)
  return {"mean": mean, "std": std, "n": n}


def sign_pattern(mean, std, n, factor=SIGN_SE_FACTOR, min_effect=SIGN_MIN_EFFECT):
  """The sign of each cell's mean: ``'+'``, ``'-'``, ``'0'`` or ``'.'`` (no data).

  A cell is ``'+'`` (``'-'``) when its mean is above (below) zero by more than
  both

  * ``factor`` standard errors, ``factor * std / sqrt(n)`` (significance), and
  * ``min_effect`` (effect size: see :data:`SIGN_MIN_EFFECT`).

  Otherwise it is ``'0'``; a non-finite mean (every seed diverged) is ``'.'``.
  With ``n < 2`` (no standard error) or a zero ``std`` (seeds that agree
  exactly) the standard error counts as 0, so the floor alone decides: such a
  cell is never significant by its lack of spread alone (a deterministic
  ``1e-6`` is ``'0'``, a deterministic ``0.3`` is ``'+'``). Ordinary cells,
  with some spread, need both conditions; the floor only changes those with
  ``|mean| <= min_effect``. A NaN ``std`` with ``n >= 2`` gives ``'0'``.

  Args:
    mean: cell means (any shape).
    std: sample std over seeds, same shape (NaN with fewer than two seeds).
    n: number of valid seeds, same shape.
    factor: standard errors needed.
    min_effect: absolute floor on ``|mean|`` (0 turns it off).

  Returns:
    A ``<U1`` array of ``mean``'s shape.
  """
  mean, std, n = (np.asarray(a, np.float64) for a in (mean, std, n))
  with quiet():
    standard_error = np.where(n >= 2, std / np.sqrt(np.maximum(n, 1)), 0.0)
  # np.maximum keeps a NaN standard error NaN: no comparison passes, so '0'.
  threshold = np.maximum(factor * standard_error, min_effect)
  signs = np.full(mean.shape, "0", dtype="<U1")
  signs[mean > threshold] = "+"
  signs[mean < -threshold] = "-"
  signs[~np.isfinite(mean)] = "."
  return signs


def _deviations(values, centred):
  """``centred`` with rounding residue (relative to ``values``' scale) set to exactly 0.

  The mean of equal floats can be off by an ulp; left in, that residue would
  correlate as if it were data (a constant accuracy row is not "anticorrelated").
  """
  scale = np.abs(values).max(-1, keepdims=True)
  return np.where(np.abs(centred) <= 1e-12 * scale, 0.0, centred)


def pearson(x, y):
  """Pearson correlation over the last axis, vectorised; NaN without variance."""
  x = _deviations(x, x - x.mean(-1, keepdims=True))
  y = _deviations(y, y - y.mean(-1, keepdims=True))
  den = np.sqrt((x * x).sum(-1) * (y * y).sum(-1))
  with quiet():
    return np.where(den > 0, (x * y).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def spearman(x, y):
  """Spearman correlation (Pearson of average-tie ranks) over the last axis."""
  return pearson(stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1))


def leave_one_out_fit(y, features):
  """Leave-one-out least-squares predictions of ``y [..., rows]`` from ``features [rows, P]``.

  Each row is predicted by the fit (intercept + features) to the other rows
  with a finite ``y``; NaN where those rows do not determine the fit. The
  fit is linear in ``y``, so resamples without NaN share one weight matrix.
  """
  y = np.asarray(y, np.float64)
  num_rows = y.shape[-1]
  design_matrix = np.column_stack([np.ones(num_rows), np.asarray(features, np.float64)])

  def weights(valid):
    w = np.full((num_rows, num_rows), np.nan)
    for r in range(num_rows):
      others = valid & (np.arange(num_rows) != r)
      x = design_matrix[others]
      if np.linalg.matrix_rank(x) == x.shape[1]:
        w[r] = 0.0
        w[r, others] = design_matrix[r] @ np.linalg.pinv(x)
    return w

  flat = y.reshape(-1, num_rows)
  out = np.empty_like(flat)
  complete = np.isfinite(flat).all(-1)
  if complete.any():
    out[complete] = flat[complete] @ weights(np.ones(num_rows, bool)).T
  for b in np.flatnonzero(~complete):
    valid = np.isfinite(flat[b])
    out[b] = np.where(valid, flat[b], 0.0) @ weights(valid).T
  return out.reshape(y.shape)


def bootstrap_rng(seed, label):
  """The generator of one analysis: ``seed`` and a CRC of ``label`` (``"fig1c/row/0"``)."""
  return np.random.default_rng([seed, zlib.crc32(label.encode())])


def curvature_accuracy_correlation(
    curvature, accuracy, rng, num_boot=2000, groups=None, ci=0.95, block=250
):
  """Correlation of |mean curvature| with mean accuracy over cells, bootstrap CI.

  The point estimate correlates, over cells, ``|mean over seeds of the
  curvature|`` with the mean over seeds of the accuracy. The bootstrap
  resamples each cell's seeds with replacement, independently per cell,
  recomputes both cell means, takes ``|mean curvature|`` and correlates
  again; the CI is the percentile interval of those correlations.

  A net counts only where both of its values are finite: diverged nets are
  passed as NaN and drop out of both means (and of the resampling). Cells
  without any such net are left out.

  Args:
    curvature: ``[..., seeds]`` per-net curvature; leading axes are cells.
    accuracy: same shape: per-net accuracy (or any score).
    rng: ``np.random.Generator``: the result is a function of its state.
    num_boot: bootstrap resamples.
    groups: optional ``[...]`` labels of the cells (e.g. the grid row): both
      variables are then centred within each group, in the estimate and in
      every resample, so only within-group variation is correlated (the
      partial correlation given the group). Groups of one cell are dropped.
    ci: coverage of the interval.
    block: resamples drawn at a time (bounds the memory).

  Returns:
    A dict: ``pearson``, ``spearman`` (point estimates), ``pearson_ci``,
    ``spearman_ci`` (``[low, high]``), ``num_cells``, ``num_nets``,
    ``num_boot``, ``centred``.
  """
  curvature = np.asarray(curvature, np.float64)
  accuracy = np.asarray(accuracy, np.float64)
  if curvature.shape != accuracy.shape or curvature.ndim < 1:
    raise ValueError(
        f"curvature and accuracy need one shape [..., seeds], got "
        f"{curvature.shape} and {accuracy.shape}"
    )
  num_seeds = curvature.shape[-1]
  curvature = curvature.reshape(-1, num_seeds)
  accuracy = accuracy.reshape(-1, num_seeds)
  valid = np.isfinite(curvature) & np.isfinite(accuracy)
  counts = valid.sum(-1)
  keep = counts > 0
  if groups is not None:
    groups = np.asarray(groups).reshape(-1)
    if groups.shape[0] != keep.shape[0]:
      raise ValueError(f"groups needs one label per cell ({keep.shape[0]}), got {groups.shape}")
    _, inverse, sizes = np.unique(groups[keep], return_inverse=True, return_counts=True)
    # A lone cell is exactly 0 after centring: it carries no information.
    keep[np.flatnonzero(keep)[sizes[inverse] < 2]] = False
  curvature, accuracy, valid, counts = (a[keep] for a in (curvature, accuracy, valid, counts))
  # Valid seeds first in each cell, so a cell's resample draws positions < its count.
  order = np.argsort(~valid, axis=-1, kind="stable")
  curvature = np.where(valid, curvature, 0.0)
  accuracy = np.where(valid, accuracy, 0.0)
  # Only as many columns as the fullest cell: NaN padding of the seed axis
  # (grids with fewer seeds, pooled) then draws the same random numbers.
  num_seeds = int(counts.max()) if counts.size else 0
  curvature = np.take_along_axis(curvature, order, -1)[:, :num_seeds]
  accuracy = np.take_along_axis(accuracy, order, -1)[:, :num_seeds]
  num_cells = int(keep.sum())
  out = {
      "num_cells": num_cells,
      "num_nets": int(counts.sum()),
      "num_boot": int(num_boot),
      "centred": groups is not None,
      "pearson": math.nan,
      "spearman": math.nan,
      "pearson_ci": [math.nan, math.nan],
      "spearman_ci": [math.nan, math.nan],
  }
  if num_cells < 3:
    return out
  if groups is not None:
    _, inverse = np.unique(groups[keep], return_inverse=True)
    onehot = np.eye(inverse.max() + 1)[inverse]  # [cells, groups]
    centre = lambda v: _deviations(v, v - (v @ onehot / onehot.sum(0)) @ onehot.T)
  else:
    centre = lambda v: v

  def correlations(curv_means, acc_means):
    x, y = centre(np.abs(curv_means)), centre(acc_means)
    return pearson(x, y), spearman(x, y)

  point_pearson, point_spearman = correlations(
      curvature.sum(-1) / counts, accuracy.sum(-1) / counts
  )
  out["pearson"], out["spearman"] = float(point_pearson), float(point_spearman)
  boots = []
  positions = np.arange(num_seeds)
  for start in range(0, num_boot, block):
    size = min(block, num_boot - start)
    index = np.floor(rng.random((size, num_cells, num_seeds)) * counts[:, None]).astype(int)
    index = np.minimum(index, counts[:, None] - 1)  # guards rng.random's float edge
    use = positions < counts[:, None]  # a cell of n nets draws n of them
    curv = np.where(use, np.take_along_axis(curvature[None], index, -1), 0.0).sum(-1) / counts
    acc = np.where(use, np.take_along_axis(accuracy[None], index, -1), 0.0).sum(-1) / counts
    boots.append(np.stack(correlations(curv, acc), -1))
  if boots:
    boots = np.concatenate(boots)
    tail = 100.0 * (1.0 - ci) / 2.0
    with quiet():
      low, high = np.nanpercentile(boots, [tail, 100.0 - tail], axis=0)
    out["pearson_ci"] = [float(low[0]), float(high[0])]
    out["spearman_ci"] = [float(low[1]), float(high[1])]
  return out


def correlation_summary(correlations):
  """Median and sign counts of many :func:`curvature_accuracy_correlation` results.

  Returns:
    ``num_rows``; ``median_pearson`` / ``median_spearman``;
    ``negative_*``: how many are below 0; ``significant_negative_*``: how
    many have the whole CI below 0.
  """
  values = {
      key: np.array([c[key] for c in correlations], np.float64) for key in ("pearson", "spearman")
  }
  high = {
      key: np.array([c[key + "_ci"][1] for c in correlations], np.float64)
      for key in ("pearson", "spearman")
  }
  with quiet():
    return {
        "num_rows": len(correlations),
        "median_pearson": float(np.nanmedian(values["pearson"])),
        "median_spearman": float(np.nanmedian(values["spearman"])),
        "negative_pearson": int(np.sum(values["pearson"] < 0)),
        "negative_spearman": int(np.sum(values["spearman"] < 0)),
        "significant_negative_pearson": int(np.sum(high["pearson"] < 0)),
        "significant_negative_spearman": int(np.sum(high["spearman"] < 0)),
    }

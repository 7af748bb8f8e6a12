r"""Numbers and compact figures of the reproduction report, from finished sweeps.

Reads a directory of merged sweep workdirs (as ``experiments/reproduce.sh``
leaves them) and writes, into ``--out``:

* ``numbers.json``: everything measured, machine-readable (NaN as ``null``);
* ``numbers.md``: the same as tables, one section per sweep, the central
  check (|curvature| against test accuracy) first;
* small PNGs: per phase-diagram grid, mean curvature beside the score (test
  accuracy, or test RMSE for regression); one scatter of |curvature| against
  accuracy over every classification grid; curvature over time (Fig. 4);
  final load curves (Fig. 5a); the dropout switch (S2).

Expected workdirs under ``--runs`` (each may be missing; the report says so):
fig1a fig1b fig1c fig1d s5 s6 s7a s7b (classification phase diagrams), s12
(regression), fig4_dnn fig4_springs (dynamics), fig5a (linear network), s2
(dropout switch); ``runtimes.tsv`` (``name<TAB>seconds<TAB>command``) and
``springs/`` (``experiments/springs_phase_diagram.py``'s ``*_phase.npz``).

Conventions (also printed in numbers.md):

* Diverged nets (``diverged``) are frozen at their last finite state, so their
  final numbers are finite but meaningless: every statistic excludes them and
  reports how many there were.
* Cell statistics are over the cell's valid seeds: mean, sample std
  (``ddof=1``), count.
* Sign rule: a cell's curvature is ``+`` / ``-`` when its mean lies more than
  ``SIGN_SE_FACTOR`` (2) standard errors (``std / sqrt(n)``) above / below
  zero, ``0`` otherwise, ``.`` without valid nets. With one valid seed there
  is no standard error and the sign is the mean's.
* Central check: :func:`curvature_accuracy_correlation`, a bootstrap over
  seeds within cells.

Run (seconds; NumPy and matplotlib only, apart from the curvature function):

  python experiments/reproduction_report.py --runs=runs/reproduction --out=docs/reproduction
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import math
import os
import shutil
import traceback
import warnings
import zlib

from absl import app
from absl import flags
from absl import logging
import numpy as np
from scipy import stats

from featurespring import metrics
from featurespring import plotting
from featurespring.sweep import figures
from featurespring.sweep import results

import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-order

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_RUNS = flags.DEFINE_string("runs", None, "Directory of finished sweep workdirs.")
_OUT = flags.DEFINE_string("out", "docs/reproduction",
                           "Where numbers.json, numbers.md and the figures go.")
_NUM_BOOT = flags.DEFINE_integer("num_boot", 2000, "Bootstrap resamples per correlation.")
_BOOT_SEED = flags.DEFINE_integer("boot_seed", 0, "NumPy seed of the bootstraps.")
_DPI = flags.DEFINE_integer("dpi", 90, "Resolution of the PNGs.")

# Classification phase diagrams: the central check pools these.
CLASSIFICATION_GRIDS = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6", "s7a", "s7b")
REGRESSION_GRIDS = ("s12",)
SWEEPS = ("fig1a", "fig1b", "fig1c", "fig1d", "s12", "s5", "s6", "fig4_dnn", "fig4_springs",
          "fig5a", "s7a", "s7b", "s2")
TITLES = {
    "fig1a": "Fig. 1(a): nonlinearity x label + data noise",
    "fig1b": "Fig. 1(b): nonlinearity x learning rate",
    "fig1c": "Fig. 1(c): nonlinearity x dropout",
    "fig1d": "Fig. 1(d): nonlinearity x batch size",
    "s12": "S12: regression, nonlinearity x dropout",
    "s5": "S5: depth x dropout (ReLU)",
    "s6": "S6: width x dropout (ReLU)",
    "fig4_dnn": "Fig. 4 (left): network load-curve dynamics",
    "fig4_springs": "Fig. 4 (right): chain load-curve dynamics",
    "fig5a": "Fig. 5(a): linear network, small step / large step / dropout",
    "s7a": "S7(a): Fashion-MNIST, nonlinearity x noise (Adam)",
    "s7b": "S7(b): Fashion-MNIST, nonlinearity x noise (SGD)",
    "s2": "S2: CNN, dropout raised mid-training",
    "s4": "S4: training vs test load curves (ReLU row of Fig. 1(b))",
    "s11": "S11: trace vs pinv load curves of linear nets (alpha = 1 row of Fig. 1(c))",
}
CASE_NAMES = {"fig4_dnn": ("lazy", "balanced", "active"),
              "fig4_springs": ("lazy", "balanced", "active"),
              "fig5a": ("small step", "large step", "dropout")}
# Which way the x axis moves the training noise: larger batches are quieter.
NOISE_DIRECTION = {"batch_size": -1.0}
SIGN_SE_FACTOR = 2.0
# A row counts as "curvature increases with noise" when its Spearman
# correlation with the noise direction is at least this.
MONOTONE_RHO = 0.8
CURVATURE_KEYS = ("curvature", "curvature_pinv", "curvature_test", "curvature_pinv_test")
SIZE_BUDGET_BYTES = 3 * 2**20


# --------------------------------------------------------------------------
# Statistics (pure NumPy).


@contextlib.contextmanager
def _quiet():
  # All-NaN cells (every net diverged) are expected; their NaN is the answer.
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    yield


def cell_stats(values):
  """``(mean, std, n)`` over the last (seed) axis, NaN entries left out.

  ``std`` is the sample std (``ddof=1``), NaN with fewer than two entries.
  """
  values = np.asarray(values, np.float64)
  n = np.isfinite(values).sum(-1)
  with _quiet():
    mean = np.nanmean(values, -1)
    std = np.where(n >= 2, np.nanstd(values, -1, ddof=1), np.nan)[()]  # [()]: 0-d -> scalar
  return mean, std, n


def sign_pattern(mean, std, n, factor=SIGN_SE_FACTOR):
  """``'+'``, ``'-'``, ``'0'`` (within ``factor`` standard errors of 0) or ``'.'`` (no data)."""
  mean, std, n = (np.asarray(a, np.float64) for a in (mean, std, n))
  with _quiet():
    threshold = np.where(n >= 2, factor * std / np.sqrt(np.maximum(n, 1)), 0.0)
  signs = np.full(mean.shape, "0", dtype="<U1")
  signs[mean > threshold] = "+"
  signs[mean < -threshold] = "-"
  signs[~np.isfinite(mean)] = "."
  return signs


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


def last_finite(values, upto):
  """Entries at the last finite position ``<= upto`` along the last axis.

  Per-epoch histories are NaN at epochs that were not evaluated
  (``config.dnn.eval_every``); this picks the latest evaluated one.

  Returns:
    ``(value, index)``: ``[...]`` values (NaN where none is finite) and the
    0-based positions used (``-1`` where none).
  """
  values = np.asarray(values, np.float64)[..., :upto + 1]
  finite = np.isfinite(values)
  positions = np.where(finite, np.arange(values.shape[-1]), -1).max(-1)
  picked = np.take_along_axis(values, np.maximum(positions, 0)[..., None], -1)[..., 0]
  return np.where(positions >= 0, picked, np.nan), positions


def _deviations(values, centred):
  """``centred`` with rounding residue (relative to ``values``' scale) set to exactly 0.

  The mean of equal floats can be off by an ulp; left in, that residue would
  correlate as if it were data (a constant accuracy row is not "anticorrelated").
  """
  scale = np.abs(values).max(-1, keepdims=True)
  return np.where(np.abs(centred) <= 1e-12 * scale, 0.0, centred)


def _pearson(x, y):
  """Pearson correlation over the last axis, vectorised; NaN without variance."""
  x = _deviations(x, x - x.mean(-1, keepdims=True))
  y = _deviations(y, y - y.mean(-1, keepdims=True))
  den = np.sqrt((x * x).sum(-1) * (y * y).sum(-1))
  with _quiet():
    return np.where(den > 0, (x * y).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def _spearman(x, y):
  """Spearman correlation (Pearson of average-tie ranks) over the last axis."""
  return _pearson(stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1))


def curvature_accuracy_correlation(curvature, accuracy, rng, num_boot=2000, groups=None,
                                   ci=0.95, block=250):
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
    raise ValueError(f"curvature and accuracy need one shape [..., seeds], got "
                     f"{curvature.shape} and {accuracy.shape}")
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
  out = {"num_cells": num_cells, "num_nets": int(counts.sum()), "num_boot": int(num_boot),
         "centred": groups is not None, "pearson": math.nan, "spearman": math.nan,
         "pearson_ci": [math.nan, math.nan], "spearman_ci": [math.nan, math.nan]}
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
    return _pearson(x, y), _spearman(x, y)

  pearson, spearman = correlations(curvature.sum(-1) / counts, accuracy.sum(-1) / counts)
  out["pearson"], out["spearman"] = float(pearson), float(spearman)
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
    with _quiet():
      low, high = np.nanpercentile(boots, [tail, 100.0 - tail], axis=0)
    out["pearson_ci"] = [float(low[0]), float(high[0])]
    out["spearman_ci"] = [float(low[1]), float(high[1])]
  return out


def _rng(seed, label):
  """One generator per analysis, so each number is independent of the others present."""
  return np.random.default_rng([seed, zlib.crc32(label.encode())])


# --------------------------------------------------------------------------
# Reading sweeps.


@dataclasses.dataclass
class Grid:
  """A phase-diagram sweep as ``[Y, X, seed, ...]`` cells, rows by ascending y.

  ``figures.Sweep.cells`` orders an ``alpha`` axis by nonlinearity; the tables
  here list rows by the raw y value (``alpha`` 0 = ReLU first).
  """
  name: str
  sweep: figures.Sweep
  x_values: np.ndarray
  y_values: np.ndarray
  row_order: np.ndarray  # table row i is Sweep.cells row row_order[i]

  @classmethod
  def load(cls, name, workdir):
    sweep = figures.Sweep.load(workdir)
    raw = 1.0 - sweep.y_values() if sweep.y == "alpha" else np.asarray(sweep.y_values())
    order = np.argsort(raw, kind="stable")
    return cls(name, sweep, np.asarray(sweep.arrays[f"axis/{sweep.x}"]), raw[order], order)

  @property
  def arrays(self):
    return self.sweep.arrays

  @property
  def num_seeds(self):
    return int(self.arrays["axis/seed"].shape[0])

  def diverged(self):
    """``[Y, X, seed]`` bool, in sweep (not table) row order."""
    if "diverged" in self.arrays:
      return self.sweep.cells("diverged").astype(bool)
    return np.zeros(self.sweep.cells("curvature").shape[:3], bool)

  def masked_array(self, key):
    """The merged ``[*grid, ...]`` array of ``key`` as float, diverged nets NaN."""
    values = np.asarray(self.arrays[key], np.float64)
    if "diverged" not in self.arrays:
      return values
    diverged = np.asarray(self.arrays["diverged"], bool)
    return np.where(diverged.reshape(diverged.shape + (1,) * (values.ndim - diverged.ndim)),
                    np.nan, values)

  def sweep_cells(self, key):
    """``Sweep.cells(key)`` as float, diverged nets NaN (sweep row order)."""
    values = self.sweep.cells(key).astype(np.float64)
    diverged = self.diverged()
    return np.where(diverged.reshape(diverged.shape + (1,) * (values.ndim - 3)), np.nan, values)

  def cells(self, key):
    """``[Y, X, seed, ...]`` of ``key``, diverged nets NaN, table row order."""
    return self.sweep_cells(key)[self.row_order]

  def fixed_axes(self):
    """Other axes with several values, held at their first (``Sweep.cells``)."""
    return {n: self.arrays[f"axis/{n}"][0].item() for n in self.sweep.names
            if n not in (self.sweep.x, self.sweep.y, "seed") and self.arrays[f"axis/{n}"].size > 1}


def _x_at(grid, index):
  """The x value at a fractional column index (geometric on log axes)."""
  columns = np.arange(len(grid.x_values))
  values = np.asarray(grid.x_values, np.float64)
  if grid.sweep.config["plot"].get("log_x") and np.all(values > 0):
    return float(np.exp(np.interp(index, columns, np.log(values))))
  return float(np.interp(index, columns, values))


def _stats_entry(values):
  mean, std, n = cell_stats(values)
  return {"mean": mean, "std": std, "n": n}


def analyse_phase_grid(grid, score="accuracy", higher_is_better=True, num_boot=2000,
                       boot_seed=0):
  """Everything measured on one phase-diagram sweep (see the module docstring)."""
  x, y = grid.sweep.x, grid.sweep.y
  direction = NOISE_DIRECTION.get(x, 1.0)
  out = {"title": TITLES.get(grid.name, grid.name), "x": x, "y": y,
         "x_values": grid.x_values, "y_values": grid.y_values, "num_seeds": grid.num_seeds,
         "score": score, "higher_is_better": higher_is_better, "noise_direction": direction,
         "fixed_axes": grid.fixed_axes(), "sign_rule": f"|mean| > {SIGN_SE_FACTOR:g} * std/sqrt(n)"}
  diverged = grid.diverged()[grid.row_order]
  out["diverged"] = {"per_cell": diverged.sum(-1), "total": int(diverged.sum()),
                     "num_nets": int(diverged.size)}
  for key in CURVATURE_KEYS + (score, "accuracy_train", "spread"):
    if key in grid.arrays and key not in out:
      entry = _stats_entry(grid.cells(key))
      if key.startswith("curvature"):
        entry["sign"] = ["".join(r) for r in sign_pattern(entry["mean"], entry["std"], entry["n"])]
      out[key] = entry
  curvature, scores = grid.cells("curvature"), grid.cells(score)
  curv_mean, score_mean = out["curvature"]["mean"], out[score]["mean"]
  pick = np.nanargmax if higher_is_better else np.nanargmin

  rows = []
  for i, y_value in enumerate(grid.y_values):
    row = {"y": y_value}
    c_row, s_row = curv_mean[i], score_mean[i]
    abs_c = np.where(np.isfinite(c_row), np.abs(c_row), np.inf)
    best = int(pick(s_row)) if np.isfinite(s_row).any() else None
    zero = int(np.argmin(abs_c)) if np.isfinite(c_row).any() else None
    crossings = zero_crossings(c_row)
    row.update(best_col=best, best_x=None if best is None else grid.x_values[best],
               best_score=None if best is None else s_row[best],
               zero_col=zero, zero_x=None if zero is None else grid.x_values[zero],
               zero_curvature=None if zero is None else c_row[zero],
               crossings=crossings, crossings_x=[_x_at(grid, c) for c in crossings])
    if best is not None and zero is not None:
      # 0: the best-score cell is the one nearest zero curvature.
      row["best_rank_by_abs_curvature"] = int(np.flatnonzero(np.argsort(abs_c, kind="stable")
                                                             == best)[0])
      row["best_minus_zero_steps"] = best - zero
      row["best_curvature"] = c_row[best]
      if crossings:
        nearest = min(crossings, key=lambda c: abs(best - c))
        row["best_minus_crossing_steps"] = best - nearest
    finite = np.isfinite(c_row)
    if finite.sum() >= 2:
      xs = np.asarray(grid.x_values, np.float64)[finite]
      row["spearman_curvature_vs_x"] = float(_spearman(xs, c_row[finite]))
      steps = np.diff(c_row[finite]) * direction
      row["fraction_steps_up_with_noise"] = float(np.mean(steps > 0))
    row["correlation"] = curvature_accuracy_correlation(
        curvature[i], scores[i], _rng(boot_seed, f"{grid.name}/row/{i}"), num_boot)
    rows.append(row)
  out["rows"] = rows

  rhos = np.array([r.get("spearman_curvature_vs_x", np.nan) for r in rows]) * direction
  with _quiet():
    out["curvature_vs_noise"] = {
        "spearman_per_row": rhos, "median_spearman": float(np.nanmedian(rhos)),
        "fraction_rows_increasing": float(np.mean(rhos[np.isfinite(rhos)] >= MONOTONE_RHO))
        if np.isfinite(rhos).any() else None,
        "rule": f"Spearman(curvature, x) * direction >= {MONOTONE_RHO}; direction = "
                f"{direction:+g} (which way x raises the noise)"}
  with_both = [r for r in rows if "best_minus_zero_steps" in r]
  steps = np.array([r["best_minus_zero_steps"] for r in with_both], np.float64)
  crossing_steps = np.array([r["best_minus_crossing_steps"] for r in with_both
                             if "best_minus_crossing_steps" in r], np.float64)
  out["best_vs_zero"] = {
      "rows": len(with_both),
      "fraction_best_is_nearest_zero": float(np.mean(steps == 0)) if steps.size else None,
      "fraction_within_one_step": float(np.mean(np.abs(steps) <= 1)) if steps.size else None,
      "mean_abs_steps": float(np.mean(np.abs(steps))) if steps.size else None,
      "rows_with_crossing": int(crossing_steps.size),
      "mean_abs_steps_to_crossing": float(np.mean(np.abs(crossing_steps)))
      if crossing_steps.size else None}
  if np.isfinite(score_mean).any():
    i, j = np.unravel_index(pick(score_mean), score_mean.shape)
    out["best_cell"] = {"y": grid.y_values[i], "x": grid.x_values[j], "row": int(i),
                        "col": int(j), "score": score_mean[i, j], "curvature": curv_mean[i, j]}
  row_ids = np.broadcast_to(np.arange(len(grid.y_values))[:, None], curv_mean.shape)
  out["correlation_pooled"] = curvature_accuracy_correlation(
      curvature, scores, _rng(boot_seed, f"{grid.name}/pooled"), num_boot)
  out["correlation_pooled_row_centred"] = curvature_accuracy_correlation(
      curvature, scores, _rng(boot_seed, f"{grid.name}/pooled_centred"), num_boot,
      groups=row_ids)
  return out


# Load curves of one grid row, two curve kinds side by side: S4 (train vs
# test, the ReLU row of Fig. 1(b)) and S11 (trace vs pinv, the linear row of
# Fig. 1(c)). Each entry: (name, source grid, alpha of the row, x values shown,
# (curve key, curvature key) pairs).
ROW_CURVES = (
    ("s4", "fig1b", 0.0, (1e-4, 1e-3, 1e-2, 5e-2),
     (("load_curve", "curvature"), ("load_curve_test", "curvature_test"))),
    ("s11", "fig1c", 1.0, (0.0, 0.1, 0.2, 0.3),
     (("load_curve", "curvature"), ("load_curve_pinv", "curvature_pinv"))),
)


def analyse_row_curves(grid, alpha, x_shown, pairs):
  """Mean load curves and curvatures of chosen cells of one row of ``grid``."""
  row = int(np.argmin(np.abs(grid.y_values - alpha)))
  cells = []
  for x in x_shown:
    col = int(np.argmin(np.abs(grid.x_values - x)))
    entry = {grid.sweep.x: float(grid.x_values[col]), "column": col}
    for curve_key, curvature_key in pairs:
      curves = grid.cells(curve_key)[row, col]  # [seed, L+1]
      with _quiet():
        entry[curve_key] = np.nanmean(curves, axis=0)
        entry[curve_key + "_std"] = np.nanstd(curves, axis=0, ddof=1)
        entry[curve_key + "_range"] = float(np.nanmax(entry[curve_key])
                                            - np.nanmin(entry[curve_key]))
      entry[curvature_key] = _stats_entry(grid.cells(curvature_key)[row, col])
    if "accuracy" in grid.arrays:
      entry["accuracy"] = _stats_entry(grid.cells("accuracy")[row, col])
    cells.append(entry)
  return {"source": grid.name, "alpha": float(grid.y_values[row]), "x": grid.sweep.x,
          "pairs": [list(p) for p in pairs], "cells": cells}


def row_curves_figure(name, analysis, path, dpi):
  """The chosen cells' load curves: first kind solid, second dashed, seed bands."""
  fig, axes = plotting.new_figure(1, 1, width=4.6, height=3.4)
  ax = axes[0, 0]
  (first, _), (second, _) = analysis["pairs"]
  colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(analysis["cells"])))
  for colour, cell in zip(colours, analysis["cells"]):
    for key, style in ((first, "-"), (second, "--")):
      mean, std = np.asarray(cell[key]), np.asarray(cell[key + "_std"])
      layers = np.arange(len(mean))
      ax.plot(layers, mean, style, color=colour, marker=".",
              label=f"{analysis['x']}={cell[analysis['x']]:g}" if style == "-" else None)
      ax.fill_between(layers, mean - std, mean + std, color=colour, alpha=0.15)
  ax.set_xlabel("layer $l$")
  ax.set_ylabel("separation")
  ax.set_title(f"{TITLES.get(name, name)}\nalpha={analysis['alpha']:g}; solid: {first}, "
               f"dashed: {second}", fontsize=8)
  ax.legend(fontsize=7)
  return _save(fig, path, dpi)


def _case_labels(name, config, num_cases):
  names = CASE_NAMES.get(name, ())
  fields = config["grid"].get("case", {})
  labels = []
  for i in range(num_cases):
    settings = ", ".join(f"{f}={v[i]:g}" for f, v in sorted(fields.items()))
    labels.append(f"{names[i] if i < len(names) else f'case {i}'} ({settings})")
  return labels


def analyse_dynamics(name, workdir):
  """Curvature over time per case (Fig. 4), from the trajectories."""
  sweep = figures.Sweep.load(workdir)
  trajectory = sweep.cells("trajectory")[0].astype(np.float64)  # [case, seed, T, L+1]
  times = sweep.cells("trajectory_time")[0].astype(np.float64)  # [case, seed, T]
  diverged = (sweep.cells("diverged")[0].astype(bool) if "diverged" in sweep.arrays
              else np.zeros(trajectory.shape[:2], bool))
  # metrics.curvature is jnp; NaN (unevaluated epochs, diverged nets) propagates.
  curvature = np.asarray(metrics.curvature(trajectory), np.float64)
  curvature[diverged] = np.nan
  final = sweep.cells("curvature")[0].astype(np.float64)
  final[diverged] = np.nan
  labels = _case_labels(name, sweep.config, trajectory.shape[0])
  cases = []
  for c, label in enumerate(labels):
    mean, std, n = cell_stats(np.moveaxis(curvature[c], 0, -1))  # over seeds: [T]
    t = times[c, 0]
    ok = np.flatnonzero(np.isfinite(mean))
    case = {"case": label, "num_seeds": int((~diverged[c]).sum()),
            "diverged": int(diverged[c].sum())}
    if ok.size:
      lo, hi = ok[np.argmin(mean[ok])], ok[np.argmax(mean[ok])]
      case.update(start=mean[ok[0]], start_time=t[ok[0]], end=mean[ok[-1]],
                  end_std=std[ok[-1]], end_time=t[ok[-1]], min=mean[lo], min_time=t[lo],
                  max=mean[hi], max_time=t[hi], evaluated_times=int(ok.size))
    fm, fs, fn = cell_stats(final[c])
    case.update(final_curvature=fm, final_curvature_std=fs)
    case["final_sign"] = str(sign_pattern(fm, fs, fn))
    if "theory/curvature" in sweep.arrays:
      case["theory_curvature"] = float(np.nanmean(sweep.cells("theory/curvature")[0, c]))
    if "accuracy" in sweep.arrays:
      case["accuracy"] = cell_stats(np.where(diverged[c], np.nan,
                                             sweep.cells("accuracy")[0, c]))[0]
    cases.append(case)
  out = {"title": TITLES.get(name, name), "engine": sweep.engine, "cases": cases,
         "time_unit": "epoch" if sweep.engine == "dnn" else "time (step x dt)"}
  return out, (trajectory, times, diverged, labels)


def analyse_linear(name, workdir):
  """Final load curves (trace and pinv) and curvature per case (Fig. 5a)."""
  sweep = figures.Sweep.load(workdir)
  diverged = sweep.cells("diverged")[0].astype(bool)
  def get(key):
    values = sweep.cells(key)[0].astype(np.float64)
    return np.where(diverged.reshape(diverged.shape + (1,) * (values.ndim - 2)), np.nan, values)
  labels = _case_labels(name, sweep.config, diverged.shape[0])
  cases = []
  for c, label in enumerate(labels):
    case = {"case": label, "diverged": int(diverged[c].sum())}
    for metric, curve in (("curvature", "load_curve"), ("curvature_pinv", "load_curve_pinv")):
      with _quiet():
        case[curve] = np.nanmean(get(curve)[c], 0)
        case[curve + "_std"] = np.nanstd(get(curve)[c], 0)
      m, s, n = cell_stats(get(metric)[c])
      case.update({metric: m, metric + "_std": s, metric + "_sign": str(sign_pattern(m, s, n))})
    for key, field in (("accuracy_train", "accuracy_train"),
                       ("history/loss/train", "final_train_loss")):
      if key in sweep.arrays:
        values = get(key)[c]
        if values.ndim == 2:  # a history: the last evaluated epoch
          values = last_finite(values, values.shape[-1] - 1)[0]
        case[field] = cell_stats(values)[0]
    cases.append(case)
  return {"title": TITLES.get(name, name), "cases": cases}, (get, labels)


def analyse_switch(name, workdir):
  """Curvature and accuracy before the dropout switch and at the end, per rate (S2)."""
  sweep = figures.Sweep.load(workdir)
  config = sweep.config["dnn"]
  switch = int(config["dropout_switch_epoch"])
  num_epochs = int(config["num_epochs"])
  rates = np.asarray(sweep.arrays[f"axis/{sweep.x}"])
  get = lambda key: sweep.cells(key)[0].astype(np.float64)  # [rate, seed, ...]
  history = {"curvature": np.asarray(metrics.curvature(get("history/sep/train")), np.float64),
             "curvature_pinv": np.asarray(metrics.curvature(get("history/sep_pinv/train")),
                                          np.float64),
             "accuracy": get("history/acc/test")}
  diverged = sweep.cells("history/diverged")[0].astype(bool)  # [rate, seed, E]
  # History position i holds the metrics after epoch i + 1; the switch acts
  # at the start of epoch switch + 1, so position switch - 1 is "before".
  points = {"before": switch - 1, "end": num_epochs - 1}
  cases = []
  series = {}
  for r, rate in enumerate(rates):
    case = {"rate": rate}
    for when, upto in points.items():
      for key, values in history.items():
        value, used = last_finite(values[r], upto)
        # A net diverged by then is out (its frozen values are still finite).
        value = np.where(diverged[r][:, upto], np.nan, value)
        m, s, n = cell_stats(value)
        case[f"{key}_{when}"], case[f"{key}_{when}_std"] = m, s
        case[f"{key}_{when}_n"] = int(n)
        if key == "curvature":
          case[f"{when}_sign"] = str(sign_pattern(m, s, n))
          case[f"{when}_epoch"] = int(used.max()) + 1 if (used >= 0).any() else None
    for key in history:
      case[f"{key}_change"] = case[f"{key}_end"] - case[f"{key}_before"]
    cases.append(case)
  for key, values in history.items():
    masked = np.where(diverged, np.nan, values)
    series[key] = cell_stats(np.moveaxis(masked, 1, -1))[0]  # [rate, E]
  out = {"title": TITLES.get(name, name), "switch_epoch": switch, "num_epochs": num_epochs,
         "eval_every": int(config.get("eval_every", 1)), "base_dropout": config["dropout"],
         "cases": cases}
  return out, (series, rates, switch)


def analyse_springs_dir(path):
  """The chain phase diagrams of ``experiments/springs_phase_diagram.py``."""
  from featurespring import springs  # pylint: disable=g-import-not-at-top
  from featurespring import sweep as sweep_lib  # pylint: disable=g-import-not-at-top
  summary = {}
  if os.path.exists(os.path.join(path, "summary.json")):
    summary = results.read_json(os.path.join(path, "summary.json"))
  out = {}
  for dynamics in ("first_order", "second_order", "langevin"):
    npz = os.path.join(path, f"{dynamics}_phase.npz")
    if not os.path.exists(npz):
      out[dynamics] = {"status": "missing"}
      continue
    data = np.load(npz)
    mu, noise = np.asarray(data["mu"], np.float64), np.asarray(data["noise"], np.float64)
    curvature = np.asarray(metrics.curvature(np.asarray(data["load_curves"], np.float64)))
    mean, std, n = cell_stats(curvature)  # [mu, noise]
    entry = {"status": "ok", "mu": mu, "noise": noise, "num_seeds": int(curvature.shape[-1]),
             "curvature_mean": mean, "curvature_std": std,
             "sign": ["".join(r) for r in sign_pattern(mean, std, n)],
             "runtime": {k: v for k, v in summary.get(dynamics, {}).items() if k != "figures"}}
    rows = []
    for i, m in enumerate(mu):
      crossings = zero_crossings(mean[i])
      rows.append({"mu": m, "spearman_curvature_vs_noise": float(_spearman(noise, mean[i]))
                   if np.isfinite(mean[i]).all() else None,
                   "crossings_noise": [float(np.interp(c, np.arange(len(noise)), noise))
                                       for c in crossings]})
    if dynamics == "first_order":
      # The zero-curvature line of the effective-friction theory, with the
      # constants of the config the script ran (its own horizon if recorded).
      config = sweep_lib.load_config(os.path.join(REPO, "experiments", "fig3_springs.py"))
      c = config.springs
      horizon = int(summary.get(dynamics, {}).get("num_steps", c.num_steps))
      eps = springs.critical_noise(mu, c.dt, c.noise_dist, c.noise_cut, horizon=horizon,
                                   mu_left=c.mu_ratio * np.asarray(mu))
      for row, e in zip(rows, np.atleast_1d(eps)):
        row["theory_critical_noise"] = float(e)
    entry["rows"] = rows
    rhos = np.array([r["spearman_curvature_vs_noise"] for r in rows if
                     r["spearman_curvature_vs_noise"] is not None], np.float64)
    entry["fraction_rows_increasing"] = float(np.mean(rhos >= MONOTONE_RHO)) if rhos.size else None
    out[dynamics] = entry
  return out


def read_runtimes(path):
  """``runtimes.tsv`` rows as dicts; reruns of a name are all kept."""
  rows = []
  with open(path) as f:
    for line in f:
      parts = line.rstrip("\n").split("\t")
      if len(parts) < 2 or not parts[0].strip():
        continue
      try:
        seconds = float(parts[1])
      except ValueError:
        continue
      rows.append({"name": parts[0], "seconds": seconds,
                   "command": parts[2] if len(parts) > 2 else ""})
  return rows


# --------------------------------------------------------------------------
# Figures (PNG only, small).


def _save(fig, path, dpi):
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=dpi, bbox_inches="tight")
  plt.close(fig)
  return path


def phase_figure(grid, analysis, path, dpi):
  """Mean curvature (the project's phase diagram) beside the score, best cell per row."""
  score = analysis["score"]
  masked = dataclasses.replace(grid.sweep, arrays={
      **grid.arrays, **{k: grid.masked_array(k) for k in ("curvature", "accuracy")
                        if k in grid.arrays}})
  fig, axes = plotting.new_figure(1, 2, width=4.4, height=3.5)
  left, right = axes[0]
  figures.phase_diagram(left, masked)
  # Table row i is drawn at Sweep row row_order[i].
  best = [(grid.row_order[i], r["best_col"]) for i, r in enumerate(analysis["rows"])
          if r["best_col"] is not None]
  for ax in (left, right):
    if best:
      ax.plot([b[1] for b in best], [b[0] for b in best], "o", markerfacecolor="none",
              markeredgecolor="k", markersize=8, label="best per row")
  left.legend(loc="upper right", fontsize=6, framealpha=0.8)
  with _quiet():
    values = np.nanmean(grid.sweep_cells(score), axis=2)
  ny, nx = values.shape
  mesh = right.pcolormesh(np.arange(nx + 1) - 0.5, np.arange(ny + 1) - 0.5,
                          np.ma.masked_invalid(values),
                          cmap="viridis" if analysis["higher_is_better"] else "viridis_r")
  cbar = fig.colorbar(mesh, ax=right, fraction=0.046, pad=0.04)
  cbar.set_label(f"mean test {score}", fontsize=7)
  right.set_xticks(left.get_xticks(), [t.get_text() for t in left.get_xticklabels()],
                   rotation=45, fontsize=7)
  right.set_yticks(left.get_yticks(), [t.get_text() for t in left.get_yticklabels()],
                   fontsize=7)
  right.set_xlim(left.get_xlim())
  right.set_ylim(left.get_ylim())
  right.set_xlabel(left.get_xlabel())
  right.set_ylabel(left.get_ylabel())
  right.set_title(f"test {score} (circles: best per row)", fontsize=9)
  right.legend(loc="upper right", fontsize=6, framealpha=0.8)
  fig.suptitle(TITLES.get(grid.name, grid.name), fontsize=10)
  return _save(fig, path, dpi)


def pinv_phase_figure(grid, path, dpi):
  """Phase diagrams of one sweep by trace and by pinv curvature (paper S10)."""
  masked = dataclasses.replace(grid.sweep, arrays={
      **grid.arrays, **{k: grid.masked_array(k) for k in ("curvature", "curvature_pinv",
                                                           "accuracy")}})
  fig, axes = plotting.new_figure(1, 2, width=4.4, height=3.5)
  for ax, metric in zip(axes[0], ("curvature", "curvature_pinv")):
    figures.phase_diagram(ax, masked, metric=metric)
    ax.set_title(metric, fontsize=9)
  fig.suptitle(f"S10: {TITLES.get(grid.name, grid.name)}, trace vs pinv", fontsize=10)
  return _save(fig, path, dpi)


def scatter_figure(pooled, correlation, path, dpi):
  """|mean curvature| against mean test accuracy, every cell of every grid."""
  fig, axes = plotting.new_figure(1, 2, width=4.2, height=3.4)
  colors = plt.get_cmap("tab10")
  for k, (name, (curv, acc, rows)) in enumerate(pooled.items()):
    c, a = cell_stats(curv)[0], cell_stats(acc)[0]
    ok = np.isfinite(c) & np.isfinite(a)
    x, y = np.abs(c[ok]), a[ok]
    axes[0, 0].scatter(x, y, s=9, color=colors(k % 10), label=name, alpha=0.8)
    # Row-centred: what is left after each grid row's (alpha's) own level.
    xr, yr = (v - _group_mean(v, rows[ok]) for v in (x, y))
    axes[0, 1].scatter(xr, yr, s=9, color=colors(k % 10), alpha=0.8)
  raw, centred = correlation["pooled"], correlation["pooled_row_centred"]
  axes[0, 0].set_title(f"cell means: Pearson {raw['pearson']:.2f}, Spearman "
                       f"{raw['spearman']:.2f}", fontsize=8)
  axes[0, 1].set_title(f"centred per grid row: Pearson {centred['pearson']:.2f}, "
                       f"Spearman {centred['spearman']:.2f}", fontsize=8)
  axes[0, 0].set_xlabel("|mean curvature| (train, trace)")
  axes[0, 0].set_ylabel("mean test accuracy")
  axes[0, 1].set_xlabel("|curvature| - row mean")
  axes[0, 1].set_ylabel("accuracy - row mean")
  axes[0, 0].legend(fontsize=6, ncol=2)
  return _save(fig, path, dpi)


def _group_mean(values, groups):
  _, inverse = np.unique(groups, return_inverse=True)
  sums = np.bincount(inverse, values)
  return (sums / np.bincount(inverse))[inverse]


def dynamics_figure(data, path, dpi):
  """Curvature over time per case, networks beside chains (mean +- seed std)."""
  fig, axes = plotting.new_figure(1, len(data), width=3.8, height=3.0)
  for ax, (name, (trajectory, times, diverged, labels)) in zip(axes[0], data.items()):
    for c, label in enumerate(labels):
      curves = trajectory[c][~diverged[c]]  # [seed, T, L+1]
      if not curves.size:
        continue
      # Only the evaluated times (NaN between with eval_every > 1).
      evaluated = np.isfinite(curves).all(axis=(0, 2))
      plotting.plot_curvature_over_time(ax, curves[:, evaluated], times[c, 0][evaluated],
                                        label=label.split(" (")[0],
                                        time_label="epoch" if "dnn" in name else "time")
    ax.set_title(TITLES.get(name, name), fontsize=8)
    ax.legend(fontsize=6)
  return _save(fig, path, dpi)


def linear_figure(get, labels, path, dpi):
  """Final load curves per case, trace and pinv separation (mean +- seed std)."""
  fig, axes = plotting.new_figure(1, 2, width=3.8, height=3.0)
  short = [label.split(" (")[0] for label in labels]
  plotting.plot_load_curves(axes[0, 0], get("load_curve"), short, title="trace separation",
                            normalize=False)
  plotting.plot_load_curves(axes[0, 1], get("load_curve_pinv"), short,
                            title="pinv separation", ylabel="pinv separation $D'_l$")
  return _save(fig, path, dpi)


def switch_figure(series, rates, switch, path, dpi):
  """Mean curvature and test accuracy over epochs per raised dropout rate."""
  fig, axes = plotting.new_figure(1, 2, width=3.8, height=3.0)
  for ax, key in zip(axes[0], ("curvature", "accuracy")):
    for r, rate in enumerate(rates):
      values = series[key][r]
      ok = np.isfinite(values)
      ax.plot(np.flatnonzero(ok) + 1, values[ok], marker="o", markersize=2,
              label=f"rate after switch {rate:g}")
    ax.axvline(switch, color="k", linestyle=":", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("curvature (train, trace)" if key == "curvature" else "test accuracy")
    ax.legend(fontsize=6)
  return _save(fig, path, dpi)


# --------------------------------------------------------------------------
# Writing.


def to_json(value):
  """Plain JSON types; NaN / inf become ``None`` (JSON has no NaN)."""
  if isinstance(value, dict):
    return {str(k): to_json(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_json(v) for v in value]
  if isinstance(value, np.ndarray):
    return to_json(value.tolist())
  if isinstance(value, (np.bool_, bool)):
    return bool(value)
  if isinstance(value, (np.integer, int)):
    return int(value)
  if isinstance(value, (np.floating, float)):
    return float(value) if math.isfinite(value) else None
  if isinstance(value, np.str_):
    return str(value)
  return value


def _f(value, spec=".3g"):
  if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
    return "-"
  return format(value, spec)


def _pm(mean, std):
  return f"{_f(mean, '+.3f')}±{_f(std, '.3f')}"


def _ci(c):
  if c is None or not np.isfinite(c["pearson"]):
    return "- | -"
  return (f"{c['pearson']:+.2f} [{c['pearson_ci'][0]:+.2f}, {c['pearson_ci'][1]:+.2f}] | "
          f"{c['spearman']:+.2f} [{c['spearman_ci'][0]:+.2f}, {c['spearman_ci'][1]:+.2f}]")


def _table(header, rows):
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
  return lines + [""]


def _grid_markdown(name, a):
  y, x = a["y"], a["x"]
  score = a["score"]
  head = [f"{y} \\ {x}"] + [_f(v) for v in a["x_values"]]
  lines = [f"## {name}: {a['title']}", "",
           f"{a['num_seeds']} seeds per cell; rows: {y}; columns: {x}. "
           f"Diverged nets (left out everywhere): {a['diverged']['total']} of "
           f"{a['diverged']['num_nets']}."]
  if a["fixed_axes"]:
    lines.append(f"Other axes held at their first value: {a['fixed_axes']}.")
  lines += ["", "Mean curvature (train set, trace) +- seed std:", ""]
  curv = a["curvature"]
  lines += _table(head, [[_f(yv)] + [f"{_f(m, '+.3f')}±{_f(s, '.3f')}"
                                      for m, s in zip(curv["mean"][i], curv["std"][i])]
                         for i, yv in enumerate(a["y_values"])])
  lines += [f"Mean test {score} +- seed std:", ""]
  sc = a[score]
  lines += _table(head, [[_f(yv)] + [f"{_f(m, '.4f')}±{_f(s, '.4f')}"
                                      for m, s in zip(sc["mean"][i], sc["std"][i])]
                         for i, yv in enumerate(a["y_values"])])
  if a["diverged"]["total"]:
    lines += ["Diverged nets per cell:", ""]
    lines += _table(head, [[_f(yv)] + [str(int(v)) for v in a["diverged"]["per_cell"][i]]
                           for i, yv in enumerate(a["y_values"])])
  signs = [k for k in CURVATURE_KEYS if k in a]
  best_word = "best" if a["higher_is_better"] else "lowest"
  lines += [f"Per row: curvature signs by column ({', '.join(signs)}; rule: "
            f"{a['sign_rule']}), the {best_word}-{score} cell, the cell nearest zero "
            "curvature, the interpolated zero crossing(s), the distance best - nearest-zero "
            "in x steps, the rank of the best cell by |curvature| (0 = nearest zero), "
            "Spearman of curvature against x, and the correlation of |curvature| with "
            f"{score} across the row (Pearson, Spearman, bootstrap 95% CI). Steps are "
            "signed, best minus reference, in columns:", ""]
  head2 = [y] + [f"sign {k.replace('curvature', 'c')}" for k in signs] + [
      f"{best_word}-{score} {x}", f"{score}", "nearest-0 x", "crossing x", "steps to nearest-0",
      "steps to crossing", "rank",
      "rho(c, x)", f"r(abs c, {score}) [CI]", f"rho(abs c, {score}) [CI]"]
  table = []
  for i, r in enumerate(a["rows"]):
    table.append([_f(r["y"])] + [f"`{a[k]['sign'][i]}`" for k in signs] + [
        _f(r["best_x"]), _f(r["best_score"], ".4f"), _f(r["zero_x"]),
        ", ".join(_f(v) for v in r["crossings_x"]) or "none",
        _f(r.get("best_minus_zero_steps"), "+d") if r.get("best_minus_zero_steps") is not None
        else "-", _f(r.get("best_minus_crossing_steps"), "+.1f"),
        _f(r.get("best_rank_by_abs_curvature"), "d")
        if r.get("best_rank_by_abs_curvature") is not None else "-",
        _f(r.get("spearman_curvature_vs_x"), "+.2f"), _ci(r["correlation"])])
  lines += _table(head2, table)
  bz, cn = a["best_vs_zero"], a["curvature_vs_noise"]
  lines += [f"- {best_word.capitalize()} cell overall: {y}={_f(a.get('best_cell', {}).get('y'))}, "
            f"{x}={_f(a.get('best_cell', {}).get('x'))}, {score} "
            f"{_f(a.get('best_cell', {}).get('score'), '.4f')}, curvature "
            f"{_f(a.get('best_cell', {}).get('curvature'), '+.3f')}.",
            f"- Best cell = nearest-zero cell in {_f(bz['fraction_best_is_nearest_zero'], '.0%')}"
            f" of rows, within one x step in {_f(bz['fraction_within_one_step'], '.0%')}; "
            f"mean |steps| {_f(bz['mean_abs_steps'], '.2f')}; mean |steps| to the nearest "
            f"zero crossing {_f(bz['mean_abs_steps_to_crossing'], '.2f')} "
            f"({bz['rows_with_crossing']} rows cross zero).",
            f"- Curvature rises with the noise ({cn['rule']}) in "
            f"{_f(cn['fraction_rows_increasing'], '.0%')} of rows; median signed Spearman "
            f"{_f(cn['median_spearman'], '+.2f')}.",
            f"- |curvature| vs {score} over all cells: {_ci(a['correlation_pooled'])}; "
            f"centred per row: {_ci(a['correlation_pooled_row_centred'])} "
            "(Pearson [CI] | Spearman [CI]).", ""]
  return lines


def _markdown(numbers):
  lines = ["# Reproduction report: measured numbers", "",
           f"Generated by `python experiments/reproduction_report.py "
           f"--runs={numbers['runs']}` from the sweeps listed below; every number is also in "
           "`numbers.json` (NaN as null).", ""]
  missing = [n for n, s in numbers["sweeps"].items() if s.get("status") != "ok"]
  found = ", ".join(n for n in numbers["sweeps"] if n not in missing) or "none"
  lines += [f"Sweeps found: {found}."]
  for n in missing:
    s = numbers["sweeps"][n]
    lines.append(f"- **{n} skipped**: {s['status']}{': ' + s['error'] if 'error' in s else ''}.")
  lines += ["", "## Conventions", "",
            "- Diverged nets (NaN/Inf during training; frozen at their last finite state) are "
            "left out of every mean, std and correlation; their number is reported per sweep.",
            "- Cell mean over the valid seeds, std = sample std (ddof=1).",
            f"- Sign of a cell's curvature: `+` / `-` if its mean is more than "
            f"{SIGN_SE_FACTOR:g} standard errors (std/sqrt(n)) above / below 0, `0` otherwise, "
            "`.` if no valid net; with a single valid seed, the sign of the mean. Sign strings "
            "list the columns (x axis) left to right.",
            "- Curvature: `d_0 - d_{L-1}` of the train-set trace-separation load curve unless "
            "named otherwise (`c_pinv`: pinv separation, `c_test`: test set).",
            f"- Bootstrap: {numbers['num_boot']} resamples, NumPy seed {numbers['boot_seed']}: "
            "each cell's seeds are resampled with replacement independently per cell, the cell "
            "means of curvature and accuracy recomputed, |mean curvature| correlated with mean "
            "accuracy over the cells; 95% percentile intervals. They measure seed noise "
            "only (the cells themselves are fixed) and, with few seeds (3 seeds give 10 "
            "distinct resamples of a cell), they are narrow: they say whether a number is "
            "robust to which seeds were drawn, not how it would vary over new grids.", ""]
  central = numbers.get("central_check")
  lines += ["## Central check: |curvature| against test accuracy", ""]
  if central:
    lines += ["Prediction (SPEC §2): test accuracy peaks near the linear load curve, i.e. a "
              "negative correlation between |curvature| and accuracy. Pearson / Spearman over "
              "cells with bootstrap 95% CIs. *Row-centred*: |curvature| and accuracy are both "
              "centred within each grid row (one alpha, depth or width) before correlating — "
              "the partial correlation given the row. Linear and weakly nonlinear nets are "
              "less accurate regardless of curvature and grids differ in their accuracy "
              "level (Fashion-MNIST vs MNIST), so the raw pooled number mixes those level "
              "differences with the within-row effect the paper describes; the row-centred "
              "number removes them.", ""]
    rows = []
    for name, c in central["per_grid"].items():
      rows.append([name, c["pooled"]["num_cells"], _ci(c["pooled"]),
                   _ci(c["pooled_row_centred"])])
    rows.append(["**all grids**", central["pooled"]["num_cells"], _ci(central["pooled"]),
                 _ci(central["pooled_row_centred"])])
    lines += _table(["grid", "cells", "Pearson [CI]; Spearman [CI]",
                     "row-centred Pearson [CI]; Spearman [CI]"],
                    [[r[0], r[1], r[2].replace(" | ", "; "), r[3].replace(" | ", "; ")]
                     for r in rows])
    for key in ("pooled_curvature_pinv", "pooled_curvature_test"):
      if key in central:
        lines.append(f"- With {key.replace('pooled_', '')} in place of the train trace "
                     f"curvature (all grids): {_ci(central[key])}; row-centred "
                     f"{_ci(central[key + '_row_centred'])}.")
    lines += ["", "Within each row (across the x axis), median over rows of the Pearson "
              "correlation, and the fraction of rows where it is negative with a CI "
              "excluding 0:", ""]
    lines += _table(["grid", "rows", "median r", "rows r<0 (CI<0)", "median rho",
                     "rows rho<0 (CI<0)"],
                    [[n, r["num_rows"], _f(r["median_pearson"], "+.2f"),
                      f"{r['negative_pearson']} ({r['significant_negative_pearson']})",
                      _f(r["median_spearman"], "+.2f"),
                      f"{r['negative_spearman']} ({r['significant_negative_spearman']})"]
                     for n, r in ((n, c["rows"]) for n, c in central["per_grid"].items())])
    lines += ["Figure: `curvature_vs_accuracy.png`.", ""]
  else:
    lines += ["No classification phase-diagram sweep was found.", ""]
  for name in SWEEPS:
    s = numbers["sweeps"].get(name, {})
    if s.get("status") != "ok":
      lines += [f"## {name}: {TITLES.get(name, name)}", "", f"Skipped: {s.get('status')}"
                f"{': ' + s['error'] if 'error' in s else ''}.", ""]
      continue
    a = numbers["results"][name]
    if name in CLASSIFICATION_GRIDS or name in REGRESSION_GRIDS:
      lines += _grid_markdown(name, a)
      if a.get("figure"):
        lines += [f"Figure: `{a['figure']}`.", ""]
    elif name.startswith("fig4"):
      lines += [f"## {name}: {a['title']}", "",
                "Seed-mean curvature of the train load curve over time (unit: "
                f"{a['time_unit']}; evaluated times only): start (first evaluated time), "
                "end, extremes (and when); final curvature +- seed std.",
                ""]
      lines += _table(["case", "start", "end", "min (at)", "max (at)", "final ± std", "sign"]
                      + (["theory"] if any("theory_curvature" in c for c in a["cases"]) else [])
                      + (["test acc."] if any("accuracy" in c for c in a["cases"]) else []),
                      [[c["case"], _f(c.get("start"), "+.3f"), _f(c.get("end"), "+.3f"),
                        f"{_f(c.get('min'), '+.3f')} ({_f(c.get('min_time'))})",
                        f"{_f(c.get('max'), '+.3f')} ({_f(c.get('max_time'))})",
                        _pm(c["final_curvature"], c["final_curvature_std"]),
                        f"`{c['final_sign']}`"]
                       + ([_f(c.get("theory_curvature"), "+.3f")] if "theory_curvature" in c
                          else [])
                       + ([_f(c.get("accuracy"), ".4f")] if "accuracy" in c else [])
                       for c in a["cases"]])
    elif name == "fig5a":
      lines += [f"## {name}: {a['title']}", "", "Final train load curves (mean over seeds), "
                "curvature ± seed std:", ""]
      rows = []
      for c in a["cases"]:
        rows.append([c["case"], " ".join(_f(v, ".2f") for v in c["load_curve"]),
                     f"{_f(c['curvature'], '+.3f')}±{_f(c['curvature_std'], '.3f')} "
                     f"`{c['curvature_sign']}`",
                     " ".join(_f(v, ".2f") for v in c["load_curve_pinv"]),
                     f"{_f(c['curvature_pinv'], '+.3f')}±{_f(c['curvature_pinv_std'], '.3f')} "
                     f"`{c['curvature_pinv_sign']}`",
                     _f(c.get("final_train_loss"), ".4f"), c["diverged"]])
      lines += _table(["case", "trace D_l", "curvature", "pinv D'_l", "pinv curvature",
                       "final train loss", "diverged"], rows)
    elif name == "s2":
      lines += [f"## {name}: {a['title']}", "",
                f"Dropout {a['base_dropout']:g} for {a['switch_epoch']} epochs, then the rate "
                f"of each row until epoch {a['num_epochs']} (metrics every {a['eval_every']} "
                "epochs; the last evaluated epoch at or before the switch / the end).", ""]
      lines += _table(["rate after", "curvature before", "curvature end", "pinv before",
                       "pinv end", "test acc. before", "test acc. end", "acc. change"],
                      [[_f(c["rate"]),
                        f"{_pm(c['curvature_before'], c['curvature_before_std'])} "
                        f"`{c['before_sign']}`",
                        f"{_pm(c['curvature_end'], c['curvature_end_std'])} `{c['end_sign']}`",
                        _f(c["curvature_pinv_before"], "+.3f"), _f(c["curvature_pinv_end"], "+.3f"),
                        _f(c["accuracy_before"], ".4f"), _f(c["accuracy_end"], ".4f"),
                        _f(c["accuracy_change"], "+.4f")] for c in a["cases"]])
    if a.get("figure") and name not in CLASSIFICATION_GRIDS + REGRESSION_GRIDS:
      lines += [f"Figure: `{a['figure']}`.", ""]
  for name, *_ in ROW_CURVES:
    a = numbers["results"].get(name)
    if a is None:
      continue
    (first, first_c), (second, second_c) = a["pairs"]
    lines += [f"## {name}: {TITLES[name]}", "",
              f"From `{a['source']}`, alpha = {a['alpha']:g}; mean over seeds (curves: layer 0 "
              "... L; range = max - min of the mean curve).", ""]
    rows = []
    for c in a["cells"]:
      rows.append([_f(c[a["x"]]),
                   " ".join(_f(v, ".2f") for v in c[first]), _f(c[first + "_range"], ".3f"),
                   _pm(c[first_c]["mean"], c[first_c]["std"]),
                   " ".join(_f(v, ".2f") for v in c[second]), _f(c[second + "_range"], ".3f"),
                   _pm(c[second_c]["mean"], c[second_c]["std"]),
                   _f(c["accuracy"]["mean"], ".4f") if "accuracy" in c else "-"])
    lines += _table([a["x"], first, "range", first_c, second, "range", second_c,
                     "test accuracy"], rows)
    lines += [f"Figure: `{a['figure']}`.", ""]
  if numbers.get("s10_figure"):
    lines += ["## s10: trace vs pinv phase diagram (Fig. 1(c) sweep)", "",
              "Signs and correlations of `curvature_pinv` are in the fig1c tables above "
              f"(`sign c_pinv`). Figure: `{numbers['s10_figure']}`.", ""]
  springs_numbers = numbers.get("springs")
  lines += ["## Spring-block chains (experiments/springs_phase_diagram.py)", ""]
  if not springs_numbers or springs_numbers.get("status") == "missing":
    lines += ["Skipped: no `springs/` directory.", ""]
  else:
    for dynamics, s in springs_numbers.items():
      if s.get("status") != "ok":
        lines += [f"- {dynamics}: {s.get('status')}{': ' + s['error'] if 'error' in s else ''}.",
                  ""]
        continue
      runtime = ", ".join(f"{k} {v}" for k, v in s["runtime"].items())
      lines += [f"### {dynamics} ({s['num_seeds']} seeds{'; ' + runtime if runtime else ''})", "",
                f"Curvature rises with noise (Spearman >= {MONOTONE_RHO}) in "
                f"{_f(s['fraction_rows_increasing'], '.0%')} of friction rows.", ""]
      theory = "theory_critical_noise" in s["rows"][0] if s["rows"] else False
      lines += _table(["mu", "signs over noise", "mean curvature over noise", "rho",
                       "measured crossing"] + (["theory eps*"] if theory else []),
                      [[_f(r["mu"]), f"`{sign}`",
                        " ".join(_f(v, "+.2f") for v in s["curvature_mean"][i]),
                        _f(r["spearman_curvature_vs_noise"], "+.2f"),
                        ", ".join(_f(v, ".3g") for v in r["crossings_noise"]) or "none"]
                       + ([_f(r["theory_critical_noise"], ".3g")] if theory else [])
                       for i, (r, sign) in enumerate(zip(s["rows"], s["sign"]))])
  runtimes = numbers.get("runtimes")
  lines += ["## Runtimes", ""]
  walls = numbers.get("wall_times_s") or {}
  if walls:
    lines += ["Sweep wall time from each result's sidecar (sum over its chunks, including "
              "compiles; the machine was shared with other work during these runs):", ""]
    lines += _table(["sweep", "seconds"], [[n, _f(w, ".0f")] for n, w in walls.items()])
    lines += ["`runtimes.tsv` (each `experiments/reproduce.sh` step, sweep + plots; a step "
              "whose sweep had already finished shows only the time to check and re-plot):", ""]
  if runtimes:
    lines += _table(["name", "seconds", "command"],
                    [[r["name"], f"{r['seconds']:.0f}", f"`{r['command']}`"]
                     for r in runtimes["rows"]])
    total = runtimes["total_seconds"]
    lines += [f"Total: {total:.0f} s ({total / 3600:.2f} h).", ""]
  else:
    lines += ["No `runtimes.tsv`.", ""]
  return "\n".join(lines) + "\n"


def _row_summary(rows):
  pearson = np.array([r["correlation"]["pearson"] for r in rows], np.float64)
  spearman = np.array([r["correlation"]["spearman"] for r in rows], np.float64)
  high_p = np.array([r["correlation"]["pearson_ci"][1] for r in rows], np.float64)
  high_s = np.array([r["correlation"]["spearman_ci"][1] for r in rows], np.float64)
  with _quiet():
    return {"num_rows": len(rows), "median_pearson": float(np.nanmedian(pearson)),
            "median_spearman": float(np.nanmedian(spearman)),
            "negative_pearson": int(np.sum(pearson < 0)),
            "negative_spearman": int(np.sum(spearman < 0)),
            "significant_negative_pearson": int(np.sum(high_p < 0)),
            "significant_negative_spearman": int(np.sum(high_s < 0))}


def _pad_seeds(arrays, num_seeds):
  return [np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, num_seeds - a.shape[-1])],
                 constant_values=np.nan) for a in arrays]


def central_check(grids, analyses, num_boot, boot_seed):
  """|curvature| vs test accuracy per grid and pooled over every grid."""
  per_grid, pooled = {}, {}
  for name, grid in grids.items():
    a = analyses[name]
    per_grid[name] = {"pooled": a["correlation_pooled"],
                      "pooled_row_centred": a["correlation_pooled_row_centred"],
                      "rows": _row_summary(a["rows"])}
    ny, nx = a["curvature"]["mean"].shape
    rows = np.broadcast_to(np.arange(ny)[:, None], (ny, nx)).reshape(-1)
    pooled[name] = {key: grid.cells(key).reshape(ny * nx, -1)
                    for key in ("accuracy",) + CURVATURE_KEYS if key in grid.arrays}
    pooled[name]["rows"] = rows
  out = {"per_grid": per_grid}
  if not pooled:
    return None, {}
  num_seeds = max(p["accuracy"].shape[-1] for p in pooled.values())
  # Group labels: one per (grid, row), so centring acts within a grid's row.
  groups = np.concatenate([k * 10_000 + p["rows"] for k, p in enumerate(pooled.values())])
  for key in CURVATURE_KEYS:
    if not all(key in p for p in pooled.values()):
      continue
    curv = np.concatenate(_pad_seeds([p[key] for p in pooled.values()], num_seeds))
    acc = np.concatenate(_pad_seeds([p["accuracy"] for p in pooled.values()], num_seeds))
    suffix = "" if key == "curvature" else "_" + key
    out["pooled" + suffix] = curvature_accuracy_correlation(
        curv, acc, _rng(boot_seed, f"all/{key}"), num_boot)
    out["pooled" + suffix + "_row_centred"] = curvature_accuracy_correlation(
        curv, acc, _rng(boot_seed, f"all/{key}/centred"), num_boot, groups=groups)
  scatter = {n: (p["curvature"], p["accuracy"], p["rows"]) for n, p in pooled.items()}
  return out, scatter


def write_report(runs, out, num_boot=2000, boot_seed=0, dpi=90):
  """Analyses every sweep under ``runs``; writes numbers.json, numbers.md, PNGs into ``out``.

  Returns:
    The numbers (as written to numbers.json, before NaN -> null).
  """
  os.makedirs(out, exist_ok=True)
  numbers = {"runs": runs, "num_boot": num_boot, "boot_seed": boot_seed, "sweeps": {},
             "results": {}}
  grids, analyses, extra_figures = {}, {}, {}

  def attempt(name, fn):
    try:
      fn()
      numbers["sweeps"][name] = {"status": "ok"}
    except Exception as err:  # pylint: disable=broad-except
      # One broken sweep must not hide the others' numbers; it is reported.
      logging.error("%s failed:\n%s", name, traceback.format_exc())
      numbers["sweeps"][name] = {"status": "error", "error": f"{type(err).__name__}: {err}"}
      numbers["results"].pop(name, None)
      plt.close("all")

  for name in SWEEPS:
    workdir = os.path.join(runs, name)
    if not os.path.isdir(workdir):
      numbers["sweeps"][name] = {"status": "missing"}
      continue
    if not results.exists(os.path.join(workdir, "results")):
      numbers["sweeps"][name] = {"status": "incomplete (no merged results.npz/json)"}
      continue

    def run(name=name, workdir=workdir):
      if name in CLASSIFICATION_GRIDS or name in REGRESSION_GRIDS:
        grid = Grid.load(name, workdir)
        regression = name in REGRESSION_GRIDS or "accuracy" not in grid.arrays
        a = analyse_phase_grid(grid, "rmse" if regression else "accuracy", not regression,
                               num_boot, boot_seed)
        a["figure"] = os.path.basename(phase_figure(grid, a, os.path.join(out, f"phase_{name}.png"),
                                                    dpi))
        numbers["results"][name] = a
        if not regression:
          grids[name], analyses[name] = grid, a
      elif name.startswith("fig4"):
        a, extra_figures[name] = analyse_dynamics(name, workdir)
        numbers["results"][name] = a
      elif name == "fig5a":
        a, (get, labels) = analyse_linear(name, workdir)
        a["figure"] = os.path.basename(linear_figure(get, labels,
                                                     os.path.join(out, "fig5a_load_curves.png"),
                                                     dpi))
        numbers["results"][name] = a
      elif name == "s2":
        a, (series, rates, switch) = analyse_switch(name, workdir)
        a["figure"] = os.path.basename(switch_figure(series, rates, switch,
                                                     os.path.join(out, "s2_switch.png"), dpi))
        numbers["results"][name] = a

    attempt(name, run)

  for name, source, alpha, x_shown, pairs in ROW_CURVES:
    source_dir = os.path.join(runs, source)
    if not results.exists(os.path.join(source_dir, "results")):
      numbers["sweeps"][name] = {"status": f"missing (needs {source})"}
      continue

    def run_row(name=name, source_dir=source_dir, source=source, alpha=alpha,
                x_shown=x_shown, pairs=pairs):
      a = analyse_row_curves(Grid.load(source, source_dir), alpha, x_shown, pairs)
      a["figure"] = os.path.basename(row_curves_figure(
          name, a, os.path.join(out, f"{name}_load_curves.png"), dpi))
      numbers["results"][name] = a

    attempt(name, run_row)

  if "fig1c" in grids:
    # S10: the same sweep coloured by either metric's curvature.
    try:
      numbers["s10_figure"] = os.path.basename(pinv_phase_figure(
          grids["fig1c"], os.path.join(out, "s10_trace_vs_pinv.png"), dpi))
    except Exception:  # pylint: disable=broad-except
      logging.error("s10 figure failed:\n%s", traceback.format_exc())
      plt.close("all")

  numbers["wall_times_s"] = {
      name: results.load(os.path.join(runs, name, "results"))[1].get("wall_time_s")
      for name in SWEEPS if results.exists(os.path.join(runs, name, "results"))}

  if extra_figures:
    try:
      path = os.path.basename(dynamics_figure(extra_figures,
                                              os.path.join(out, "fig4_curvature.png"), dpi))
      for name in extra_figures:
        if name in numbers["results"]:
          numbers["results"][name]["figure"] = path
    except Exception:  # pylint: disable=broad-except
      logging.error("fig4 figure failed:\n%s", traceback.format_exc())
      plt.close("all")

  central, scatter = central_check(grids, analyses, num_boot, boot_seed)
  numbers["central_check"] = central
  if central:
    central["figure"] = os.path.basename(scatter_figure(
        scatter, central, os.path.join(out, "curvature_vs_accuracy.png"), dpi))

  springs_dir = os.path.join(runs, "springs")
  if os.path.isdir(springs_dir):
    try:
      numbers["springs"] = analyse_springs_dir(springs_dir)
    except Exception as err:  # pylint: disable=broad-except
      logging.error("springs failed:\n%s", traceback.format_exc())
      numbers["springs"] = {"all": {"status": "error", "error": f"{type(err).__name__}: {err}"}}
  else:
    numbers["springs"] = {"status": "missing"}
  # Figures the runs draw themselves, copied so the report links stay inside docs/.
  copied = []
  for source, pattern in (("springs", "*_phase.png"), ("springs", "first_order_corners.png"),
                          ("fig4_beside", "*.png")):
    for path in sorted(glob.glob(os.path.join(runs, source, pattern))):
      target = f"{source}_{os.path.basename(path)}"
      shutil.copyfile(path, os.path.join(out, target))
      copied.append(target)
  numbers["copied_figures"] = copied
  runtimes_path = os.path.join(runs, "runtimes.tsv")
  if os.path.exists(runtimes_path):
    rows = read_runtimes(runtimes_path)
    numbers["runtimes"] = {"rows": rows, "total_seconds": sum(r["seconds"] for r in rows)}
  else:
    numbers["runtimes"] = None

  markdown = _markdown(numbers)
  numbers = to_json(numbers)
  results.write_json(os.path.join(out, "numbers.json"), numbers)
  with open(os.path.join(out, "numbers.md"), "w") as f:
    f.write(markdown)
  total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)
              if os.path.isfile(os.path.join(out, f)))
  if total > SIZE_BUDGET_BYTES:
    logging.warning("%s holds %.1f MB, over the report's 3 MB budget; lower --dpi", out,
                    total / 2**20)
  return numbers


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  numbers = write_report(_RUNS.value, _OUT.value, _NUM_BOOT.value, _BOOT_SEED.value, _DPI.value)
  skipped = [f"{n} ({s['status']})" for n, s in numbers["sweeps"].items() if s["status"] != "ok"]
  print(f"Wrote {os.path.join(_OUT.value, 'numbers.md')} and numbers.json; "
        f"skipped: {', '.join(skipped) or 'none'}")


if __name__ == "__main__":
  flags.mark_flag_as_required("runs")
  app.run(main)

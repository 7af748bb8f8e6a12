"""What one phase-diagram sweep measures: signs, best cells, zero crossings, correlations.

Tables list rows by ascending raw ``y`` (``alpha`` 0 = ReLU first; see
:meth:`FinishedSweep.row_order`) and columns in grid order. Per row:
curvature signs by column, the best-score cell, the cell nearest zero
curvature, the interpolated zero crossings, how curvature moves with the
training noise, and the correlation of |curvature| with the score across
the row; per grid: the same correlation over all cells, raw and centred
within rows.
"""

from __future__ import annotations

import numpy as np

from featurespring.analysis import crossings
from featurespring.analysis import finished
from featurespring.analysis import stats

# Every curvature a network sweep records (train / test set, trace / pinv).
CURVATURE_KEYS = ("curvature", "curvature_pinv", "curvature_test", "curvature_pinv_test")
NOISE_DIRECTION = finished.NOISE_DIRECTION


def analyse_phase_grid(sweep, score="accuracy", higher_is_better=True, num_boot=2000, boot_seed=0):
  """Everything measured on one phase-diagram sweep.

  Args:
    sweep: a :class:`FinishedSweep`; its ``name`` labels the bootstrap
      generators (:func:`stats.bootstrap_rng`).
    score: the per-net score (``accuracy``, or ``rmse`` for regression).
    higher_is_better: whether the best cell has the highest score.
    num_boot: bootstrap resamples per correlation.
    boot_seed: seed of the bootstrap generators.

  Returns:
    A dict of plain values and NumPy arrays (rows by value): ``x``, ``y``,
    their values, per-metric cell ``{mean, std, n}`` (and ``sign`` strings
    for curvatures), ``diverged`` counts, ``rows`` (per-row findings),
    ``curvature_vs_noise``, ``best_vs_zero``, ``best_cell``,
    ``correlation_pooled`` and ``correlation_pooled_row_centred``.
  """
  x, y = sweep.x, sweep.y
  x_values, y_values = sweep.values(x), sweep.raw_y_values(by_value=True)
  direction = sweep.noise_direction()
  out = {
      "x": x,
      "y": y,
      "x_values": x_values,
      "y_values": y_values,
      "num_seeds": sweep.num_seeds,
      "score": score,
      "higher_is_better": higher_is_better,
      "noise_direction": direction,
      "fixed_axes": sweep.fixed_axes(),
      # A zipped x axis (e.g. batch size at fixed steps) is swept by index; tables
      # name its columns by the fields it sets.
      "x_fields": (
          {f: v.tolist() for f, v in sweep.x_zipped().items()} if sweep.x_zipped() else None
      ),
      "sign_rule": (
          f"|mean| > {stats.SIGN_SE_FACTOR:g} * std/sqrt(n) and "
          f"|mean| > {stats.SIGN_MIN_EFFECT:g}"
      ),
  }
  diverged = sweep.diverged(by_value=True)
  out["diverged"] = {
      "per_cell": diverged.sum(-1),
      "total": int(diverged.sum()),
      "num_nets": int(diverged.size),
  }
  for key in CURVATURE_KEYS + (score, "accuracy_train", "spread"):
    if key in sweep.arrays and key not in out:
      entry = stats.stats_entry(sweep.masked_cells(key, by_value=True))
      if key.startswith("curvature"):
        entry["sign"] = [
            "".join(r) for r in stats.sign_pattern(entry["mean"], entry["std"], entry["n"])
        ]
      out[key] = entry
  curvature = sweep.masked_cells("curvature", by_value=True)
  scores = sweep.masked_cells(score, by_value=True)
  curv_mean, score_mean = out["curvature"]["mean"], out[score]["mean"]
  pick = np.nanargmax if higher_is_better else np.nanargmin
  log_x = bool(sweep.config["plot"].get("log_x"))

  rows = []
  for i, y_value in enumerate(y_values):
    row = {"y": y_value}
    c_row, s_row = curv_mean[i], score_mean[i]
    abs_c = np.where(np.isfinite(c_row), np.abs(c_row), np.inf)
    best = int(pick(s_row)) if np.isfinite(s_row).any() else None
    zero = int(np.argmin(abs_c)) if np.isfinite(c_row).any() else None
    found = crossings.zero_crossings(c_row)
    row.update(
        best_col=best,
        best_x=None if best is None else x_values[best],
        best_score=None if best is None else s_row[best],
        zero_col=zero,
        zero_x=None if zero is None else x_values[zero],
        zero_curvature=None if zero is None else c_row[zero],
        crossings=found,
        crossings_x=[crossings.x_at(c, x_values, log_x) for c in found],
    )
    if best is not None and zero is not None:
      # 0: the best-score cell is the one nearest zero curvature.
      row["best_rank_by_abs_curvature"] = int(
          np.flatnonzero(np.argsort(abs_c, kind="stable") == best)[0]
      )
      row["best_minus_zero_steps"] = best - zero
      row["best_curvature"] = c_row[best]
      if found:
        nearest = min(found, key=lambda c: abs(best - c))
        row["best_minus_crossing_steps"] = best - nearest
    finite = np.isfinite(c_row)
    if finite.sum() >= 2:
      xs = np.asarray(x_values, np.float64)[finite]
      row["spearman_curvature_vs_x"] = float(stats.spearman(xs, c_row[finite]))
      steps = np.diff(c_row[finite]) * direction
      row["fraction_steps_up_with_noise"] = float(np.mean(steps > 0))
    row["correlation"] = stats.curvature_accuracy_correlation(
        curvature[i], scores[i], stats.bootstrap_rng(boot_seed, f"{sweep.name}/row/{i}"), num_boot
    )
    rows.append(row)
  out["rows"] = rows

  rhos = np.array([r.get("spearman_curvature_vs_x", np.nan) for r in rows]) * direction
  with stats.quiet():
    out["curvature_vs_noise"] = {
        "spearman_per_row": rhos,
        "median_spearman": float(np.nanmedian(rhos)),
        "fraction_rows_increasing": float(np.mean(rhos[np.isfinite(rhos)] >= stats.MONOTONE_RHO))
        if np.isfinite(rhos).any()
        else None,
        "rule": f"Spearman(curvature, x) * direction >= {stats.MONOTONE_RHO}; direction = "
        f"{direction:+g} (which way x raises the noise)",
    }
  with_both = [r for r in rows if "best_minus_zero_steps" in r]
  steps = np.array([r["best_minus_zero_steps"] for r in with_both], np.float64)
  crossing_steps = np.array(
      [r["best_minus_crossing_steps"] for r in with_both if "best_minus_crossing_steps" in r],
      np.float64,
  )
  out["best_vs_zero"] = {
      "rows": len(with_both),
      "fraction_best_is_nearest_zero": float(np.mean(steps == 0)) if steps.size else None,
      "fraction_within_one_step": float(np.mean(np.abs(steps) <= 1)) if steps.size else None,
      "mean_abs_steps": float(np.mean(np.abs(steps))) if steps.size else None,
      "rows_with_crossing": int(crossing_steps.size),
      "mean_abs_steps_to_crossing": float(np.mean(np.abs(crossing_steps)))
      if crossing_steps.size
      else None,
  }
  if np.isfinite(score_mean).any():
    i, j = np.unravel_index(pick(score_mean), score_mean.shape)
    out["best_cell"] = {
        "y": y_values[i],
        "x": x_values[j],
        "row": int(i),
        "col": int(j),
        "score": score_mean[i, j],
        "curvature": curv_mean[i, j],
    }
  row_ids = np.broadcast_to(np.arange(len(y_values))[:, None], curv_mean.shape)
  out["correlation_pooled"] = stats.curvature_accuracy_correlation(
      curvature, scores, stats.bootstrap_rng(boot_seed, f"{sweep.name}/pooled"), num_boot
  )
  out["correlation_pooled_row_centred"] = stats.curvature_accuracy_correlation(
      curvature,
      scores,
      stats.bootstrap_rng(boot_seed, f"{sweep.name}/pooled_centred"),
      num_boot,
      groups=row_ids,
  )
  return out


def row_load_curves(sweep, alpha, x_shown, pairs):
  """Mean load curves and curvatures of chosen cells of one row.

  Args:
    sweep: a :class:`FinishedSweep`.
    alpha: the raw ``y`` value of the row (the nearest is taken).
    x_shown: the ``x`` values of the cells (the nearest are taken).
    pairs: ``(curve key, curvature key)`` pairs, e.g. train and test curves.

  Returns:
    ``source`` (the sweep's name), ``alpha``, ``x``, ``pairs`` and ``cells``:
    per cell, each curve's seed mean, std and range (max - min of the mean),
    each curvature's ``{mean, std, n}`` and the accuracy's.
  """
  x_values, y_values = sweep.values(sweep.x), sweep.raw_y_values(by_value=True)
  row = int(np.argmin(np.abs(y_values - alpha)))
  cells = []
  for x in x_shown:
    col = int(np.argmin(np.abs(x_values - x)))
    entry = {sweep.x: float(x_values[col]), "column": col}
    for curve_key, curvature_key in pairs:
      curves = sweep.masked_cells(curve_key, by_value=True)[row, col]  # [seed, L+1]
      with stats.quiet():
        entry[curve_key] = np.nanmean(curves, axis=0)
        entry[curve_key + "_std"] = np.nanstd(curves, axis=0, ddof=1)
        entry[curve_key + "_range"] = float(
            np.nanmax(entry[curve_key]) - np.nanmin(entry[curve_key])
        )
      entry[curvature_key] = stats.stats_entry(
          sweep.masked_cells(curvature_key, by_value=True)[row, col]
      )
    if "accuracy" in sweep.arrays:
      entry["accuracy"] = stats.stats_entry(sweep.masked_cells("accuracy", by_value=True)[row, col])
    cells.append(entry)
  return {
      "source": sweep.name,
      "alpha": float(y_values[row]),
      "x": sweep.x,
      "pairs": [list(p) for p in pairs],
      "cells": cells,
  }


def matched_columns(first, second, field, metric="curvature"):
  """Two sweeps' seed-mean ``metric`` at the values of ``field`` they share, row by row.

  For a variant of a grid that changes one thing (e.g. batch size at fixed epochs
  against fixed steps): columns are matched by ``field``'s value
  (:meth:`FinishedSweep.x_field`), ordered from least to most noise, and
  rows by the y value, which must agree.

  Returns:
    ``x`` (the shared values, least noise first), ``y`` (raw row values,
    ascending) and per sweep ``[rows, columns]`` means and stds
    (``mean``, ``std``: lists of two arrays), with ``name``s.

  Raises:
    ValueError: the sweeps' rows differ, or they share fewer than two values.
  """
  y = [s.raw_y_values(by_value=True) for s in (first, second)]
  if not np.array_equal(y[0], y[1]):
    raise ValueError(f"{first.name} and {second.name} have different rows: {y[0]} vs {y[1]}")
  xs = [np.asarray(s.x_field(field)) for s in (first, second)]
  shared = np.intersect1d(xs[0], xs[1])
  if shared.size < 2:
    raise ValueError(f"{first.name} and {second.name} share fewer than two {field} values")
  shared = np.sort(shared)[:: int(first.noise_direction())]
  means, stds = [], []
  for sweep, x in zip((first, second), xs):
    columns = [int(np.flatnonzero(x == v)[0]) for v in shared]
    mean, std, _ = stats.cell_stats(sweep.finite_cells(metric)[sweep.row_order()][:, columns])
    means.append(mean)
    stds.append(std)
  return {
      "field": field,
      "x": shared,
      "y": y[0],
      "names": [first.name, second.name],
      "mean": means,
      "std": stds,
  }

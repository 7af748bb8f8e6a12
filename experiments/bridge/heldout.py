"""Held-out tests of the effective-friction law: predict cells the fit has not seen.

What is predicted is the fitted friction ``mu_eff`` of each cell (the seed
mean of ``fit_shape(...).friction``), the quantity the chain's law is about.
A network's curvature is not predicted directly: turning ``mu_eff`` into a
curvature needs each cell's own ``scale`` of the shape fit, which the law
does not say.

Two protocols along each row of a grid, levels ordered by the noise
coordinate ``z = g(knob)`` (so the largest batch comes first):

* ``interpolation``: fit on every other level (the 1st, 3rd, ...), predict
  the rest;
* ``extrapolation``: fit on the lowest ``train_fraction`` (60 %) of the
  levels, predict the rest, including where the friction crosses zero and
  the level it reaches at the largest noise.

Predictors, fit on the same training cells: ``theory`` (:func:`fit_noise_map`
then :func:`predict_friction`), ``linear`` (piecewise-linear interpolation in
``z`` between the nearest valid training levels; beyond them the straight
line through the two nearest), ``row_mean`` (the row's mean training
friction), and since 2026-12-06 two generic baselines the law must also
beat: ``nearest_cell`` (the nearest valid training level's value: the last
value, when extrapolating) and ``saturating`` (:func:`saturating_baseline`,
``a + b exp(-z / c)`` per row: a curve that levels off, with the law's
number of parameters). Scores on the held-out cells that every predictor covers: R²
(pooled over the grid's cells, against their mean) and mean absolute error.
Confidence intervals come from a seed bootstrap: the seeds of a grid are
shared by its cells, so one resample of seed indices is drawn per replicate
and applied to every cell, and the whole fit is redone (one vectorised call
over replicates and rows).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from featurespring.bridge import _noise_map as nm

SPLITS = ("interpolation", "extrapolation")
PREDICTORS = ("theory", "linear", "row_mean", "nearest_cell", "saturating")
BASELINES = ("linear", "row_mean", "nearest_cell", "saturating")
# Candidate scales c of the saturating baseline, as multiples of a row's training z-span.
SATURATION_SCALES = np.geomspace(0.02, 20.0, 64)
TRAIN_FRACTION = 0.6
CI_LEVEL = 0.95


def _check_seeds(friction_seeds, name="friction_seeds"):
  values = np.asarray(friction_seeds, np.float64) if not isinstance(friction_seeds, str) else None
  if values is None or values.ndim < 2:
    raise ValueError(f"{name} must be a real array [..., N, seeds], got {friction_seeds!r:.80}")
  return values


def _check_boot(num_boot, boot_seed):
  if isinstance(num_boot, bool) or not isinstance(num_boot, (int, np.integer)) or num_boot < 0:
    raise ValueError(f"num_boot must be an integer >= 0, got {num_boot!r}")
  if isinstance(boot_seed, bool) or not isinstance(boot_seed, (int, np.integer)):
    raise ValueError(f"boot_seed must be an integer, got {boot_seed!r}")


def split_levels(knob_values, knob_map, split, train_fraction=TRAIN_FRACTION):
  """``(train, test)`` level indices of a row, each in increasing noise ``z = g(knob)``.

  Raises:
    ValueError: naming ``split`` if unknown, ``train_fraction`` if not in
      (0, 1), ``knob_values`` if not 1-D, outside the map's range, or too
      short to leave 3 training levels and 1 test level.
  """
  if split not in SPLITS:
    raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
  if not 0.0 < float(train_fraction) < 1.0:
    raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction!r}")
  z = np.asarray(nm.knob_coordinate(knob_values, knob_map), np.float64)
  if z.ndim != 1:
    raise ValueError(f"knob_values must be 1-D (one knob axis per grid), got shape {z.shape}")
  order = np.argsort(z, kind="stable")
  if split == "interpolation":
    train, test = order[0::2], order[1::2]
  else:
    num_train = math.ceil(train_fraction * z.size)
    train, test = order[:num_train], order[num_train:]
  if train.size < nm.NUM_PARAMS or test.size < 1:
    raise ValueError(
        f"knob_values has {z.size} levels: the {split} split leaves {train.size} for fitting "
        f"(needs >= {nm.NUM_PARAMS}) and {test.size} to predict (needs >= 1)"
    )
  return train, test


def seed_bootstrap_means(friction_seeds, num_boot, boot_seed):
  """``[1 + num_boot, ...]`` cell means over seeds: index 0 the data, then resamples.

  ``friction_seeds`` is ``[..., seeds]``; one resample of seed indices per
  replicate serves every cell (the grid's seeds are shared). Cells whose
  seeds are all NaN are NaN.
  """
  values = np.asarray(friction_seeds, np.float64)
  num_seeds = values.shape[-1]
  rng = np.random.default_rng(boot_seed)
  index = np.concatenate(
      [np.arange(num_seeds)[None], rng.integers(0, num_seeds, (num_boot, num_seeds))]
  )
  finite = np.isfinite(values)
  filled = np.where(finite, values, 0.0)
  # Counting resampled seeds per cell as a matrix product keeps every
  # replicate one vectorised operation.
  counts = np.stack([np.bincount(i, minlength=num_seeds) for i in index]).astype(np.float64)
  total = np.einsum("...s,bs->b...", filled, counts)
  used = np.einsum("...s,bs->b...", finite.astype(np.float64), counts)
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(used > 0, total / np.where(used > 0, used, 1), np.nan)


def linear_baseline(z_train, y_train, z_test):
  """Piecewise-linear prediction along each row, skipping NaN training cells.

  Between valid training levels: interpolation; beyond them: the line
  through the two nearest valid ones; one valid level: that constant.

  Args:
    z_train: ``[Ntr]`` increasing coordinates of the training levels.
    y_train: ``[..., Ntr]`` values, NaN where missing.
    z_test: ``[T]`` coordinates to predict.

  Returns:
    ``[..., T]`` float64 NumPy; NaN for rows without a valid training level.
  """
  z_train = np.asarray(z_train, np.float64)
  y_train = np.asarray(y_train, np.float64)
  z_test = np.asarray(z_test, np.float64)
  n = z_train.shape[-1]
  idx = np.arange(n)
  valid = np.isfinite(y_train)[..., None, :]  # [..., 1, Ntr]
  at = z_test[:, None]
  left = np.max(np.where(valid & (z_train <= at), idx, -1), -1)
  right = np.min(np.where(valid & (z_train >= at), idx, n), -1)
  left2 = np.max(np.where(valid & (idx < left[..., None]), idx, -1), -1)
  right2 = np.min(np.where(valid & (idx > right[..., None]), idx, n), -1)
  has_l, has_r = left >= 0, right < n
  i0 = np.where(has_l & has_r, left, np.where(has_l, left2, right))
  i1 = np.where(has_l & has_r, right, np.where(has_l, left, right2))
  ok0, ok1 = (i0 >= 0) & (i0 < n), (i1 >= 0) & (i1 < n)
  i0, i1 = np.where(ok0, i0, i1), np.where(ok1, i1, i0)
  any_valid = ok0 | ok1
  i0, i1 = np.clip(i0, 0, n - 1), np.clip(i1, 0, n - 1)
  y_filled = np.where(np.isfinite(y_train), y_train, 0)
  y0 = np.take_along_axis(y_filled, i0, -1)
  y1 = np.take_along_axis(y_filled, i1, -1)
  z0, z1 = z_train[i0], z_train[i1]
  gap = z1 - z0
  with np.errstate(invalid="ignore", divide="ignore"):
    t = np.where(gap != 0, (z_test - z0) / np.where(gap != 0, gap, 1), 0)
  return np.where(any_valid, y0 + t * (y1 - y0), np.nan)


def nearest_cell_baseline(z_train, y_train, z_test):
  """Each test level gets the value of the nearest valid training level in ``z`` (ties: lower).

  Shapes as :func:`linear_baseline`; NaN for rows without a valid training level.
  """
  z_train = np.asarray(z_train, np.float64)
  y_train = np.asarray(y_train, np.float64)
  distance = np.abs(np.asarray(z_test, np.float64)[:, None] - z_train)  # [T, Ntr]
  distance = np.where(np.isfinite(y_train)[..., None, :], distance, np.inf)
  nearest = np.argmin(distance, -1)  # first of ties: the lower level
  value = np.take_along_axis(np.where(np.isfinite(y_train), y_train, 0.0), nearest, -1)
  return np.where(np.isfinite(y_train).any(-1, keepdims=True), value, np.nan)


def saturating_baseline(z_train, y_train, z_test, scales=SATURATION_SCALES):
  """``a + b exp(-(z - z_0) / c)`` per row, least squares on the valid training levels.

  Three parameters, as the law has: for each candidate ``c`` (``scales``
  times the row's training span in ``z``) ``a`` and ``b`` are linear least
  squares; the ``c`` with the smallest squared error wins. ``z_0`` is the
  lowest training level. Shapes as :func:`linear_baseline`; NaN for rows
  with fewer than 3 valid training levels.
  """
  z_train = np.asarray(z_train, np.float64)
  y_train = np.asarray(y_train, np.float64)
  z_test = np.asarray(z_test, np.float64)
  valid = np.isfinite(y_train)
  y = np.where(valid, y_train, 0.0)
  w = valid.astype(np.float64)
  z0, span = z_train.min(), max(np.ptp(z_train), 1e-12)
  c = scales * span  # [C]
  basis = np.exp(-(z_train - z0)[None, :] / c[:, None])  # [C, Ntr]
  # Weighted 2x2 normal equations per row and candidate.
  s1 = w.sum(-1)[..., None]
  sx = np.einsum("...n,cn->...c", w, basis)
  sxx = np.einsum("...n,cn->...c", w, basis**2)
  sy = (w * y).sum(-1)[..., None]
  sxy = np.einsum("...n,cn->...c", w * y, basis)
  det = s1 * sxx - sx**2
  with np.errstate(invalid="ignore", divide="ignore"):
    b = np.where(det > 0, (s1 * sxy - sx * sy) / det, np.nan)
    a = np.where(det > 0, (sy - b * sx) / s1, np.nan)
  # The squared error from the same sums, without a [..., C, Ntr] array of fits.
  syy = (w * y * y).sum(-1)[..., None]
  sse = syy - 2 * a * sy - 2 * b * sxy + a * a * s1 + 2 * a * b * sx + b * b * sxx
  sse = np.where(np.isfinite(sse), sse, np.inf)
  best = np.argmin(sse, -1)
  pick = lambda v: np.take_along_axis(v, best[..., None], -1)
  a_best, b_best, c_best = pick(a), pick(b), c[best][..., None]
  out = a_best + b_best * np.exp(-(z_test - z0) / c_best)
  return np.where((valid.sum(-1) >= 3)[..., None], out, np.nan)


def _ci(values):
  """Point (replicate 0) and percentile CI over the other replicates, NaN-aware."""
  point = float(values[0])
  rest = values[1:][np.isfinite(values[1:])]
  if rest.size == 0:
    return {"value": point, "low": math.nan, "high": math.nan}
  tail = 100 * (1 - CI_LEVEL) / 2
  low, high = np.percentile(rest, [tail, 100 - tail])
  return {"value": point, "low": float(low), "high": float(high)}


def _scores(predictions, measured, mask):
  """Per replicate R² and MAE of each predictor over ``mask`` (``[B, ...]`` arrays)."""
  axes = tuple(range(1, measured.ndim))
  count = mask.sum(axes)
  safe = np.where(count > 0, count, 1)
  meas = np.where(mask, measured, 0.0)
  centre = meas.sum(axes, keepdims=True) / safe.reshape((-1,) + (1,) * len(axes))
  sst = np.where(mask, (measured - centre) ** 2, 0.0).sum(axes)
  out = {}
  for name, pred in predictions.items():
    err = np.where(mask, pred - measured, 0.0)
    sse = (err**2).sum(axes)
    with np.errstate(invalid="ignore", divide="ignore"):
      r2 = np.where((count > 1) & (sst > 0), 1 - sse / np.where(sst > 0, sst, 1), np.nan)
      mae = np.where(count > 0, np.abs(err).sum(axes) / safe, np.nan)
    out[name] = {"r2": r2, "mae": mae}
  return out, count


def _summarise(scores, count, predictions, measured, test_mask):
  metrics = {}
  for name, s in scores.items():
    covered = test_mask[0] & np.isfinite(predictions[name][0])
    metrics[name] = {
        "r2": _ci(s["r2"]),
        "mae": _ci(s["mae"]),
        "coverage": float(covered.sum() / max(test_mask[0].sum(), 1)),
    }
  difference = {
      b: {
          "mae": _ci(scores[b]["mae"] - scores["theory"]["mae"]),
          "r2": _ci(scores["theory"]["r2"] - scores[b]["r2"]),
      }
      for b in scores
      if b != "theory"
  }
  return metrics, difference, int(count[0])


def _row_mean(y):
  """Mean of each row's finite values, ``[..., 1]``; NaN for an empty row."""
  finite = np.isfinite(y)
  count = finite.sum(-1, keepdims=True)
  total = np.where(finite, y, 0.0).sum(-1, keepdims=True)
  return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _zero_crossing(z, y):
  """First ``+ -> <= 0`` crossing of ``y`` along increasing ``z`` (``[..., N]``), NaN if none."""
  y0, y1, z0, z1 = y[..., :-1], y[..., 1:], z[..., :-1], z[..., 1:]
  hit = np.isfinite(y0) & np.isfinite(y1) & (y0 > 0) & (y1 <= 0)
  with np.errstate(invalid="ignore", divide="ignore"):
    at = z0 + (z1 - z0) * y0 / (y0 - y1)
  first = np.argmax(hit, -1)
  found = hit.any(-1)
  return np.where(found, np.take_along_axis(at, first[..., None], -1)[..., 0], np.nan)


def held_out(
    knob_values,
    friction_seeds,
    knob_map,
    *,
    split="interpolation",
    train_fraction=TRAIN_FRACTION,
    num_boot=1000,
    boot_seed=0,
    num_candidates=nm.NUM_CANDIDATES,
):
  """Held-out prediction of the friction of a grid's cells: theory against the baselines.

  Args:
    knob_values: ``[N]`` knob value of each level (one knob per grid).
    friction_seeds: ``[..., N, seeds]`` per-run fitted friction (NaN for
      invalid fits or diverged runs); leading axes are rows.
    knob_map: name in ``KNOB_MAPS`` (or a ``KnobMap``).
    split: ``interpolation`` or ``extrapolation`` (module docstring).
    train_fraction: share of levels fit in ``extrapolation``.
    num_boot: seed-bootstrap replicates for the CIs (0: none).
    boot_seed: NumPy seed of the bootstrap.
    num_candidates: breakpoint candidates of :func:`fit_noise_map`.

  Returns:
    A dict: ``split``, ``knob_map``, ``train`` / ``test`` level indices,
    ``measured`` (``[..., N]`` seed means), ``predictions`` (per predictor,
    ``[..., N]``, from the data), ``fit`` (the theory's
    :class:`NoiseMapFit` on the data's training cells), ``metrics`` (per
    predictor: ``r2``, ``mae`` as ``{value, low, high}``, ``coverage`` of
    held-out cells), ``difference`` (per baseline: ``mae`` = baseline minus
    theory, ``r2`` = theory minus baseline, with CIs; > 0 favours the theory),
    ``num_cells`` scored. ``extrapolation`` adds ``last_level`` (the same
    scores on the largest noise level only: the saturation level) and
    ``crossing`` (per row knob value where the friction crosses zero:
    ``measured`` on the full row, ``theory`` and ``linear`` predicted, NaN
    where none, and their mean absolute errors in knob units over rows where
    both exist, with ``agree``: rows where prediction and measurement agree
    on whether a crossing exists).

  Raises:
    ValueError: naming the bad argument (see :func:`split_levels`,
      :func:`fit_noise_map`); ``friction_seeds`` if it is not ``[..., N,
      seeds]`` with ``N`` matching ``knob_values``.
  """
  kmap = nm.get_knob_map(knob_map)
  values = _check_seeds(friction_seeds)
  _check_boot(num_boot, boot_seed)
  knob = np.asarray(knob_values, np.float64)
  train, test = split_levels(knob, kmap, split, train_fraction)
  if values.shape[-2] != knob.size:
    raise ValueError(
        f"friction_seeds must be [..., N, seeds] with N = {knob.size} levels, got {values.shape}"
    )
  z = np.asarray(nm.knob_coordinate(knob, kmap), np.float64)
  means = seed_bootstrap_means(values, num_boot, boot_seed)  # [B, ..., N]
  y_train, y_test = means[..., train], means[..., test]
  fit = nm.fit_noise_map(
      knob[train], y_train.astype(np.float32), knob_map=kmap, num_candidates=num_candidates
  )
  predictions = {
      "theory": np.asarray(nm.predict_friction(fit, knob), np.float64),
      "linear": np.asarray(linear_baseline(z[train], y_train, z), np.float64),
      "row_mean": np.broadcast_to(_row_mean(y_train), means.shape),
      "nearest_cell": np.asarray(nearest_cell_baseline(z[train], y_train, z), np.float64),
      "saturating": np.asarray(saturating_baseline(z[train], y_train, z), np.float64),
  }
  test_mask = np.zeros(means.shape, bool)
  test_mask[..., test] = True
  test_mask &= np.isfinite(means)
  common = test_mask.copy()
  for pred in predictions.values():
    common &= np.isfinite(pred)
  scores, count = _scores(predictions, means, common)
  metrics, difference, num_cells = _summarise(scores, count, predictions, means, test_mask)
  point_fit = type(fit)(**{f: getattr(fit, f)[0] for f in nm._FIELDS}, knob_map=fit.knob_map)
  result = {
      "split": split,
      "knob_map": kmap.name,
      "train": train.tolist(),
      "test": test.tolist(),
      "measured": means[0],
      "predictions": {k: v[0] for k, v in predictions.items()},
      "fit": point_fit,
      "metrics": metrics,
      "difference": difference,
      "num_cells": num_cells,
  }
  if split == "extrapolation":
    last = np.zeros(means.shape, bool)
    last[..., test[-1]] = True
    last &= common
    last_scores, last_count = _scores(predictions, means, last)
    result["last_level"] = _summarise(last_scores, last_count, predictions, means, last)[0]
    result["crossing"] = _crossings(knob, z, train, kmap, means[0], predictions, point_fit)
  return result


def _crossings(knob, z, train, kmap, measured, predictions, fit):
  order = np.argsort(z, kind="stable")
  inverse = lambda v: np.asarray(kmap.inverse(jnp.asarray(v)), np.float64)
  measured_z = _zero_crossing(z[order], measured[..., order])
  # The linear baseline beyond the training range is the line through the
  # last two valid training levels: its zero, if it falls.
  linear = predictions["linear"][0][..., order]
  beyond = z[order] > z[train].max()
  line_z = _zero_crossing(z[order], np.where(beyond | np.isin(order, train), linear, np.nan))
  out = {
      "measured": inverse(measured_z),
      "theory": np.asarray(fit.critical_knob, np.float64),
      "linear": inverse(line_z),
  }
  summary = {}
  for name in ("theory", "linear"):
    both = np.isfinite(out["measured"]) & np.isfinite(out[name])
    summary[name] = {
        "mae_knob": float(np.mean(np.abs(out[name][both] - out["measured"][both])))
        if both.any()
        else math.nan,
        "rows_both": int(both.sum()),
        "agree": int(np.sum(np.isfinite(out["measured"]) == np.isfinite(out[name]))),
    }
  out["summary"] = summary
  out["rows"] = int(np.size(out["measured"]))
  return out


def compare_knob_maps(knob_values, friction_seeds, knob_maps, *, split="interpolation", **kwargs):
  """:func:`held_out` for each candidate map; ``{name: result}``, sorted by the theory's MAE.

  A map whose valid range excludes the knob values gets ``{"error": message}``
  instead (listed last), so a table can say why it is missing.
  """
  results, errors = {}, {}
  for name in knob_maps:
    try:
      results[name] = held_out(knob_values, friction_seeds, name, split=split, **kwargs)
    except ValueError as err:
      if "knob_values" not in str(err):
        raise
      errors[name] = {"error": str(err)}
  ordered = sorted(
      results, key=lambda n: _sort_key(results[n]["metrics"]["theory"]["mae"]["value"])
  )
  return {**{n: results[n] for n in ordered}, **errors}


def _sort_key(value):
  return math.inf if not np.isfinite(value) else value

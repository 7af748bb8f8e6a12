"""The second test's pre-registered analysis (README.md: "Predictions compared" to "Decision rule").

Per row (one alpha, one width) of a family, in **knob units**:

* the row's cells, and per cell and seed the final test and validation
  accuracy and curvature of the full runs (diverged nets NaN: :class:`Row`);
* the validation peak (:func:`peak_knob`): the argmax of the seed-mean
  validation accuracy, moved to the vertex of the parabola through it and its
  neighbours, clipped to half-way to each neighbour. On the evenly spaced
  cells of the first test this is its rule; the refined cells are not evenly
  spaced, so the parabola is fitted in knob units;
* the validation-chosen best cell: the argmax of the seed-mean validation
  accuracy over the row's cells;
* every model's prediction ``k̂`` (:data:`MODELS`) and its **accuracy lost**:
  the test accuracy at the best cell minus the test accuracy at ``k̂``,
  linearly interpolated between the row's cells (a ``k̂`` beyond the row's
  cells reads the end cell: a knob cannot be set outside its range), in
  percentage points.

Fitted models are fitted leave-one-row-out on the other rows of the family,
to validation peaks only. A bootstrap over the full runs' seeds (seed indices
drawn once per family, shared by all its cells) recomputes everything but the
cheap-run crossing, which is the predictor and stays fixed.
:func:`decide` is the plan's decision rule.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from experiments.central_claim import central
from experiments.crossing_vs_order import design
from featurespring import sweep
from featurespring.analysis import stats

MARGIN = 0.5  # percentage points of test accuracy (the decision rule's margin)
NUM_BOOT = 2000
BOOT_SEED = 0
CI = 0.95
PRIMARY = ("C0", "O2", "M")
SECONDARY = ("O1", "C1", "C100")
MODELS = PRIMARY + SECONDARY


@dataclasses.dataclass
class Row:
  """One row's full runs, cells ascending in the knob.

  Attributes:
    alpha, width: the row.
    knobs: ``[cells]`` knob values.
    crossing: the cheap-run crossing in knob units (a censored one at the
      grid's end, as ``refine.py`` wrote it).
    crossing_censored: ``"left"``, ``"right"`` or ``None``.
    test, val, curvature: ``[cells, seeds]``; NaN where the net diverged or
      the value is not finite.
  """

  alpha: float
  width: int
  knobs: np.ndarray
  crossing: float
  crossing_censored: str | None
  test: np.ndarray
  val: np.ndarray
  curvature: np.ndarray


def load_family(full_workdir: str, cells_path: str) -> tuple[design.Family, list[Row]]:
  """The family's rows, from its phase-2 workdir and the cells file that planned it."""
  with open(cells_path, encoding="utf-8") as f:
    planned = json.load(f)
  family = design.FAMILIES[planned["family"]]
  ds = sweep.load(full_workdir)
  bad = ds.diverged.values
  masked = lambda key: np.where(bad | ~np.isfinite(ds[key].values), np.nan, ds[key].values)
  test, val, curvature = masked("accuracy"), masked("accuracy_val"), masked("curvature")
  alphas, widths, knobs = (ds[k].values for k in ("alpha", "width", family.knob))
  rows = []
  for planned_row in planned["rows"]:
    at = np.flatnonzero((alphas == planned_row["alpha"]) & (widths == planned_row["width"]))
    at = at[np.argsort(knobs[at], kind="stable")]
    if not np.allclose(knobs[at], planned_row["cells"]):
      raise ValueError(
          f"{full_workdir}: row alpha={planned_row['alpha']}, width={planned_row['width']} has "
          f"cells {knobs[at].tolist()}, but {cells_path} planned {planned_row['cells']}"
      )
    position = planned_row["crossing_position"]
    rows.append(
        Row(
            alpha=float(planned_row["alpha"]),
            width=int(planned_row["width"]),
            knobs=knobs[at].astype(np.float64),
            crossing=float(planned_row["crossing_knob"]),
            crossing_censored={"-inf": "left", "inf": "right"}.get(str(position)),
            test=test[at].astype(np.float64),
            val=val[at].astype(np.float64),
            curvature=curvature[at].astype(np.float64),
        )
    )
  return family, rows


# --------------------------------------------------------------------------
# Along one row, vectorised over resamples ``[B, cells]``.


def _take(values, index):
  return np.take_along_axis(values, index[..., None], -1)[..., 0]


def peak_knob(means, knobs):
  """The parabola-refined argmax of ``means [B, cells]`` in knob units: ``(peak [B], censored [B])``.

  At an end cell, or beside a NaN cell, the peak is the argmax cell itself
  and censored; NaN where no cell is finite.
  """
  means, knobs = np.asarray(means, np.float64), np.asarray(knobs, np.float64)
  num = knobs.size
  finite = np.isfinite(means)
  k = np.argmax(np.where(finite, means, -np.inf), -1)
  lo, hi = np.maximum(k - 1, 0), np.minimum(k + 1, num - 1)
  x0, x1, x2 = knobs[lo], knobs[k], knobs[hi]
  y0, y1, y2 = _take(means, lo), _take(means, k), _take(means, hi)
  censored = (k == 0) | (k == num - 1) | ~np.isfinite(y0) | ~np.isfinite(y2)
  with stats.quiet():
    # Vertex of the parabola through the three points (divided differences).
    d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
    a = (d12 - d01) / (x2 - x0)
    vertex = np.where(a < 0, (x0 + x1) / 2 - d01 / (2 * a), x1)
  vertex = np.clip(vertex, (x0 + x1) / 2, (x1 + x2) / 2)
  peak = np.where(censored, x1, vertex)
  return np.where(finite.any(-1), peak, np.nan), censored | ~finite.any(-1)


def read_at(k, means, knobs):
  """``means [B, cells]`` linearly interpolated in the knob at ``k [B]``; NaN cells skipped.

  Beyond the cells the end cell is read; NaN where ``k`` is NaN or no cell is finite.
  """
  means, knobs = np.asarray(means, np.float64), np.asarray(knobs, np.float64)
  k = np.asarray(k, np.float64)
  out = np.full(k.shape, np.nan)
  finite = np.isfinite(means)
  full = finite.all(-1) & np.isfinite(k)
  if full.any():
    j = np.clip(np.searchsorted(knobs, k[full], side="right") - 1, 0, knobs.size - 2)
    span = knobs[j + 1] - knobs[j]
    w = np.clip((k[full] - knobs[j]) / span, 0.0, 1.0)
    m = means[full]
    out[full] = (1 - w) * _take(m, j) + w * _take(m, j + 1)
  for b in np.flatnonzero(~full & np.isfinite(k) & finite.any(-1)):
    out[b] = np.interp(k[b], knobs[finite[b]], means[b, finite[b]])
  return out


def crossing_knob(curvature_means, knobs):
  """The first test's crossing of ``curvature_means [B, cells]``, in knob units (censored: the end)."""
  return np.asarray(design.knob_at(central.crossing(curvature_means), knobs))


# --------------------------------------------------------------------------
# Across the rows of a family, ``[B, rows]``.


def loo_mean(values):
  """Each row's mean of ``values [B, rows]`` over the other rows (NaN ones left out)."""
  values = np.asarray(values, np.float64)
  valid = np.isfinite(values)
  total = np.where(valid, values, 0.0).sum(-1, keepdims=True) - np.where(valid, values, 0.0)
  count = valid.sum(-1, keepdims=True) - valid
  with stats.quiet():
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def ranks(rows):
  """``[rows, 2]``: each row's rank in alpha and in width (design order)."""
  return np.array([[design.ALPHAS.index(r.alpha), design.WIDTHS.index(r.width)] for r in rows])


def family_readings(rows, weights=None):
  """Every per-row quantity of the plan for one family, ``[B, rows]``.

  ``weights [B, seeds]``: each resample's seed counts
  (:func:`central.seed_weights`); ``None``: the point estimate (``B = 1``).
  """
  num_seeds = rows[0].test.shape[-1]
  weights = np.ones((1, num_seeds)) if weights is None else np.asarray(weights, np.float64)
  means = lambda values: central.cell_means(values[None], weights)[..., 0, :]
  per_row, test_means = [], []
  for row in rows:
    test, val = means(row.test), means(row.val)
    best = np.argmax(np.where(np.isfinite(val), val, -np.inf), -1)
    val_peak, val_censored = peak_knob(val, row.knobs)
    test_peak, test_censored = peak_knob(test, row.knobs)
    per_row.append(
        {
            "best_knob": row.knobs[best],
            "test_best": np.where(np.isfinite(val).any(-1), _take(test, best), np.nan),
            "val_peak": val_peak,
            "val_peak_censored": val_censored,
            "test_peak": test_peak,
            "test_peak_censored": test_censored,
            "c100": crossing_knob(means(row.curvature), row.knobs),
        }
    )
    test_means.append(test)
  out = {k: np.stack([r[k] for r in per_row], -1) for k in per_row[0]}
  crossing = np.broadcast_to([r.crossing for r in rows], out["val_peak"].shape)
  rank, vpeak = ranks(rows), out["val_peak"]
  out["prediction"] = {
      "C0": crossing,
      "O2": stats.leave_one_out_fit(vpeak, rank),
      "M": central.leave_one_out_median(vpeak, np.isfinite(vpeak), None),
      "O1": stats.leave_one_out_fit(vpeak, rank[:, :1]),
      "C1": crossing + loo_mean(vpeak - crossing),
      "C100": out["c100"],
  }
  read = lambda k: np.stack(
      [read_at(k[:, r], test_means[r], row.knobs) for r, row in enumerate(rows)], -1
  )
  out["loss"] = {m: 100.0 * (out["test_best"] - read(k)) for m, k in out["prediction"].items()}
  out["position_error"] = {m: np.abs(vpeak - k) for m, k in out["prediction"].items()}
  return out


def _squeeze(tree):
  if isinstance(tree, dict):
    return {k: _squeeze(v) for k, v in tree.items()}
  return tree[0]


def _interval(boots):
  return [float(v) for v in central.percentile_ci(boots, CI)]


def _summary(point, boots):
  return {"value": float(point), "ci": _interval(boots)}


def _nanmean(values):
  with stats.quiet():
    return np.nanmean(values, -1)


def summarise(point, boot):
  """Mean losses, the differences to C0 and (where given) mean position errors, each
  ``{value, ci}``; ``num_rows``: rows with a C0 loss."""
  out = {"loss": {}, "delta": {}}
  for name in MODELS:
    out["loss"][name] = _summary(_nanmean(point["loss"][name]), _nanmean(boot["loss"][name]))
    if "position_error" in point:
      out.setdefault("position_error", {})[name] = _summary(
          _nanmean(point["position_error"][name]), _nanmean(boot["position_error"][name])
      )
    if name != "C0":
      diff = lambda r: _nanmean(r["loss"][name]) - _nanmean(r["loss"]["C0"])
      out["delta"][name] = _summary(diff(point), diff(boot))
  out["num_rows"] = int(np.isfinite(point["loss"]["C0"]).sum())
  return out


def decide(summary):
  """The plan's decision rule on a :func:`summarise` output.

  Returns ``verdict``, ``conditions`` (each named condition's truth; a NaN
  bound fails every condition on it) and ``open`` (for ``inconclusive``: the
  primary intervals that contain their bound).
  """
  lo, hi = summary["loss"]["C0"]["ci"]
  delta = {name: summary["delta"][name]["ci"] for name in PRIMARY[1:]}
  cond = {f"L_C0 above {MARGIN}": bool(lo > MARGIN), f"L_C0 below {MARGIN}": bool(hi < MARGIN)}
  for name, (d_lo, d_hi) in delta.items():
    cond[f"Δ_{name} below 0"] = bool(d_hi < 0)
    cond[f"Δ_{name} above 0"] = bool(d_lo > 0)
  refute = [f"L_C0 above {MARGIN}"] + [f"Δ_{n} below 0" for n in delta]
  support = [f"L_C0 below {MARGIN}"] + [f"Δ_{n} above 0" for n in delta]
  if any(cond[k] for k in refute):
    verdict = "refuted"
  elif all(cond[k] for k in support):
    verdict = "supported"
  else:
    verdict = "inconclusive"
  contains = lambda ci, bound: not (ci[0] > bound or ci[1] < bound)
  open_ = []
  if verdict == "inconclusive":
    open_ += [f"L_C0 contains {MARGIN}"] if contains((lo, hi), MARGIN) else []
    open_ += [f"Δ_{n} contains 0" for n, ci in delta.items() if contains(ci, 0.0)]
  return {"verdict": verdict, "conditions": cond, "open": open_}


def first_test_crossings(rows):
  """The cheap crossings as the first test reads them: a censored one is no position (NaN),
  so its row leaves the statistics, where the plan's predictions read the grid's end."""
  return np.array([np.nan if r.crossing_censored else r.crossing for r in rows])


def first_test_statistics(point_rows, c, family_name, boot_seed=BOOT_SEED):
  """The first test's offset, slope and link test on these rows: cheap crossing ``c`` against
  the test peak, in knob units (``central.statistics`` and ``central.link_test``)."""
  p, censored = point_rows["test_peak"], point_rows["test_peak_censored"]
  out = {k: float(v) for k, v in central.statistics(c, p, censored).items()}
  out["link"] = central.link_test(
      c,
      p,
      censored,
      rng=stats.bootstrap_rng(boot_seed, f"crossing_vs_order/perm/{family_name}"),
      num_perm=central.PLAN_NUM_PERM,
  )
  return out


def analyse(families, num_boot=NUM_BOOT, boot_seed=BOOT_SEED):
  """The whole analysis over ``{name: (design.Family, [Row])}``.

  Returns:
    ``families``: per family its ``rows`` (per row: crossing, peaks, best
    cell, every model's ``k̂``, loss and position error, each with its
    interval), ``summary`` and ``decision`` (the rule read on this family
    alone: secondary) and ``first_test``; ``pooled``: ``summary`` and
    ``decision`` over all rows (the verdict) and ``crossing_inside`` (the same read
    on the rows whose cheap crossing is not censored: a sensitivity reading added
    after the results, never the verdict); ``settings``.
  """
  out = {"families": {}, "settings": {"num_boot": num_boot, "boot_seed": boot_seed, "ci": CI}}
  points, boots, inside = [], [], []
  for name, (family, rows) in families.items():
    num_seeds = rows[0].test.shape[-1]
    rng = stats.bootstrap_rng(boot_seed, f"crossing_vs_order/boot/{name}")
    weights = central.seed_weights(central.draw_seeds(rng, num_seeds, num_boot), num_seeds)
    point, boot = _squeeze(family_readings(rows)), family_readings(rows, weights)
    per_row = []
    for r, row in enumerate(rows):
      entry = {
          "alpha": row.alpha,
          "width": row.width,
          "cells": row.knobs,
          "crossing": row.crossing,
          "crossing_censored": row.crossing_censored,
          "diverged": int(np.isnan(row.test).sum()),
      }
      for key in ("val_peak", "test_peak", "best_knob", "test_best", "c100"):
        entry[key] = _summary(point[key][r], boot[key][:, r])
      entry["val_peak_censored"] = bool(point["val_peak_censored"][r])
      entry["test_peak_censored"] = bool(point["test_peak_censored"][r])
      entry["models"] = {
          m: {
              "k": _summary(point["prediction"][m][r], boot["prediction"][m][:, r]),
              "loss": _summary(point["loss"][m][r], boot["loss"][m][:, r]),
              "position_error": float(point["position_error"][m][r]),
          }
          for m in MODELS
      }
      per_row.append(entry)
    summary = summarise(point, boot)
    out["families"][name] = {
        "knob": family.knob,
        "rows": per_row,
        "summary": summary,
        "decision": decide(summary),
        "first_test": first_test_statistics(point, first_test_crossings(rows), name),
    }
    points.append(point)
    boots.append(boot)
    inside.append(np.array([r.crossing_censored is None for r in rows]))
  if points:
    # Position errors are in each family's knob units: pooled, only losses.
    pooled = lambda parts: {
        "loss": {m: np.concatenate([p["loss"][m] for p in parts], -1) for m in MODELS}
    }
    summary = summarise(pooled(points), pooled(boots))
    out["pooled"] = {"families": list(families), "summary": summary, "decision": decide(summary)}
    # Added after the results were read, as a sensitivity reading, never the verdict: a reader's
    # first question is whether the censored crossings (the grid's end) decide the outcome.
    keep = np.concatenate(inside)
    drop = lambda parts: {
        "loss": {m: np.where(keep, v, np.nan) for m, v in pooled(parts)["loss"].items()}
    }
    sensitivity = summarise(drop(points), drop(boots))
    out["pooled"]["crossing_inside"] = {
        "summary": sensitivity,
        "decision": decide(sensitivity),
        "num_censored": int((~keep).sum()),
    }
  return out

"""Sweeps along a zipped ``case`` axis: a few named settings rather than a grid.

For example lazy / balanced / active networks or chains (curvature over
time from the recorded trajectories), or a linear network at a small step,
a large step and with dropout (final load curves). Each
setting is the first row's column ``c`` of :meth:`FinishedSweep.cells`.
"""

from __future__ import annotations

import numpy as np

from featurespring import metrics
from featurespring.analysis import crossings
from featurespring.analysis import stats


def case_labels(config, num_cases, names=()):
  """``"<name> (field=value, ...)"`` per case, from the zipped ``config.grid.case``.

  Cases beyond ``names`` are labelled by their settings alone.
  """
  fields = config["grid"].get("case", {})
  labels = []
  for i in range(num_cases):
    settings = ", ".join(f"{f}={v[i]:g}" for f, v in sorted(fields.items()))
    labels.append(f"{names[i]} ({settings})" if i < len(names) else settings)
  return labels


def one_at_a_time(config):
  """The one-factor series of a ``case`` axis: ``{field: [case, ...]}``.

  Case 0 is the base setting; a field's series is the base and every case
  that differs from it in that field alone, ordered by the field's value
  (e.g. the learning rate at dropout 0, the dropout rate at the small
  step). Fields that never vary alone are left out.
  """
  fields = {f: np.asarray(v, np.float64) for f, v in config["grid"].get("case", {}).items()}
  series = {}
  for field, values in fields.items():
    others = [v for f, v in fields.items() if f != field]
    alone = [c for c in range(len(values)) if all(o[c] == o[0] for o in others)]
    if len({values[c] for c in alone}) > 1:
      series[field] = sorted(alone, key=lambda c: values[c])
  return series


def curvature_over_time(sweep, names=()):
  """Curvature over time per case from the trajectories.

  Args:
    sweep: a :class:`FinishedSweep` with ``history/load_curve`` (its snapshot times from :meth:`FinishedSweep.snapshot_times`).
    names: names of the cases (:func:`case_labels`).

  Returns:
    ``(numbers, series)``: ``numbers`` holds ``engine``, ``cases`` (per
    case: seed-mean curvature at the first and last evaluated time, its
    extremes and when, the final curvature +- std and sign, theory and
    accuracy where recorded) and ``time_unit``; ``series`` is
    ``(trajectory [case, seed, T, L+1], times [case, seed, T], diverged
    [case, seed], labels)`` for the figure.
  """
  trajectory = sweep.cells("history/load_curve")[0].astype(np.float64)  # [case, seed, T, L+1]
  times = sweep.snapshot_times()[0].astype(np.float64)  # [case, seed, T]
  diverged = sweep.diverged()[0]
  # metrics.curvature is jnp; NaN (unevaluated epochs, diverged nets) propagates.
  curvature = np.asarray(metrics.curvature(trajectory), np.float64)
  curvature[diverged] = np.nan
  final = sweep.masked_cells("curvature")[0]
  labels = case_labels(sweep.config, trajectory.shape[0], names)
  cases = []
  for c, label in enumerate(labels):
    mean, std, _ = stats.cell_stats(np.moveaxis(curvature[c], 0, -1))  # over seeds: [T]
    t = times[c, 0]
    ok = np.flatnonzero(np.isfinite(mean))
    case = {
        "case": label,
        "num_seeds": int((~diverged[c]).sum()),
        "diverged": int(diverged[c].sum()),
    }
    if ok.size:
      lo, hi = ok[np.argmin(mean[ok])], ok[np.argmax(mean[ok])]
      case.update(
          start=mean[ok[0]],
          start_time=t[ok[0]],
          end=mean[ok[-1]],
          end_std=std[ok[-1]],
          end_time=t[ok[-1]],
          min=mean[lo],
          min_time=t[lo],
          max=mean[hi],
          max_time=t[hi],
          evaluated_times=int(ok.size),
      )
    fm, fs, fn = stats.cell_stats(final[c])
    case.update(final_curvature=fm, final_curvature_std=fs)
    case["final_sign"] = str(stats.sign_pattern(fm, fs, fn))
    if "theory/curvature" in sweep.arrays:
      case["theory_curvature"] = float(np.nanmean(sweep.cells("theory/curvature")[0, c]))
    if "accuracy" in sweep.arrays:
      case["accuracy"] = stats.cell_stats(sweep.masked_cells("accuracy")[0, c])[0]
    cases.append(case)
  out = {
      "engine": sweep.engine,
      "cases": cases,
      "time_unit": "epoch" if sweep.engine == "dnn" else "time (step x dt)",
  }
  return out, (trajectory, times, diverged, labels)


def final_load_curves(sweep, names=()):
  """Final load curves (trace and pinv) and curvature per case.

  Args:
    sweep: a :class:`FinishedSweep` of networks.
    names: names of the cases (:func:`case_labels`).

  Returns:
    ``(numbers, (get, labels))``: ``numbers`` holds ``cases`` (per case:
    seed mean and std of both load curves, both curvatures with std and
    sign, the final train accuracy and loss); ``get(key)`` gives the first
    row's ``[case, seed, ...]`` values with diverged nets NaN.
  """
  get = lambda key: sweep.masked_cells(key)[0]
  diverged = sweep.diverged()[0]  # [case, seed]
  labels = case_labels(sweep.config, diverged.shape[0], names)
  cases = []
  for c, label in enumerate(labels):
    case = {"case": label, "diverged": int(diverged[c].sum())}
    for metric, curve in (("curvature", "load_curve"), ("curvature_pinv", "load_curve_pinv")):
      with stats.quiet():
        case[curve] = np.nanmean(get(curve)[c], 0)
        case[curve + "_std"] = np.nanstd(get(curve)[c], 0)
      m, s, n = stats.cell_stats(get(metric)[c])
      case.update(
          {metric: m, metric + "_std": s, metric + "_sign": str(stats.sign_pattern(m, s, n))}
      )
    for key, field in (
        ("accuracy_train", "accuracy_train"),
        ("history/loss", "final_train_loss"),
    ):
      if key in sweep.arrays:
        values = get(key)[c]
        if values.ndim == 2:  # a history: the last evaluated epoch
          values = crossings.last_finite(values, values.shape[-1] - 1)[0]
        case[field] = stats.cell_stats(values)[0]
    cases.append(case)
  return {"cases": cases}, (get, labels)

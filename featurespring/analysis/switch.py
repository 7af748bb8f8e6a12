"""Dropout raised mid-training: before the switch against the end.

The sweep's ``x`` axis is the rate after the switch (``dropout_switch_rate``);
its per-epoch histories give the curvature (trace and pinv) and the test
accuracy at the last evaluated epoch at or before the switch, and at the end.
"""

from __future__ import annotations

import numpy as np

from featurespring import metrics
from featurespring.analysis import crossings
from featurespring.analysis import stats


def before_and_after_switch(sweep):
  """Curvature and accuracy before the dropout switch and at the end, per rate.

  Args:
    sweep: a :class:`FinishedSweep` with ``history/load_curve``,
      ``history/load_curve_pinv``, ``history/accuracy`` and ``history/diverged``.

  Returns:
    ``(numbers, (series, rates, switch))``: ``numbers`` holds
    ``switch_epoch``, ``num_epochs``, ``eval_every``, ``base_dropout`` and
    ``cases`` (per rate: each quantity's mean, std and count before and at
    the end, its change, the curvature's signs and the epochs used);
    ``series`` the seed means over epochs ``{key: [rate, E]}``.
  """
  config = sweep.config["dnn"]
  switch = int(config["dropout_switch_epoch"])
  num_epochs = int(config["num_epochs"])
  rates = sweep.values(sweep.x)
  get = lambda key: sweep.cells(key)[0].astype(np.float64)  # [rate, seed, ...]
  history = {
      "curvature": np.asarray(metrics.curvature(get("history/load_curve")), np.float64),
      "curvature_pinv": np.asarray(metrics.curvature(get("history/load_curve_pinv")), np.float64),
      "accuracy": get("history/accuracy"),
  }
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
        value, used = crossings.last_finite(values[r], upto)
        # A net diverged by then is out (its frozen values are still finite).
        value = np.where(diverged[r][:, upto], np.nan, value)
        m, s, n = stats.cell_stats(value)
        case[f"{key}_{when}"], case[f"{key}_{when}_std"] = m, s
        case[f"{key}_{when}_n"] = int(n)
        if key == "curvature":
          case[f"{when}_sign"] = str(stats.sign_pattern(m, s, n))
          case[f"{when}_epoch"] = int(used.max()) + 1 if (used >= 0).any() else None
    for key in history:
      case[f"{key}_change"] = case[f"{key}_end"] - case[f"{key}_before"]
    cases.append(case)
  for key, values in history.items():
    masked = np.where(diverged, np.nan, values)
    series[key] = stats.cell_stats(np.moveaxis(masked, 1, -1))[0]  # [rate, E]
  out = {
      "switch_epoch": switch,
      "num_epochs": num_epochs,
      "eval_every": int(config.get("eval_every", 1)),
      "base_dropout": config["dropout"],
      "cases": cases,
  }
  return out, (series, rates, switch)

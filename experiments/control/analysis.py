"""Load balancing (experiments/control/README.md): the controller against tuned fixed-noise grids.

Two finished sweeps per setting: a *controlled* one (axes ``alpha``,
``control_gain``, ``control_target``, ``seed``; every net starts at rate 0
and the controller moves it) and a fixed-dropout *baseline* grid (axes
``alpha``, ``dropout``, ``seed``). Both train the same nets (same seeds,
data, validation split), so methods are compared paired by seed.

Per row ``alpha`` and seed, the baselines pick one rate of the grid:

* (a) ``no_noise``: rate 0;
* (b) ``best_val``: the highest validation accuracy (held out of the
  training pool, never the test set): what tuning the rate costs;
* (c) ``nearest_linear``: the smallest |curvature| of the final training-set
  load curve (the theory's choice, found by search);
* (d) ``oracle``: the highest test accuracy (optimistic: chosen on the test
  set itself).

Ties go to the lowest rate; diverged nets (NaN) are never picked. Compute is
counted in net-epochs: one controlled run is ``E``, each grid baseline
``R * E`` (it trains every rate ``R`` of the grid to choose one).

Cheap baselines within the pass rule's compute limit (added 2026-12-06, after the first
results had been read: ``MATCHED``), read off the same grid:

* (e) ``default_rate``: :data:`DEFAULT_RATE` without tuning (``E``);
* (f) ``two_rates``: the better validation accuracy of rates
  :data:`TWO_RATES` (``2 E``);
* (g) ``halving``: successive halving over all ``R`` rates, keeping the best
  ``1 / HALVING_ETA`` by validation accuracy at each epoch of
  :data:`HALVING_RUNGS` and training the last one to ``E``: ``16 x 4 + 4 x 12
  + 84 = 196`` net-epochs for 16 rates and 100 epochs, inside the
  pass rule's compute limit (``E R / 8 = 200``).

Pure NumPy; the figures import matplotlib on their own.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from scipy import stats as scipy_stats

from featurespring.analysis import docblocks
from featurespring.analysis import stats
from featurespring import grids as grid_lib
from featurespring.sweep import merging

BASELINES = ("no_noise", "best_val", "nearest_linear", "oracle")
BASELINE_LABELS = {
    "no_noise": "(a) no noise",
    "best_val": "(b) best validation rate",
    "nearest_linear": "(c) nearest-linear rate",
    "oracle": "(d) test oracle",
}
# The success criterion (experiments/control/README.md): the controller's test accuracy at
# most this many points below baseline (b), at most this fraction of its compute.
MARGIN_POINTS = 0.3
MAX_COMPUTE_RATIO = 1 / 8
# Rows predicted out of the dropout knob's reach for a target <= 0
# (`featurespring.train.controller.CONVEX_WITHOUT_NOISE_ALPHA`); reported, not
# part of the decision.
UNREACHABLE_ALPHA = 0.8
CONFIDENCE = 0.95
# Cheap baselines within the pass rule's compute limit (up to twice the controller's own).
MATCHED = ("default_rate", "two_rates", "halving")
MATCHED_LABELS = {
    "default_rate": "(e) default rate",
    "two_rates": "(f) best of two rates",
    "halving": "(g) successive halving",
}
DEFAULT_RATE = 0.1  # a common untuned dropout rate, inside every grid's range
TWO_RATES = (0.0, DEFAULT_RATE)
HALVING_ETA = 4
HALVING_RUNGS = (4, 16)  # epochs; evaluated epochs of the baseline grid (eval_every 4)


def by_axes(array, names, order):
  """``array`` (grid axes ``names`` in front) with the axes ``order`` first."""
  source = [list(names).index(name) for name in order]
  return np.moveaxis(np.asarray(array), source, list(range(len(order))))


@dataclasses.dataclass
class Pair:
  """A controlled sweep and its baseline grid, as ``[alpha, ...]`` arrays.

  Attributes:
    alphas: ``[A]`` rows (LeakyReLU slopes) common to both sweeps.
    rates: ``[R]`` the baseline's fixed dropout rates.
    gains, targets: ``[G]``, ``[T]`` the controller's axes.
    epochs: epochs per net (the same in both).
    baseline: ``accuracy``, ``accuracy_val``, ``curvature`` ``[A, R, S]``
      (NaN where diverged) and ``accuracy_val_history`` ``[A, R, S, E]``
      (NaN at epochs not evaluated).
    control: ``accuracy``, ``accuracy_val``, ``curvature``, ``rate`` (the
      knob, ``Config.control_knob``, after training), ``saturated``
      (updates at a bound) ``[A, G, T, S]``; ``rate_history``,
      ``curvature_history`` ``[A, G, T, S, E]``.
    config: the controlled sweep's config (plain dict).
    wall_s_per_net_epoch: ``{"control": s, "baseline": s}``, each sweep's
      wall time per net-epoch it trained (`wall_s_per_net_epoch`); NaN
      where not recorded.
  """

  alphas: np.ndarray
  rates: np.ndarray
  gains: np.ndarray
  targets: np.ndarray
  epochs: int
  baseline: dict
  control: dict
  config: dict
  wall_s_per_net_epoch: dict = dataclasses.field(default_factory=dict)

  @property
  def num_seeds(self) -> int:
    return self.baseline["accuracy"].shape[-1]

  def nearest(self, gain, target) -> tuple[int, int]:
    """Indices of the swept gain and target nearest to ``gain``, ``target``."""
    return int(np.argmin(np.abs(self.gains - gain))), int(np.argmin(np.abs(self.targets - target)))


def _masked(arrays, key, names, order):
  values = by_axes(arrays[key], names, order).astype(np.float64)
  diverged = by_axes(arrays["diverged"], names, order).astype(bool)
  return np.where(
      diverged.reshape(diverged.shape + (1,) * (values.ndim - diverged.ndim)), np.nan, values
  )


def load_pair(control_dir, baseline_dir) -> Pair:
  """Reads two merged workdirs (`featurespring.sweep.load_result`) as a `Pair`.

  Raises:
    ValueError: if their rows, seeds or epochs differ, or the baseline has
      no validation accuracy (``num_val = 0``) or no rate 0.
  """
  control, control_sidecar = merging.load_result(os.fspath(control_dir))
  base, base_sidecar = merging.load_result(os.fspath(baseline_dir))
  seed = grid_lib.SEED_AXIS
  for name in ("alpha", seed):
    if not np.array_equal(control[f"axis/{name}"], base[f"axis/{name}"]):
      raise ValueError(f"{control_dir} and {baseline_dir} differ in axis {name!r}")
  epochs = {int(s["config"]["dnn"]["num_epochs"]) for s in (control_sidecar, base_sidecar)}
  if len(epochs) != 1:
    raise ValueError(f"{control_dir} and {baseline_dir} train for different epochs {epochs}")
  if "accuracy_val" not in base:
    raise ValueError(f"{baseline_dir} has no accuracy_val: run it with num_val > 0")
  rates = base["axis/dropout"]
  if rates[0] != 0:
    raise ValueError(f"{baseline_dir}: the first dropout rate must be 0, got {rates[0]}")
  base_order = ("alpha", "dropout", seed)
  control_order = ("alpha", "control_gain", "control_target", seed)
  base_names, control_names = base_sidecar["grid_names"], control_sidecar["grid_names"]
  baseline = {
      k: _masked(base, k, base_names, base_order) for k in ("accuracy", "accuracy_val", "curvature")
  }
  baseline["accuracy_val_history"] = _masked(base, "history/accuracy_val", base_names, base_order)
  keys = {
      "accuracy": "accuracy",
      "accuracy_val": "accuracy_val",
      "curvature": "curvature",
      "rate": "control_final",
      "saturated": "control_saturated",
      "rate_history": f"history/control/{control_sidecar['config']['dnn']['control_knob']}",
      "curvature_history": "history/control/curvature",
  }
  controlled = {k: _masked(control, key, control_names, control_order) for k, key in keys.items()}
  return Pair(
      alphas=np.asarray(base["axis/alpha"]),
      rates=np.asarray(rates),
      gains=np.asarray(control["axis/control_gain"]),
      targets=np.asarray(control["axis/control_target"]),
      epochs=epochs.pop(),
      baseline=baseline,
      control=controlled,
      config=control_sidecar["config"],
      wall_s_per_net_epoch={
          "control": wall_s_per_net_epoch(control_sidecar),
          "baseline": wall_s_per_net_epoch(base_sidecar),
      },
  )


def wall_s_per_net_epoch(sidecar: dict) -> float:
  """Wall seconds per net-epoch of a merged sweep, over what its parts'
  last invocations trained.

  A part's ``wall_time_s`` is its last invocation's, which trained
  ``units - resumed_from_unit`` epochs (the time before is a field of its
  own, ``wall_time_s_before_resume``): the
  rate stays right where the total would not. Compiles are included. NaN
  when the sidecar has no parts.
  """
  parts = sidecar.get("parts", {}).values()
  units = int(sidecar.get("units", 0))
  trained = sum((units - int(p["resumed_from_unit"])) * int(p["num_members"]) for p in parts)
  seconds = sum(float(p["wall_time_s"]) for p in parts)
  return seconds / trained if trained > 0 else float("nan")


def _first_best(values, axis):
  """Index of the largest finite value along ``axis`` (first of ties; 0 if none)."""
  return np.argmax(np.where(np.isfinite(values), values, -np.inf), axis=axis)


def select_baselines(accuracy, accuracy_val, curvature) -> dict:
  """The rate each baseline picks, per row and seed.

  Args:
    accuracy, accuracy_val, curvature: ``[A, R, S]`` test and validation
      accuracy and final training-set curvature of the fixed-rate grid
      (rate 0 first), NaN for diverged nets.

  Returns:
    ``{name: (index [A, S], test accuracy [A, S])}`` for `BASELINES`.
  """
  accuracy = np.asarray(accuracy, np.float64)
  index = {
      "no_noise": np.zeros(accuracy.shape[::2], np.int64),
      "best_val": _first_best(np.asarray(accuracy_val, np.float64), axis=1),
      "nearest_linear": _first_best(-np.abs(np.asarray(curvature, np.float64)), axis=1),
      "oracle": _first_best(accuracy, axis=1),
  }
  return {
      name: (i, np.take_along_axis(accuracy, i[:, None, :], axis=1)[:, 0])
      for name, i in index.items()
  }


def _rate_index(rates, rate):
  matches = np.flatnonzero(np.isclose(rates, rate))
  if not matches.size:
    raise ValueError(f"rate {rate} is not in the baseline grid's rates {list(rates)}")
  return int(matches[0])


def successive_halving(val_history, rungs=HALVING_RUNGS, eta=HALVING_ETA):
  """The rate successive halving keeps, per row and seed: ``index [A, S]``.

  Args:
    val_history: ``[A, R, S, E]`` validation accuracy by epoch (epoch ``e`` at
      index ``e - 1``), NaN where not evaluated or diverged.
    rungs: epochs at which the alive rates are ranked; each keeps the best
      ``ceil(alive / eta)`` (ties to the lower rate; NaN ranks last).
    eta: the halving factor.

  Raises:
    ValueError: a rung epoch that the grid did not evaluate.
  """
  history = np.asarray(val_history, np.float64)
  num_rows, num_rates, num_seeds, num_epochs = history.shape
  alive = np.ones((num_rows, num_rates, num_seeds), bool)
  for epoch in rungs:
    if not 1 <= epoch <= num_epochs or not np.isfinite(history[..., epoch - 1]).any():
      raise ValueError(f"rung epoch {epoch} was not evaluated (run the grid with eval_every=4)")
    score = np.where(alive & np.isfinite(history[..., epoch - 1]), history[..., epoch - 1], -np.inf)
    keep = -(-int(alive[0, :, 0].sum()) // eta)
    # Stable order by descending score: ties keep the lower rate.
    order = np.argsort(-score, axis=1, kind="stable")
    ranks = np.argsort(order, axis=1, kind="stable")
    alive &= ranks < keep
  return _first_best(np.where(alive, 0.0, -np.inf), axis=1)  # one left; the lowest if more


def halving_net_epochs(num_rates, epochs, rungs=HALVING_RUNGS, eta=HALVING_ETA) -> int:
  """Net-epochs successive halving trains: every alive rate up to each rung, the last to ``epochs``."""
  total, alive, done = 0, num_rates, 0
  for epoch in rungs:
    total += alive * (epoch - done)
    alive, done = -(-alive // eta), epoch
  return total + alive * (epochs - done)


def matched_baselines(pair: "Pair") -> dict:
  """``{name: (index [A, S], test accuracy [A, S])}`` of the cheap baselines (:data:`MATCHED`).

  A baseline the grid cannot give (a rate it lacks, rung epochs it did not
  evaluate: a smoke test's grid) is ``(None, NaN)``.
  """
  accuracy = np.asarray(pair.baseline["accuracy"], np.float64)
  num_rows, _, num_seeds = accuracy.shape

  def default_rate():
    return np.full((num_rows, num_seeds), _rate_index(pair.rates, DEFAULT_RATE))

  def two_rates():
    two = [_rate_index(pair.rates, r) for r in TWO_RATES]
    val = np.asarray(pair.baseline["accuracy_val"], np.float64)[:, two]
    return np.asarray(two)[_first_best(val, axis=1)]

  def halving():
    return successive_halving(pair.baseline["accuracy_val_history"])

  out = {}
  for name, pick in (
      ("default_rate", default_rate),
      ("two_rates", two_rates),
      ("halving", halving),
  ):
    try:
      i = pick()
    except ValueError:
      out[name] = (None, np.full((num_rows, num_seeds), np.nan))
      continue
    out[name] = (i, np.take_along_axis(accuracy, i[:, None, :], axis=1)[:, 0])
  return out


def mean_ci(values, confidence=CONFIDENCE):
  """``(mean, low, high, n)`` over the last axis (seeds): Student t interval.

  NaN entries are left out; the interval is NaN with fewer than two.
  """
  values = np.asarray(values, np.float64)
  mean, std, n = stats.cell_stats(values)
  with stats.quiet(), np.errstate(invalid="ignore", divide="ignore"):
    half = scipy_stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * std / np.sqrt(n)
  half = np.where(n >= 2, half, np.nan)
  return mean, mean - half, mean + half, n


def paired_difference(first, second, confidence=CONFIDENCE):
  """`mean_ci` of ``first - second`` per seed (pairs with a NaN left out)."""
  return mean_ci(np.asarray(first, np.float64) - np.asarray(second, np.float64), confidence)


def net_epochs(epochs: int, num_rates: int) -> dict:
  """Net-epochs per row and seed that each method trains to report one net."""
  grid = num_rates * epochs
  return {
      "controller": epochs,
      "no_noise": epochs,
      "best_val": grid,
      "nearest_linear": grid,
      "oracle": grid,
      "default_rate": epochs,
      "two_rates": len(TWO_RATES) * epochs,
      "halving": halving_net_epochs(num_rates, epochs),
  }


def row_verdicts(difference, alphas, compute_ratio, margin=MARGIN_POINTS / 100):
  """Per-row and overall decision (experiments/control/README.md, "Decision rule").

  Args:
    difference: `paired_difference` of controller minus baseline (b) test
      accuracy, ``(mean, low, high, n)`` arrays ``[A]`` (fractions, not %).
    alphas: ``[A]`` the rows.
    compute_ratio: controller net-epochs over baseline (b)'s.
    margin: the allowed shortfall (0.3 points: 0.003).

  Returns:
    ``{"rows": [pass | fail | clear_fail | not_decided per row],
    "rows_by_interval": [pass | undecided | clear_fail | not_decided: the
    row's whole interval above -margin, across it, below it], "decided":
    rows in the decision (alpha < UNREACHABLE_ALPHA), "verdict": success |
    mixed | failure, "compute_ok": bool}``. A row passes when the mean
    difference is at least ``-margin``, fails clearly when the whole
    interval lies below ``-margin``. Success: every decided row passes and
    the compute ratio is within `MAX_COMPUTE_RATIO`. Failure: no decided row
    passes, or half or more fail clearly, or the compute is over. Mixed:
    anything else.
  """
  mean, low, high, _ = difference
  # The same reading with the interval in place of the point estimate (reported,
  # not the plan's rule): a row passes when its whole interval clears -margin.
  by_interval = [
      "not_decided"
      if alpha >= UNREACHABLE_ALPHA
      else "pass"
      if lo >= -margin
      else "clear_fail"
      if h < -margin
      else "undecided"
      for alpha, lo, h in zip(alphas, low, high)
  ]
  rows = []
  for alpha, m, h in zip(alphas, mean, high):
    if alpha >= UNREACHABLE_ALPHA:
      rows.append("not_decided")
    elif not np.isfinite(m):
      rows.append("fail")
    elif m >= -margin:
      rows.append("pass")
    else:
      rows.append("clear_fail" if h < -margin else "fail")
  decided = [r for r in rows if r != "not_decided"]
  passed = sum(r == "pass" for r in decided)
  clear = sum(r == "clear_fail" for r in decided)
  compute_ok = compute_ratio <= MAX_COMPUTE_RATIO
  if not compute_ok or not decided or passed == 0 or 2 * clear >= len(decided):
    verdict = "failure"
  elif passed == len(decided):
    verdict = "success"
  else:
    verdict = "mixed"
  return {
      "rows": rows,
      "rows_by_interval": by_interval,
      "decided": len(decided),
      "verdict": verdict,
      "compute_ok": compute_ok,
  }


def settling(rate_history, curvature_history, target, last=5):
  """How a controlled net ends: ``(mean |error| over its last readings,
  std of the rate's logit over the second half of training)``.

  Args:
    rate_history: ``[..., E]`` the knob each epoch trained with.
    curvature_history: ``[..., E]`` the curvature read (NaN between readings).
    target: broadcastable to ``[...]``.
    last: readings averaged for the final error.

  A converged loop has both small; an oscillating one a large rate spread; a
  saturated one a large final error with a rate that does not move.
  """
  curvature = np.asarray(curvature_history, np.float64)
  error = np.abs(np.asarray(target, np.float64)[..., None] - curvature)
  read = np.isfinite(error)
  # The last `last` readings of each net: rank readings from the end.
  rank_from_end = np.cumsum(read[..., ::-1], axis=-1)[..., ::-1]
  keep = read & (rank_from_end <= last)
  with stats.quiet():
    final_error = np.nanmean(np.where(keep, error, np.nan), axis=-1)
    rates = np.clip(np.asarray(rate_history, np.float64), 1e-6, 1 - 1e-6)
    logit = np.log(rates) - np.log1p(-rates)
    spread = np.nanstd(logit[..., logit.shape[-1] // 2 :], axis=-1)
  return final_error, spread


def analyse(pair: Pair, gain: float, target: float) -> dict:
  """Everything the report says about one setting, primary ``(gain, target)``
  (the nearest swept values).

  Returns a dict with per-row arrays ``[A]``: ``methods`` (name ->
  `mean_ci` of test accuracy, the controller's first, then `BASELINES` and
  `MATCHED`), ``difference`` (controller minus (b), paired),
  ``matched_difference`` (name -> controller minus that `MATCHED` baseline), ``controller_rate`` (mean final rate),
  ``chosen_rate`` (name -> mean rate picked), ``saturated`` (fraction of
  nets with any saturated update), ``final_error``, ``rate_spread``;
  ``sensitivity`` ``[G, T]`` (mean over decided rows of the paired
  difference to (b)); ``compute`` (net-epochs) and ``verdict``
  (`row_verdicts`).
  """
  g, t = pair.nearest(gain, target)
  control = {k: v[:, g, t] for k, v in pair.control.items()}
  chosen = select_baselines(
      pair.baseline["accuracy"], pair.baseline["accuracy_val"], pair.baseline["curvature"]
  )
  matched = matched_baselines(pair)
  methods = {"controller": mean_ci(control["accuracy"])}
  methods.update({name: mean_ci(acc) for name, (_, acc) in chosen.items()})
  methods.update({name: mean_ci(acc) for name, (_, acc) in matched.items()})
  difference = paired_difference(control["accuracy"], chosen["best_val"][1])
  compute = net_epochs(pair.epochs, len(pair.rates))
  ratio = compute["controller"] / compute["best_val"]
  final_error, spread = settling(control["rate_history"], control["curvature_history"], target)
  decided = pair.alphas < UNREACHABLE_ALPHA
  with stats.quiet():
    sensitivity = np.nanmean(
        pair.control["accuracy"][decided] - chosen["best_val"][1][decided][:, None, None],
        axis=(0, 3),
    )
    result = {
        "alphas": pair.alphas,
        "gain": float(pair.gains[g]),
        "target": float(pair.targets[t]),
        "methods": methods,
        "difference": difference,
        "controller_rate": np.nanmean(control["rate"], axis=-1),
        "chosen_rate": {
            name: pair.rates[i].mean(axis=-1)
            if i is not None
            else np.full(len(pair.alphas), np.nan)
            for name, (i, _) in (chosen | matched).items()
        },
        "matched_difference": {
            name: paired_difference(control["accuracy"], acc) for name, (_, acc) in matched.items()
        },
        "saturated": np.nanmean(control["saturated"] > 0, axis=-1),
        "final_error": np.nanmean(final_error, axis=-1),
        "rate_spread": np.nanmean(spread, axis=-1),
        "sensitivity": sensitivity,
        "compute": compute,
        "compute_ratio": ratio,
        # One controlled run against the grid's R runs, in wall time.
        "wall_ratio": pair.wall_s_per_net_epoch.get("control", np.nan)
        / (len(pair.rates) * pair.wall_s_per_net_epoch.get("baseline", np.nan)),
    }
  result["verdict"] = row_verdicts(difference, pair.alphas, ratio)
  result["robust"] = sensitivity_robust(sensitivity, pair.gains, g, t)
  return result


def sensitivity_robust(sensitivity, gains, gain_index, target_index, margin=MARGIN_POINTS / 100):
  """Whether the controller is robust to its gain and target (experiments/control/README.md,
  "Sensitivity"): every cell with gain <= the primary's within ``margin`` of
  the primary cell.

  Args:
    sensitivity: ``[G, T]`` mean paired difference to (b) per gain and target.
    gains: ``[G]``.
    gain_index, target_index: the primary cell.

  Returns:
    ``{"robust": bool, "worst": the largest distance from the primary among
    those cells, "cells": how many}``; not robust if any is NaN.
  """
  sensitivity = np.asarray(sensitivity, np.float64)
  primary = sensitivity[gain_index, target_index]
  cells = sensitivity[np.asarray(gains) <= gains[gain_index]]
  distance = np.abs(cells - primary)
  worst = float(np.max(distance)) if np.all(np.isfinite(distance)) else float("nan")
  return {"robust": bool(worst <= margin), "worst": worst, "cells": int(cells.size)}


def claim_verdict(setting_verdicts: dict, primary_setting="fig1c") -> str:
  """The issue's claim (experiments/control/README.md, "Decision rule"): ``holds`` if the
  primary setting is a success and no variant a failure, ``does not hold``
  if the primary is not a success or any variant fails, else ``undecided``
  (a setting has not run yet).

  Args:
    setting_verdicts: setting name -> `row_verdicts` verdict, or None where
      the setting has not run.
  """
  primary = setting_verdicts.get(primary_setting)
  variants = [v for k, v in setting_verdicts.items() if k != primary_setting]
  if (primary is not None and primary != "success") or "failure" in variants:
    return "does not hold"
  if primary is None or None in variants:
    return "undecided"
  return "holds"


# -- Figures ------------------------------------------------------------------


def _row_axes(num_rows, title, width=3.2, height=2.6):
  from featurespring import plotting  # pylint: disable=g-import-not-at-top

  fig, axes = plotting.new_figure(1, num_rows, width=width, height=height)
  fig.suptitle(title)
  return fig, axes[0]


def plot_over_training(pair: Pair, gain, target, what, title):
  """Knob (``what='rate'``) or curvature (``'curvature'``, with the target
  line) over training, one panel per row, one line per seed; a dotted line
  marks the end of the warm-up."""
  g, t = pair.nearest(gain, target)
  target = pair.targets[t]
  key = "rate_history" if what == "rate" else "curvature_history"
  history = pair.control[key][:, g, t]  # [A, S, E]
  epochs = np.arange(1, history.shape[-1] + 1)
  warmup = pair.config.get("dnn", {}).get("control_warmup", 0)
  fig, axes = _row_axes(len(pair.alphas), title)
  for ax, alpha, series in zip(axes, pair.alphas, history):
    if warmup:
      ax.axvline(warmup, color="0.6", ls=":", lw=1)  # the first update
    for seed_series in series:
      read = np.isfinite(seed_series)
      ax.plot(epochs[read], seed_series[read], lw=1, alpha=0.8)
    if what == "curvature":
      ax.axhline(target, color="k", ls="--", lw=1, label=f"target {target:g}")
      ax.legend(fontsize=7, loc="best")
    ax.set_title(f"alpha = {alpha:g}", fontsize=9)
    ax.set_xlabel("epoch")
  knob = pair.config.get("dnn", {}).get("control_knob", "dropout").replace("_", " ")
  axes[0].set_ylabel(f"{knob} (knob)" if what == "rate" else "train curvature")
  return fig


def plot_on_phase_diagram(pair: Pair, gain, title):
  """Baseline test accuracy against fixed dropout per row (mean, 95% CI over
  seeds) with the controlled nets' final rate and accuracy as markers, one
  colour per target."""
  fig, axes = _row_axes(len(pair.alphas), title)
  g, _ = pair.nearest(gain, 0.0)
  chosen = select_baselines(
      pair.baseline["accuracy"], pair.baseline["accuracy_val"], pair.baseline["curvature"]
  )
  for row, (ax, alpha) in enumerate(zip(axes, pair.alphas)):
    mean, low, high, _ = mean_ci(pair.baseline["accuracy"][row] * 100)
    ax.plot(pair.rates, mean, color="0.3", lw=1.2, label="fixed rate")
    ax.fill_between(pair.rates, low, high, color="0.7", alpha=0.5, lw=0)
    best = pair.rates[chosen["best_val"][0][row]]
    ax.scatter(
        best, chosen["best_val"][1][row] * 100, marker="x", color="0.2", s=18, label="(b) picks"
    )
    for t, target in enumerate(pair.targets):
      ax.scatter(
          pair.control["rate"][row, g, t],
          pair.control["accuracy"][row, g, t] * 100,
          s=16,
          label=f"controller, target {target:g}",
      )
    ax.set_title(f"alpha = {alpha:g}", fontsize=9)
    ax.set_xlabel("dropout rate")
  axes[0].set_ylabel("test accuracy (%)")
  axes[-1].legend(fontsize=6, loc="lower right")
  return fig


BEGIN_MARKER = "<!-- BEGIN GENERATED RESULTS (experiments/control/report.py) -->"
END_MARKER = "<!-- END GENERATED RESULTS -->"


def replace_block(text: str, block: str) -> str:
  """``text`` with everything between the generated-results markers replaced.

  Raises:
    ValueError: if the markers are missing or out of order (the hand-written
      plan is never overwritten).
  """
  return docblocks.replace_block(text, block, BEGIN_MARKER, END_MARKER)

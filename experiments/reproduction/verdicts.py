"""Verdicts of the reproduction: each claim split into checks, one rule over them.

The rule (:data:`RULE`, printed with the verdict table of
``experiments/reproduction/README.md``): a claim of the paper is split into checks, one
per clause; each check is a test of numbers the report measured against a
threshold fixed in this module, and it passes, fails, or is undecided (the
data cannot decide it: an interval straddles the threshold, the
pre-registered test reads "mixed" or "inconclusive", or the cells the check
needs are missing or not finite). The claim's verdict is then

- **reproduced**: every check passes;
- **not reproduced**: no check passes and at least one fails;
- **inconclusive**: no check fails and not every one passes;
- **partly**: some pass and some fail;
- **not run**: the sweep it needs is missing, unfinished or failed.

The thresholds, named once:

- :data:`MAJORITY` (2/3): the share of rows (cells) a row-wise check needs,
  unless the claim says "every";
- a cell is concave / convex / linear by its sign (``stats.sign_pattern``:
  ``stats.SIGN_SE_FACTOR`` standard errors and ``stats.SIGN_MIN_EFFECT``
  from 0);
- :data:`LINEAR_BAND` (0.1): where a claim contrasts "linear" with convex
  and the final load curve is at hand (Fig. 5(a), Fig. 5(b)), near linear is
  ``|curvature| <= LINEAR_BAND * |D_0 - D_L| / L`` (first and last layers'
  contributions differ by at most a tenth of the mean layer's), and convex
  needs the sign and a curvature beyond that band;
- ``stats.SIGN_SE_FACTOR`` standard errors for a difference of means to
  pass the claimed way or fail the other way; within them it is undecided
  (until 2026-12-06 a difference within them failed);
- :data:`TURN_FACTOR` (3): a Gaussian chain (SM S6.2) turns linear within
  this factor of the finite-horizon theory's step, and :data:`EXPONENTIAL_R2`
  (0.9): the R^2 its turn steps need on ``ln step = a + b (mu_r sqrt(dt) /
  eps)^2``;
- :data:`THEORY_TOLERANCE` (0.1): first-order chain crossings within 10% of
  the closed-form critical noise (median over rows);
- "best accuracy near the linear load curve", per grid and pooled over the
  test's six grids: the pre-registered test's decision rule
  (:func:`experiments.central_claim.central.verdict`, the reading its report
  prints per family and pooled: supported passes, refuted fails, mixed or
  inconclusive is undecided). One rule in one place: until 2026-12-06 a
  grid read only its mean offset, so a grid whose rows sat on both sides
  of the crossing (offsets cancelling in the mean) could pass while its
  pre-registered reading was "refuted".

Every function takes the analysis outputs the report already computed
(``analyse_phase_grid``, ``analyse_chain_phases`` entries, ...) and returns
checks, ``{"check", "outcome", "measured"}``; :func:`verdict` applies the
rule.
"""

from __future__ import annotations

import math

import numpy as np

from featurespring import metrics
from featurespring.analysis import stats

from experiments.central_claim import formatting

PASS, FAIL, UNDECIDED = "pass", "fail", "undecided"
REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_RUN = "not run"

MAJORITY = 2.0 / 3.0
LINEAR_BAND = 0.1
THEORY_TOLERANCE = 0.1
TURN_FACTOR = 3.0
EXPONENTIAL_R2 = 0.9
# The S13 damping comparison: the phase diagram does not depend on the
# damping when this share of cells keeps its sign, no row's crossing moves
# by more than this many noise steps, and no row gains or loses a crossing.
DAMPING_SIGN_AGREEMENT = 0.9
DAMPING_MAX_SHIFT_STEPS = 1.0

RULE = (
    "Each claim is split into checks, one per clause; each check compares numbers this "
    "report measured with a threshold fixed in `experiments/reproduction/verdicts.py` and "
    "passes, fails, or is undecided (the data cannot decide it: an interval straddles the "
    "threshold, or the cells it needs are missing). A claim is **reproduced** when every "
    "check passes, **not reproduced** when none passes and one fails, **inconclusive** "
    "when none fails and not all pass, **partly** when some pass and some fail, and **not "
    "run** when its sweep is missing. Thresholds: a row-wise check needs "
    f"{MAJORITY:.0%} of the rows unless the claim says every row (the phase checks leave "
    "out the linear net's row, alpha = 1, and chains without friction: the claim gives "
    "them no concave phase); a cell is concave, "
    "linear or convex by its sign (mean more than "
    f"{stats.SIGN_SE_FACTOR:g} standard errors and {stats.SIGN_MIN_EFFECT:g} below 0, "
    "within, above); where a claim contrasts linear with convex and the final load curve is "
    f"at hand (Fig. 5), near linear is |curvature| <= {LINEAR_BAND:g} x the mean layer drop "
    "|D_0 - D_L| / L and convex must also lie beyond that band; a difference of means passes "
    f"beyond {stats.SIGN_SE_FACTOR:g} standard errors the claimed way, fails beyond them the "
    "other way and is undecided within; first-order chain crossings must sit within "
    f"{THEORY_TOLERANCE:.0%} of the theory (median over rows). 'Best accuracy near the "
    "linear load curve', per grid and pooled over the pre-registered test's six grids, is "
    "that test's own decision rule (experiments/central_claim/README.md) read on the grid, "
    "or on the six pooled: supported passes, refuted fails, mixed or inconclusive is "
    "undecided (one rule for every grid, so that a grid's verdict never contradicts its "
    "pre-registered reading)."
)


def check(name: str, outcome: str, measured: str) -> dict:
  """One check: what it tests, its outcome and the numbers behind it."""
  if outcome not in (PASS, FAIL, UNDECIDED):
    raise ValueError(f"outcome must be one of {PASS}, {FAIL}, {UNDECIDED}, got {outcome!r}")
  return {"check": name, "outcome": outcome, "measured": measured}


def passes(condition, name: str, measured: str) -> dict:
  """A check that passes where ``condition`` holds, fails where it does not, undecided if None."""
  if condition is None:
    return check(name, UNDECIDED, measured)
  return check(name, PASS if condition else FAIL, measured)


def verdict(checks) -> str:
  """The rule of the module docstring over a claim's checks (``not run`` for none)."""
  outcomes = [c["outcome"] for c in checks]
  if not outcomes:
    return NOT_RUN
  if all(o == PASS for o in outcomes):
    return REPRODUCED
  if FAIL not in outcomes:
    return INCONCLUSIVE
  if PASS not in outcomes:
    return NOT_REPRODUCED
  return PARTLY


def _finite(*values) -> bool:
  return all(v is not None and np.all(np.isfinite(np.asarray(v, np.float64))) for v in values)


def _fmt(value, spec="+.3g"):
  if value is None or np.isnan(value):
    return "n/a"
  return ("+" if value > 0 else "-") + "inf" if np.isinf(value) else format(float(value), spec)


def _mean_layer_drop(load_curve) -> float:
  return float(metrics.mean_layer_drop(np.asarray(load_curve, np.float64)))


def near_linear(curvature, load_curve):
  """``|curvature| <= LINEAR_BAND * |D_0 - D_L| / L``; None where either is not finite."""
  if not _finite(curvature, load_curve):
    return None
  return bool(abs(curvature) <= LINEAR_BAND * _mean_layer_drop(load_curve))


def _shape(curvature, sign, load_curve) -> str:
  """``linear`` (within the band), ``convex`` / ``concave`` (sign and beyond it), else ``undecided``."""
  linear = near_linear(curvature, load_curve)
  if linear is None:
    return "undecided"
  if linear:
    return "linear"
  return {"+": "convex", "-": "concave"}.get(sign, "undecided")


def differs(a, a_std, a_n, b, b_std, b_n) -> float:
  """``(a - b) / SE`` of two means: NaN unless both means and the SE are finite (inf at SE 0)."""
  if not _finite(a, b, a_std, b_std) or min(a_n, b_n) < 1:
    return math.nan
  se = math.sqrt(a_std**2 / a_n + b_std**2 / b_n)
  if se > 0:
    return (a - b) / se
  return math.copysign(math.inf, a - b) if a != b else math.nan


def _z_check(z, want_positive: bool, name: str, measured: str) -> dict:
  """Passes when ``z`` is beyond ``SIGN_SE_FACTOR`` on the wanted side, fails beyond it on the
  other side; undecided within (the data cannot tell the difference from none) or if NaN."""
  if np.isnan(z):
    return check(name, UNDECIDED, measured)
  signed = z if want_positive else -z
  if signed > stats.SIGN_SE_FACTOR:
    return check(name, PASS, measured)
  return check(name, FAIL if signed < -stats.SIGN_SE_FACTOR else UNDECIDED, measured)


def _share(flags, name, measured, every=False):
  """A row-wise check: ``MAJORITY`` of the rows (all with ``every``), None-rows left out."""
  decided = [f for f in flags if f is not None]
  if not decided:
    return check(name, UNDECIDED, measured + "; no row decides")
  share = float(np.mean(decided))
  need = "every row" if every else f"needs {MAJORITY:.0%}"
  return passes(
      share == 1.0 if every else share >= MAJORITY,
      name,
      f"{sum(decided)} of {len(decided)} rows ({share:.0%}); {need}"
      + (f"; {measured}" if measured else ""),
  )


# ---------------------------------------------------------------------------
# Phase diagrams (Fig. 1, S5-S7, S12) and the chains' (Fig. 3, S13, S14).

_RANK = {"-": 0, "0": 1, "+": 2}


def _signs_by_noise(sign_row: str, direction: float) -> str:
  """A row's signs in order of increasing noise, cells without a valid net ('.') left out."""
  ordered = sign_row if direction > 0 else sign_row[::-1]
  return "".join(c for c in ordered if c in _RANK)


def _used(rows, rows_used):
  return [r for r, u in zip(rows, rows_used if rows_used is not None else [True] * len(rows)) if u]


def phases_in_order(sign_rows, direction=1.0, rows_used=None) -> dict:
  """Along a row, the phase never steps back as the noise grows, and it does step up.

  In noise order a row's signs run concave, linear, convex (``-``, ``0``,
  ``+``) without a fall (``+`` then ``0``, say), and its last sign is above
  its first.
  """
  flags = []
  for row in _used(sign_rows, rows_used):
    seq = [_RANK[c] for c in _signs_by_noise(row, direction)]
    flags.append(
        None if len(seq) < 2 else all(b >= a for a, b in zip(seq, seq[1:])) and seq[-1] > seq[0]
    )
  return _share(flags, "the phase never steps back as the noise grows", "")


def both_phases(sign_rows, direction=1.0, rows_used=None) -> dict:
  """Concave at the least noise, and convex at more noise than the last concave cell.

  Args:
    sign_rows: per row, its cells' signs (``stats.sign_pattern``) in the
      order of the ``x`` values.
    direction: ``+1`` when a larger ``x`` is more noise, ``-1`` otherwise.
    rows_used: a mask of the rows the claim is about (e.g. the nonlinear
      ones: a linear net is near linear without noise); all by default.
  """
  flags = []
  for row in _used(sign_rows, rows_used):
    seq = _signs_by_noise(row, direction)
    flags.append(None if len(seq) < 2 else seq[0] == "-" and "+" in seq[seq.rindex("-") + 1 :])
  return _share(flags, "concave at the least noise, convex with more", "")


def noise_raises_curvature(mean, std, n, direction=1.0, rows_used=None) -> dict:
  """The most noise's curvature exceeds the least noise's, by ``SIGN_SE_FACTOR`` standard errors."""
  flags, zs = [], []
  rows = list(
      zip(
          np.asarray(mean, np.float64),
          np.asarray(std, np.float64),
          np.broadcast_to(np.asarray(n), np.shape(mean)),
      )
  )
  for m, s, k in _used(rows, rows_used):
    m, s, k = (v if direction > 0 else v[::-1] for v in (m, s, k))
    ok = np.flatnonzero(np.isfinite(m))
    z = (
        math.nan
        if ok.size < 2
        else differs(m[ok[-1]], s[ok[-1]], k[ok[-1]], m[ok[0]], s[ok[0]], k[ok[0]])
    )
    zs.append(z)
    flags.append(None if np.isnan(z) else bool(z > stats.SIGN_SE_FACTOR))
  return _share(
      flags,
      "the most noise gives more curvature than the least",
      "z " + " ".join(_fmt(z, "+.1f") for z in zs),
  )


def _preregistered(statistics, name) -> dict:
  """The pre-registered rule's reading of ``statistics`` (``central``'s per-family or pooled
  entry) as a check: supported passes, refuted fails, anything else is undecided."""
  if statistics is None:
    return check(name, UNDECIDED, "not computed")
  s = statistics
  if not s["num_uncensored"]:
    # Some resamples may still have a row with both positions; the data do not.
    return check(name, UNDECIDED, "no row has both a crossing and a peak")
  reading = s["verdict"]["verdict"]
  d, b = s["mean_offset"], s["beta"]
  p, perms = s["link"]["p_value"], s["link"].get("num_permutations")
  link = (
      f"p = {_fmt(p, '.3g')}" if p is None or np.isnan(p) else formatting.p_value(p, perms, ".3g")
  )
  return check(
      name,
      {"supported": PASS, "refuted": FAIL}.get(reading, UNDECIDED),
      f"D = {_fmt(d['value'], '+.2f')} [{_fmt(d['ci'][0], '+.2f')}, {_fmt(d['ci'][1], '+.2f')}] "
      f"steps, beta = {_fmt(b['value'], '+.2f')} [{_fmt(b['ci'][0], '+.2f')}, "
      f"{_fmt(b['ci'][1], '+.2f')}], link {link}, "
      f"{s['num_uncensored']} rows: {reading}",
  )


def peak_near_crossing(family_statistics, score="accuracy") -> dict:
  """Per grid: the pre-registered rule read on the grid alone (its secondary reading).

  ``score`` names what peaks: the test accuracy, or the test RMSE (regression,
  S12) whose best is its lowest.
  """
  best = "lowest test RMSE" if score == "rmse" else f"best test {score}"
  name = f"{best} at the curvature zero crossing (pre-registered rule, this grid)"
  return _preregistered(family_statistics, name)


def peak_at_crossing(pooled_statistics) -> dict:
  """Pooled: the pre-registered test's decision (None: not computed)."""
  name = "the accuracy peak sits at the crossing and follows it (pre-registered decision rule)"
  return _preregistered(pooled_statistics, name)


def _nonlinear_rows(analysis):
  if analysis["y"] != "alpha":
    return None
  # A linear net is near linear without noise (docs/theory.md §2): not concave there.
  return [float(y) < 1.0 for y in analysis["y_values"]]


def phase_grid_checks(analysis, family_statistics=None) -> list:
  """A DNN phase diagram: phases in order, both phases, best accuracy near the crossing.

  Args:
    analysis: ``analyse_phase_grid``'s output.
    family_statistics: this grid's ``statistics`` from ``central.analyse``
      (the pre-registered test on this grid alone: :func:`peak_near_crossing`).
  """
  rows_used = _nonlinear_rows(analysis)
  signs, direction = analysis["curvature"]["sign"], analysis["noise_direction"]
  return [
      phases_in_order(signs, direction, rows_used),
      both_phases(signs, direction, rows_used),
      peak_near_crossing(family_statistics, analysis.get("score", "accuracy")),
  ]


def raised_curvature_checks(analysis) -> list:
  """A variant grid whose claim is only that the noise raises the curvature (Fig. 1(d), fixed steps)."""
  c = analysis["curvature"]
  return [
      noise_raises_curvature(
          c["mean"], c["std"], c["n"], analysis["noise_direction"], _nonlinear_rows(analysis)
      )
  ]


def no_batch_norm_checks(variant, grid) -> list:
  """The grid without BatchNorm: both phases in order as with it, and seeds that vary more.

  ``variant``, ``grid``: ``analyse_phase_grid`` outputs on the same rows and
  columns. A row varies more when the median over its cells of the ratio of
  seed stds of the final curvature (without / with BatchNorm) exceeds 1.
  """
  rows_used = _nonlinear_rows(variant)
  signs, direction = variant["curvature"]["sign"], variant["noise_direction"]
  name = "seeds vary more than with BatchNorm"
  variant_std = np.asarray(variant["curvature"]["std"], np.float64)
  base_std = np.asarray(grid["curvature"]["std"], np.float64)
  if variant_std.shape != base_std.shape:
    varies = check(name, UNDECIDED, f"grids differ: {variant_std.shape} vs {base_std.shape}")
  else:
    with stats.quiet():
      medians = np.nanmedian(variant_std / base_std, axis=1)
    flags = [
        None if not np.isfinite(m) or (rows_used and not rows_used[i]) else bool(m > 1.0)
        for i, m in enumerate(medians)
    ]
    varies = _share(
        flags, name, "median seed-std ratio per row " + " ".join(_fmt(m, ".2f") for m in medians)
    )
  return [
      phases_in_order(signs, direction, rows_used),
      both_phases(signs, direction, rows_used),
      varies,
  ]


def gaussian_drift_checks(drift) -> list:
  """SM S6.2 (``gaussian_drift.gaussian_drift``'s numbers): Gaussian chains turn convex when the
  finite-horizon theory says, exponentially later as the noise falls; truncated ones stay concave.
  """
  noisy = [level for level in drift["levels"] if level["noise"] > 0]
  flags, shown = [], []
  for level in noisy:
    theory, measured = level["theory_step"], level["measured_step"]
    if theory <= drift["num_steps"]:
      flags.append(
          measured is not None and abs(math.log(measured / theory)) <= math.log(TURN_FACTOR)
      )
    else:
      flags.append(measured is None)
    shown.append(f"{'none' if measured is None else measured} / {theory:.3g}")
  turns = _share(
      flags,
      f"turns linear within a factor {TURN_FACTOR:g} of the finite-horizon theory's step "
      "(none when that lies beyond the run)",
      "measured / theory steps " + ", ".join(shown),
  )
  timed = [lv for lv in noisy if lv["measured_step"] is not None]
  name = "the turn comes exponentially later as the noise falls"
  if len(timed) < 3:
    exponential = check(name, UNDECIDED, f"{len(timed)} levels turn within the run; needs 3")
  else:
    z2 = np.array([(drift["mu_right"] * math.sqrt(drift["dt"]) / lv["noise"]) ** 2 for lv in timed])
    log_step = np.log([lv["measured_step"] for lv in timed])
    slope, intercept = np.polyfit(z2, log_step, 1)
    residual = log_step - (intercept + slope * z2)
    r2 = 1.0 - residual.var() / log_step.var() if log_step.var() > 0 else math.nan
    exponential = passes(
        bool(slope > 0 and r2 >= EXPONENTIAL_R2) if np.isfinite(r2) else None,
        name,
        f"ln step = a + b (mu_r sqrt(dt) / eps)^2 over {len(timed)} levels: b = {slope:.3f} "
        f"(theory about 0.5), R^2 = {r2:.3f}; needs b > 0 and R^2 >= {EXPONENTIAL_R2:g}",
    )
  bounded = [lv["truncated_final_sign"] for lv in noisy]
  stays = passes(
      all(sign == "-" for sign in bounded) if all(s in "-0+" for s in bounded) else None,
      "bounded noise of the same size stays concave",
      f"truncated chains' final signs {''.join(bounded)}; every level must be -",
  )
  return [turns, exponential, stays]


def chain_phase_checks(entry) -> list:
  """A chain phase diagram (``analyse_chain_phases`` entry): phases in order, both, theory."""
  rows_used = [float(m) > 0 for m in entry["mu"]]  # no friction: no concave phase
  checks = [
      phases_in_order(entry["sign"], 1.0, rows_used),
      both_phases(entry["sign"], 1.0, rows_used),
  ]
  rows = entry["rows"]
  if rows and "theory_critical_noise" in rows[0]:
    errors = [
        abs(r["crossings_noise"][0] - t) / t
        for r in rows
        for t in [r.get("theory_critical_noise", math.nan)]
        if r.get("crossings_noise") and _finite(t, r["crossings_noise"][0]) and t > 0
    ]
    median = float(np.median(errors)) if errors else None
    checks.append(
        passes(
            None if median is None else median <= THEORY_TOLERANCE,
            "crossings on the theory's critical noise",
            f"median relative error {_fmt(median, '.1%')} over {len(errors)} rows; needs <= "
            f"{THEORY_TOLERANCE:.0%}",
        )
    )
  return checks


def damping_checks(comparison) -> list:
  """S13 at two dampings (``chains.damping_comparison``): the same phase diagram."""
  shift = comparison["max_abs_shift_steps"]
  agreement = comparison["sign_agreement"]
  one_sided = [
      r["mu"]
      for r in comparison["rows"]
      if (r["crossing"][0] is None) != (r["crossing"][1] is None)
  ]
  return [
      passes(
          agreement >= DAMPING_SIGN_AGREEMENT,
          "cells keep their sign when every mode is overdamped",
          f"{agreement:.0%} of {comparison['num_cells']} cells; needs "
          f"{DAMPING_SIGN_AGREEMENT:.0%}",
      ),
      passes(
          (shift is None or shift <= DAMPING_MAX_SHIFT_STEPS) and not one_sided,
          "zero crossings stay put",
          f"largest shift {_fmt(shift, '.2f')} noise steps (needs <= "
          f"{DAMPING_MAX_SHIFT_STEPS:g}); rows crossing in one sweep only: {len(one_sided)}",
      ),
  ]


# ---------------------------------------------------------------------------
# Named settings: Fig. 4, Fig. 5(a), S2, S4, S10, S11.


def regimes_checks(cases, who: str) -> list:
  """Fig. 4: lazy ends concave, active convex, balanced between (``curvature_over_time``)."""
  name = f"{who}: lazy ends concave, active convex, balanced between"
  if len(cases) < 3:
    return [check(name, UNDECIDED, "fewer than 3 cases")]
  lazy, balanced, active = cases[:3]
  ends = [c.get("final_curvature", math.nan) for c in (lazy, balanced, active)]
  measured = "final curvature " + ", ".join(
      f"{c['case'].split(' ')[0]} {_fmt(e, '+.3f')} ({c['final_sign']})"
      for c, e in zip((lazy, balanced, active), ends)
  )
  if not _finite(*ends):
    return [check(name, UNDECIDED, measured)]
  ok = lazy["final_sign"] == "-" and active["final_sign"] == "+" and ends[0] < ends[1] < ends[2]
  return [passes(ok, name, measured)]


def linear_net_checks(cases, series) -> list:
  """Fig. 5(a): linear at the small step; convex at the largest step and the largest dropout.

  Args:
    cases: ``final_load_curves`` cases (``curvature``, ``curvature_sign``,
      ``load_curve``, ``case``).
    series: ``one_at_a_time``: case indices per swept field, base first.
  """
  band = lambda case: (
      _fmt(LINEAR_BAND * _mean_layer_drop(case["load_curve"]), ".3f")
      if _finite(case["load_curve"])
      else "n/a"
  )
  base = cases[0]
  checks = [
      passes(
          near_linear(base["curvature"], base["load_curve"]),
          "small step: near linear",
          f"{base['case']}: curvature {_fmt(base['curvature'], '+.3f')}, band {band(base)}",
      )
  ]
  for field, label in (("learning_rate", "largest step"), ("dropout", "largest dropout")):
    if field not in series:
      checks.append(check(f"{label}: convex", UNDECIDED, f"{field} not swept"))
      continue
    case = cases[series[field][-1]]
    shape = _shape(case["curvature"], case["curvature_sign"], case["load_curve"])
    checks.append(
        passes(
            None if shape == "undecided" else shape == "convex",
            f"{label}: convex",
            f"{case['case']}: curvature {_fmt(case['curvature'], '+.3f')} ({shape}; band "
            f"{band(case)})",
        )
    )
  return checks


def _sign_is(sign, wanted):
  """Whether a cell's sign is ``wanted``; None for a cell without a valid net ('.')."""
  return None if sign not in _RANK else sign == wanted


def switch_checks(analysis) -> list:
  """S2: concave before; moderate dropout linear and better; strong dropout convex and worse.

  ``analysis``: ``before_and_after_switch``'s numbers; cases by rate, rate 0 first.
  S2 keeps no final load curve, so linear is the sign rule's ``0``.
  """
  cases = sorted(analysis["cases"], key=lambda c: c["rate"])
  if len(cases) < 3 or cases[0]["rate"] != 0:
    return [check("rates 0, moderate and strong", UNDECIDED, "needs rate 0 and two others")]
  keep, moderate, strong = cases[0], cases[1], cases[-1]
  z = lambda case: differs(
      case["accuracy_end"],
      case["accuracy_end_std"],
      case["accuracy_end_n"],
      keep["accuracy_end"],
      keep["accuracy_end_std"],
      keep["accuracy_end_n"],
  )
  accuracy = lambda case, zc: (
      f"accuracy {_fmt(case['accuracy_end'], '.4f')} vs {_fmt(keep['accuracy_end'], '.4f')} "
      f"({_fmt(zc, '+.1f')} SE)"
  )
  z_moderate, z_strong = z(moderate), z(strong)
  curvature = lambda case, when: (
      f"curvature {_fmt(case[f'curvature_{when}'], '+.3f')} ({case[f'{when}_sign']})"
  )
  return [
      passes(
          _sign_is(keep["before_sign"], "-"), "concave before the switch", curvature(keep, "before")
      ),
      passes(
          _sign_is(moderate["end_sign"], "0"),
          f"dropout {moderate['rate']:g}: linear",
          curvature(moderate, "end"),
      ),
      _z_check(
          z_moderate,
          True,
          f"dropout {moderate['rate']:g}: better than none",
          accuracy(moderate, z_moderate),
      ),
      passes(
          _sign_is(strong["end_sign"], "+"),
          f"dropout {strong['rate']:g}: convex",
          curvature(strong, "end"),
      ),
      _z_check(
          z_strong,
          False,
          f"dropout {strong['rate']:g}: worse than none",
          accuracy(strong, z_strong),
      ),
  ]


def train_test_checks(row) -> list:
  """S4: test curves concave at the smallest step, convex at the largest, rising; best = most linear.

  ``row``: ``row_load_curves`` with the (``load_curve``, ``curvature``) and
  (``load_curve_test``, ``curvature_test``) pairs, cells by increasing step.
  """
  cells = row["cells"]
  test = np.array([c["curvature_test"]["mean"] for c in cells], np.float64)
  signs = "".join(
      str(
          stats.sign_pattern(
              c["curvature_test"]["mean"], c["curvature_test"]["std"], c["curvature_test"]["n"]
          )
      )
      for c in cells
  )
  finite = np.isfinite(test)
  rho = (
      float(stats.spearman(np.arange(len(cells))[finite], test[finite]))
      if finite.sum() > 2
      else math.nan
  )
  checks = [
      passes(
          None
          if signs[0] not in _RANK or signs[-1] not in _RANK
          else signs[0] == "-" and signs[-1] == "+",
          "test curves concave at the smallest step, convex at the largest",
          f"test curvature {' '.join(_fmt(v, '+.2f') for v in test)} ({signs})",
      ),
      passes(
          None if np.isnan(rho) else rho >= stats.MONOTONE_RHO,
          "test curvature rises with the step",
          f"Spearman {_fmt(rho, '+.2f')}; needs >= {stats.MONOTONE_RHO:g}",
      ),
  ]
  if all("accuracy" in c for c in cells):
    accuracy = np.array([c["accuracy"]["mean"] for c in cells], np.float64)
    both = finite & np.isfinite(accuracy)
    if both.any():
      best = int(np.flatnonzero(both)[np.argmax(accuracy[both])])
      most_linear = int(np.flatnonzero(both)[np.argmin(np.abs(test[both]))])
      checks.append(
          passes(
              best == most_linear,
              "the most linear test curve has the best accuracy",
              f"best accuracy at cell {best + 1}, most linear test curve at cell "
              f"{most_linear + 1} of {len(cells)}",
          )
      )
    else:
      checks.append(
          check("the most linear test curve has the best accuracy", UNDECIDED, "no cell with both")
      )
  return checks


def pinv_phase_checks(analysis, first="curvature", second="curvature_pinv") -> list:
  """S10: the pinv metric's phase diagram: the trace cells' signs, and both phases in order."""
  name = "pinv cells have the trace cells' signs"
  if second not in analysis:
    return [check(name, UNDECIDED, f"no {second}")]
  a = "".join(analysis[first]["sign"])
  b = "".join(analysis[second]["sign"])
  pairs = [(x, y) for x, y in zip(a, b) if x in _RANK and y in _RANK]
  share = float(np.mean([x == y for x, y in pairs])) if pairs else None
  rows_used, direction = _nonlinear_rows(analysis), analysis["noise_direction"]
  return [
      passes(
          None if share is None else share >= MAJORITY,
          name,
          f"{_fmt(share, '.0%')} of {len(pairs)} cells; needs {MAJORITY:.0%}",
      ),
      both_phases(analysis[second]["sign"], direction, rows_used),
  ]


def invariance_checks(row) -> list:
  """S11: through a linear net the trace curve moves and the pinv curve is flat over the hidden layers.

  ``row``: ``row_load_curves`` of the linear row with (``load_curve``, ...)
  and (``load_curve_pinv``, ...) pairs. The input layer is left out of both
  ranges: there the input BatchNorm and first weights, furthest from
  orthogonal, move the pinv separation (the paper's invariance needs a
  full-rank between-class scatter; S11 in experiments/reproduction/README.md). Flat: the
  pinv curve's range over the hidden layers at most ``LINEAR_BAND`` times
  the trace curve's, in ``MAJORITY`` of the cells.
  """
  moves, flat, ratios = [], [], []
  for c in row["cells"]:
    trace, pinv = (np.asarray(c[k], np.float64)[1:] for k in ("load_curve", "load_curve_pinv"))
    noise = float(np.nanmax(np.asarray(c["load_curve_std"], np.float64)))
    if not _finite(trace, pinv, noise):
      moves.append(None)
      flat.append(None)
      ratios.append(math.nan)
      continue
    trace_range, pinv_range = np.ptp(trace), np.ptp(pinv)
    moves.append(bool(trace_range > stats.SIGN_SE_FACTOR * noise))
    flat.append(bool(pinv_range <= LINEAR_BAND * trace_range))
    ratios.append(pinv_range / trace_range if trace_range > 0 else math.inf)
  return [
      _share(
          moves,
          "the trace curve moves over the hidden layers",
          f"more than {stats.SIGN_SE_FACTOR:g} seed std",
      ),
      _share(
          flat,
          "the pinv curve is flat over the hidden layers",
          f"pinv / trace range {' '.join(_fmt(r, '.2f') for r in ratios)}, needs <= "
          f"{LINEAR_BAND:g}",
      ),
  ]


# ---------------------------------------------------------------------------
# Chains of Fig. 2 and Fig. 5(b).


def noise_sharing_checks(analysis) -> list:
  """Fig. 2: independent and synchronous noise end on the same curve; their fluctuations differ.

  ``analysis``: ``fluctuations.independent_vs_synchronous``'s numbers, the
  independent mode first. The curves agree when no layer's difference of
  seed means exceeds ``SIGN_SE_FACTOR`` standard errors of a difference
  (the larger seed std, over both modes' seeds).
  """
  agree, differ = "the final load curves agree", "shared kicks move the blocks together"
  if len(analysis["modes"]) < 2:
    return [check(agree, UNDECIDED, "one noise mode"), check(differ, UNDECIDED, "one noise mode")]
  independent, synchronous = analysis["modes"][:2]
  n = min(independent["num_seeds"], synchronous["num_seeds"])
  gap, spread = analysis["final_curve_max_abs_difference"], analysis["final_curve_max_seed_std"]
  allowed = stats.SIGN_SE_FACTOR * spread * math.sqrt(2.0 / n) if n >= 2 else math.nan
  z = differs(
      synchronous["increment_correlation"],
      synchronous["increment_correlation_std"],
      synchronous["num_seeds"],
      independent["increment_correlation"],
      independent["increment_correlation_std"],
      independent["num_seeds"],
  )
  return [
      passes(
          bool(gap <= allowed) if _finite(gap, allowed) else None,
          agree,
          f"largest layer difference {_fmt(gap, '.4f')}; allowed {_fmt(allowed, '.4f')} "
          f"({stats.SIGN_SE_FACTOR:g} standard errors)",
      ),
      _z_check(
          z,
          True,
          differ,
          f"increment correlation {_fmt(synchronous['increment_correlation'], '.2f')} synchronous "
          f"vs {_fmt(independent['increment_correlation'], '.2f')} independent "
          f"({_fmt(z, '+.1f')} SE)",
      ),
  ]


def left_friction_checks(analysis) -> list:
  """Fig. 5(b): with mu_r = 0 the chain ends linear without noise, convex with it, every mu_l.

  ``analysis``: ``left_friction.left_friction_only``'s numbers. The band of
  each row is that of its noiseless curve. The claim is for every mu_l.
  """
  rows = analysis["rows"]
  band = [LINEAR_BAND * r["noiseless_mean_layer_drop"] for r in rows]
  linear = [
      bool(abs(r["noiseless_curvature"]) <= b) if _finite(r["noiseless_curvature"], b) else None
      for r, b in zip(rows, band)
  ]
  convex = [
      None
      if not _finite(r["max_noise_curvature"], b) or r["max_noise_sign"] not in _RANK
      else r["max_noise_sign"] == "+" and r["max_noise_curvature"] > b
      for r, b in zip(rows, band)
  ]
  listed = lambda key: " ".join(_fmt(r[key], "+.4f") for r in rows)
  mu_left = " ".join(format(r["mu_left"], "g") for r in rows)
  return [
      _share(
          linear,
          "linear without noise, whatever mu_l",
          f"curvature {listed('noiseless_curvature')} for mu_l {mu_left}; bands "
          f"{' '.join(_fmt(b, '.4f') for b in band)}",
          every=True,
      ),
      _share(
          convex,
          "convex at the largest noise",
          f"curvature {listed('max_noise_curvature')} "
          f"({''.join(r['max_noise_sign'] for r in rows)})",
          every=True,
      ),
  ]

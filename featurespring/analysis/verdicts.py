"""Verdicts of the reproduction: each claim split into checks, one rule over them.

The rule (:data:`RULE`, printed at the top of ``docs/reproduction.md``):
a claim of the paper is split into checks, one per clause; each check is a
test of numbers the report measured against a threshold fixed in this
module, and it passes, fails, or is undecided (the data cannot decide it:
the pre-registered test reads "mixed" or "inconclusive", or the cells the
check needs are missing). The claim's verdict is then

- **reproduced**: every check passes;
- **not reproduced**: no check passes and at least one fails;
- **inconclusive**: no check fails and not every one passes;
- **partly**: some pass and some fail;
- **not run**: the sweep it needs is missing.

The thresholds, named once:

- :data:`MAJORITY` (2/3): the share of rows a row-wise check needs;
- :data:`LINEAR_BAND` (0.1): a load curve is near linear when
  ``|curvature| <= LINEAR_BAND * |D_0 - D_L| / L``, i.e. its first and last
  layers' contributions differ by at most a tenth of the mean layer's;
  convex / concave need the cell's sign (``stats.sign_pattern``) as well as
  the band; S2 keeps no final load curve, so there near linear is sign 0;
- :data:`THEORY_TOLERANCE` (0.1): first-order chain crossings within 10% of
  the closed-form critical noise (median over rows);
- ``stats.SIGN_SE_FACTOR`` standard errors for a difference of means;
- the pre-registered test's own decision rule
  (:func:`featurespring.analysis.central.verdict`) for "best accuracy near
  the linear load curve".

Every function takes the analysis outputs the report already computed
(``analyse_phase_grid``, ``analyse_chain_phases`` entries, ...) and returns
checks, ``{"check", "outcome", "measured"}``; :func:`verdict` applies the
rule.
"""

from __future__ import annotations

import math

import numpy as np

from featurespring.analysis import stats

PASS, FAIL, UNDECIDED = "pass", "fail", "undecided"
REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_RUN = "not run"

MAJORITY = 2.0 / 3.0
LINEAR_BAND = 0.1
THEORY_TOLERANCE = 0.1
# The S13 damping comparison: the phase diagram does not depend on the
# damping when this share of cells keeps its sign and no row's crossing moves
# by more than this many noise steps.
DAMPING_SIGN_AGREEMENT = 0.9
DAMPING_MAX_SHIFT_STEPS = 1.0

RULE = (
    "Each claim is split into checks, one per clause; each check compares numbers this "
    "report measured with a threshold fixed in `featurespring/analysis/verdicts.py` and "
    "passes, fails, or is undecided (the data cannot decide it). A claim is **reproduced** "
    "when every check passes, **not reproduced** when none passes and one fails, "
    "**inconclusive** when none fails and not all pass, **partly** when some pass and some "
    "fail, and **not run** when its sweep is missing. Thresholds: a row-wise check needs "
    f"{MAJORITY:.0%} of the rows; a load curve is near linear when |curvature| <= "
    f"{LINEAR_BAND:g} x its mean layer drop |D_0 - D_L| / L (where a setting keeps no final "
    "load curve, S2, when its sign is 0); convex and concave also need "
    f"the cell's sign (mean more than {stats.SIGN_SE_FACTOR:g} standard errors from 0); a "
    f"difference of means needs {stats.SIGN_SE_FACTOR:g} standard errors; first-order chain "
    f"crossings must sit within {THEORY_TOLERANCE:.0%} of the theory (median over rows); "
    "'best accuracy near the linear load curve' is decided by the pre-registered test's own "
    "rule (docs/central_claim.md): supported passes, refuted fails, mixed or inconclusive "
    "is undecided."
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


def _fmt(value, spec="+.3g"):
  return "n/a" if value is None or not np.isfinite(value) else format(float(value), spec)


def near_linear(curvature, load_curve) -> bool:
  """``|curvature| <= LINEAR_BAND * |D_0 - D_L| / L`` for a mean load curve ``[L + 1]``."""
  curve = np.asarray(load_curve, np.float64)
  return bool(abs(curvature) <= LINEAR_BAND * mean_layer_drop(curve))


def mean_layer_drop(load_curve) -> float:
  """``|D_0 - D_L| / L``: the mean layer's contribution of a load curve ``[L + 1]``."""
  curve = np.asarray(load_curve, np.float64)
  return float(abs(curve[0] - curve[-1]) / (curve.size - 1))


def _shape(curvature, sign, load_curve) -> str:
  """``convex``, ``concave``, ``linear`` (within the band) or ``undecided`` (none of them)."""
  if near_linear(curvature, load_curve):
    return "linear"
  if sign == "+":
    return "convex"
  if sign == "-":
    return "concave"
  return "undecided"


def differs(a, a_std, a_n, b, b_std, b_n) -> float:
  """``(a - b) / SE`` of two means; NaN where the standard error is 0 or unknown."""
  se = math.sqrt(a_std**2 / max(a_n, 1) + b_std**2 / max(b_n, 1))
  with stats.quiet():
    return (a - b) / se if se > 0 else (math.inf * np.sign(a - b) if a != b else math.nan)


# ---------------------------------------------------------------------------
# Phase diagrams (Fig. 1, S5-S7, S12) and the chains' (Fig. 3, S13, S14).


def _ordered_by_noise(sign_row: str, direction: float) -> str:
  return sign_row if direction > 0 else sign_row[::-1]


def curvature_rises(fraction_rows_increasing) -> dict:
  """Curvature rises with the noise along most rows (Spearman >= ``stats.MONOTONE_RHO``)."""
  return passes(
      None if fraction_rows_increasing is None else fraction_rows_increasing >= MAJORITY,
      "curvature rises with the noise",
      f"{_fmt(fraction_rows_increasing, '.0%')} of rows rise (Spearman >= "
      f"{stats.MONOTONE_RHO:g}); needs {MAJORITY:.0%}",
  )


def both_phases(sign_rows, direction=1.0, rows_used=None) -> dict:
  """Concave at the least noise and convex at the most, along most rows.

  Args:
    sign_rows: per row, its cells' signs (``stats.sign_pattern``) in the
      order of the ``x`` values.
    direction: ``+1`` when a larger ``x`` is more noise, ``-1`` otherwise.
    rows_used: a mask of the rows the claim is about (e.g. the nonlinear
      ones: a linear net is near linear without noise); all by default.
  """
  used = [s for s, u in zip(sign_rows, rows_used or [True] * len(sign_rows)) if u]
  ok = [
      len(s) > 1
      and _ordered_by_noise(s, direction)[0] == "-"
      and _ordered_by_noise(s, direction)[-1] == "+"
      for s in used
  ]
  share = float(np.mean(ok)) if ok else None
  return passes(
      None if share is None else share >= MAJORITY,
      "concave at the least noise, convex at the most",
      f"{sum(ok)} of {len(ok)} rows"
      + ("" if share is None else f" ({share:.0%})")
      + f"; needs {MAJORITY:.0%}",
  )


def peak_at_crossing(family_statistics) -> dict:
  """The pre-registered test's decision for one grid or the pool (None: not computed)."""
  name = "best accuracy at the linear load curve (pre-registered test)"
  if family_statistics is None:
    return check(name, UNDECIDED, "not computed")
  s = family_statistics
  reading = s["verdict"]["verdict"]
  outcome = {"supported": PASS, "refuted": FAIL}.get(reading, UNDECIDED)
  d, b = s["mean_offset"], s["beta"]
  return check(
      name,
      outcome,
      f"D = {_fmt(d['value'], '+.2f')} [{_fmt(d['ci'][0], '+.2f')}, {_fmt(d['ci'][1], '+.2f')}] "
      f"steps, beta = {_fmt(b['value'], '+.2f')} [{_fmt(b['ci'][0], '+.2f')}, "
      f"{_fmt(b['ci'][1], '+.2f')}], link p = {_fmt(s['link']['p_value'], '.3g')}, "
      f"{s['num_uncensored']} rows: {reading}",
  )


def phase_grid_checks(analysis, family_statistics=None, with_peak=True) -> list:
  """A DNN phase diagram: curvature rises, both phases, and (optionally) the peak.

  Args:
    analysis: ``analyse_phase_grid``'s output.
    family_statistics: this grid's ``statistics`` from
      ``central.analyse`` (the pre-registered test on this grid alone).
    with_peak: whether the claim includes "best accuracy near linear".
  """
  rows_used = None
  if analysis["y"] == "alpha":
    # A linear net is near linear without noise (SPEC §2): not concave there.
    rows_used = [float(y) < 1.0 for y in analysis["y_values"]]
  checks = [
      curvature_rises(analysis["curvature_vs_noise"]["fraction_rows_increasing"]),
      both_phases(analysis["curvature"]["sign"], analysis["noise_direction"], rows_used),
  ]
  if with_peak:
    checks.append(peak_at_crossing(family_statistics))
  return checks


def chain_phase_checks(entry) -> list:
  """A chain phase diagram (``analyse_chain_phases`` entry): rises, phases, theory."""
  rows_used = [float(m) > 0 for m in entry["mu"]]  # no friction: no concave phase
  checks = [
      curvature_rises(entry["fraction_rows_increasing"]),
      both_phases(entry["sign"], 1.0, rows_used),
  ]
  pairs = [
      (r["crossings_noise"][0], r["theory_critical_noise"])
      for r in entry["rows"]
      if r.get("crossings_noise")
      and np.isfinite(r.get("theory_critical_noise", np.nan))
      and r["theory_critical_noise"] > 0
  ]
  if "theory_critical_noise" in (entry["rows"][0] if entry["rows"] else {}):
    errors = [abs(c - t) / t for c, t in pairs]
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
  return [
      passes(
          agreement >= DAMPING_SIGN_AGREEMENT,
          "cells keep their sign when every mode is overdamped",
          f"{agreement:.0%} of {comparison['num_cells']} cells; needs "
          f"{DAMPING_SIGN_AGREEMENT:.0%}",
      ),
      passes(
          None if shift is None else shift <= DAMPING_MAX_SHIFT_STEPS,
          "zero crossings stay put",
          f"largest shift {_fmt(shift, '.2f')} noise steps; needs <= "
          f"{DAMPING_MAX_SHIFT_STEPS:g}",
      ),
  ]


# ---------------------------------------------------------------------------
# Named settings: Fig. 4, Fig. 5(a), S2, S4, S10, S11.


def regimes_checks(cases, who: str) -> list:
  """Fig. 4: lazy ends concave, active convex, balanced between (``curvature_over_time``)."""
  if len(cases) < 3:
    return [check(f"{who}: lazy / balanced / active regimes", UNDECIDED, "fewer than 3 cases")]
  lazy, balanced, active = cases[:3]
  ends = [c.get("final_curvature", math.nan) for c in (lazy, balanced, active)]
  ok = lazy["final_sign"] == "-" and active["final_sign"] == "+" and ends[0] < ends[1] < ends[2]
  return [
      passes(
          ok,
          f"{who}: lazy ends concave, active convex, balanced between",
          "final curvature "
          + ", ".join(
              f"{c['case'].split(' ')[0]} {_fmt(e, '+.3f')} ({c['final_sign']})"
              for c, e in zip((lazy, balanced, active), ends)
          ),
      )
  ]


def linear_net_checks(cases, series) -> list:
  """Fig. 5(a): linear at the small step; convex at the largest step and the largest dropout.

  Args:
    cases: ``final_load_curves`` cases (``curvature``, ``curvature_sign``,
      ``load_curve``, ``case``).
    series: ``one_at_a_time``: case indices per swept field, base first.
  """
  checks = []
  base = cases[0]
  checks.append(
      passes(
          near_linear(base["curvature"], base["load_curve"]),
          "small step: near linear",
          f"{base['case']}: curvature {_fmt(base['curvature'], '+.3f')}, band "
          f"{LINEAR_BAND * mean_layer_drop(base['load_curve']):.3f}",
      )
  )
  for field, label in (("learning_rate", "largest step"), ("dropout", "largest dropout")):
    if field not in series:
      checks.append(check(f"{label}: convex", UNDECIDED, f"{field} not swept"))
      continue
    case = cases[series[field][-1]]
    shape = _shape(case["curvature"], case["curvature_sign"], case["load_curve"])
    checks.append(
        passes(
            shape == "convex",
            f"{label}: convex",
            f"{case['case']}: curvature {_fmt(case['curvature'], '+.3f')} ({shape}; band "
            f"{LINEAR_BAND * mean_layer_drop(case['load_curve']):.3f})",
        )
    )
  return checks


def switch_checks(analysis) -> list:
  """S2: concave before; moderate dropout linear and better; strong dropout convex and worse.

  ``analysis``: ``before_and_after_switch``'s numbers; cases by rate, rate 0 first.
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
  z_moderate, z_strong = z(moderate), z(strong)
  return [
      passes(
          keep["before_sign"] == "-",
          "concave before the switch",
          f"curvature {_fmt(keep['curvature_before'], '+.3f')} ({keep['before_sign']})",
      ),
      passes(
          moderate["end_sign"] == "0",
          f"dropout {moderate['rate']:g}: linear",
          f"curvature {_fmt(moderate['curvature_end'], '+.3f')} ({moderate['end_sign']})",
      ),
      passes(
          z_moderate > stats.SIGN_SE_FACTOR,
          f"dropout {moderate['rate']:g}: better than none",
          f"accuracy {_fmt(moderate['accuracy_end'], '.4f')} vs {_fmt(keep['accuracy_end'], '.4f')}"
          f" ({_fmt(z_moderate, '+.1f')} SE)",
      ),
      passes(
          strong["end_sign"] == "+",
          f"dropout {strong['rate']:g}: convex",
          f"curvature {_fmt(strong['curvature_end'], '+.3f')} ({strong['end_sign']})",
      ),
      passes(
          z_strong < -stats.SIGN_SE_FACTOR,
          f"dropout {strong['rate']:g}: worse than none",
          f"accuracy {_fmt(strong['accuracy_end'], '.4f')} vs {_fmt(keep['accuracy_end'], '.4f')}"
          f" ({_fmt(z_strong, '+.1f')} SE)",
      ),
  ]


def train_test_checks(row) -> list:
  """S4: test curves concave at the smallest step, convex at the largest, rising; best = most linear.

  ``row``: ``row_load_curves`` with the (``load_curve``, ``curvature``) and
  (``load_curve_test``, ``curvature_test``) pairs, cells by increasing step.
  """
  cells = row["cells"]
  test = np.array([c["curvature_test"]["mean"] for c in cells], np.float64)
  signs = [
      str(
          stats.sign_pattern(
              c["curvature_test"]["mean"], c["curvature_test"]["std"], c["curvature_test"]["n"]
          )
      )
      for c in cells
  ]
  rho = float(stats.spearman(np.arange(len(cells)), test)) if len(cells) > 1 else math.nan
  checks = [
      passes(
          signs[0] == "-" and signs[-1] == "+",
          "test curves concave at the smallest step, convex at the largest",
          f"test curvature {' '.join(_fmt(v, '+.2f') for v in test)} ({''.join(signs)})",
      ),
      passes(
          rho >= stats.MONOTONE_RHO,
          "test curvature rises with the step",
          f"Spearman {_fmt(rho, '+.2f')}; needs >= {stats.MONOTONE_RHO:g}",
      ),
  ]
  if all("accuracy" in c for c in cells):
    accuracy = np.array([c["accuracy"]["mean"] for c in cells], np.float64)
    best, most_linear = int(np.nanargmax(accuracy)), int(np.nanargmin(np.abs(test)))
    checks.append(
        passes(
            best == most_linear,
            "the most linear test curve has the best accuracy",
            f"best accuracy at cell {best + 1}, most linear test curve at cell {most_linear + 1}"
            f" of {len(cells)}",
        )
    )
  return checks


def sign_agreement_checks(analysis, first="curvature", second="curvature_pinv") -> list:
  """S10: the pinv metric's cell signs agree with the trace metric's on most cells."""
  if second not in analysis:
    return [check("pinv sign pattern as the trace one's", UNDECIDED, f"no {second}")]
  a = "".join(analysis[first]["sign"])
  b = "".join(analysis[second]["sign"])
  share = float(np.mean([x == y for x, y in zip(a, b)])) if a else None
  return [
      passes(
          None if share is None else share >= MAJORITY,
          "pinv cells have the trace cells' signs",
          f"{_fmt(share, '.0%')} of {len(a)} cells; needs {MAJORITY:.0%}",
      )
  ]


def invariance_checks(row) -> list:
  """S11: through a linear net the trace curve moves and the pinv curve is (nearly) flat.

  ``row``: ``row_load_curves`` of the linear row with (``load_curve``, ...)
  and (``load_curve_pinv``, ...) pairs. Flat: the pinv curve's range within
  the linear band of the trace curve's mean layer drop, in every cell.
  """
  trace_moves, pinv_flat = [], []
  for c in row["cells"]:
    drop = mean_layer_drop(c["load_curve"])
    noise = float(np.nanmax(c["load_curve_std"]))
    trace_moves.append(c["load_curve_range"] > stats.SIGN_SE_FACTOR * noise)
    pinv_flat.append(c["load_curve_pinv_range"] <= LINEAR_BAND * drop)
  ranges = lambda key: " ".join(f"{c[key]:.2f}" for c in row["cells"])
  return [
      passes(
          all(trace_moves),
          "the trace curve moves",
          f"trace ranges {ranges('load_curve_range')} (> {stats.SIGN_SE_FACTOR:g} seed std)",
      ),
      passes(
          all(pinv_flat),
          "the pinv curve is flat",
          f"pinv ranges {ranges('load_curve_pinv_range')}; needs <= {LINEAR_BAND:g} x the trace "
          "curve's mean layer drop in every cell",
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
  independent, synchronous = analysis["modes"][:2]
  n = min(independent["num_seeds"], synchronous["num_seeds"])
  allowed = stats.SIGN_SE_FACTOR * analysis["final_curve_max_seed_std"] * math.sqrt(2.0 / n)
  gap = analysis["final_curve_max_abs_difference"]
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
          gap <= allowed,
          "the final load curves agree",
          f"largest layer difference {gap:.4f}; allowed {allowed:.4f} "
          f"({stats.SIGN_SE_FACTOR:g} standard errors)",
      ),
      passes(
          z > stats.SIGN_SE_FACTOR,
          "shared kicks move the blocks together",
          f"increment correlation {_fmt(synchronous['increment_correlation'], '.2f')} synchronous "
          f"vs {_fmt(independent['increment_correlation'], '.2f')} independent "
          f"({_fmt(z, '+.1f')} SE)",
      ),
  ]


def left_friction_checks(analysis) -> list:
  """Fig. 5(b): with mu_r = 0 the chain ends linear without noise, convex with it, every mu_l.

  ``analysis``: ``left_friction.left_friction_only``'s numbers. The band of
  each row is that of its noiseless curve.
  """
  rows = analysis["rows"]
  band = [LINEAR_BAND * r["noiseless_mean_layer_drop"] for r in rows]
  linear = [abs(r["noiseless_curvature"]) <= b for r, b in zip(rows, band)]
  convex = [r["max_noise_sign"] == "+" and r["max_noise_curvature"] > b for r, b in zip(rows, band)]
  listed = lambda key: " ".join(_fmt(r[key], "+.4f") for r in rows)
  return [
      passes(
          all(linear),
          "linear without noise, whatever mu_l",
          f"curvature {listed('noiseless_curvature')} for mu_l "
          f"{' '.join(format(r['mu_left'], 'g') for r in rows)}; bands "
          f"{' '.join(f'{b:.4f}' for b in band)}",
      ),
      passes(
          all(convex),
          "convex at the largest noise",
          f"curvature {listed('max_noise_curvature')} "
          f"({''.join(r['max_noise_sign'] for r in rows)})",
      ),
  ]

"""experiments.reproduction.verdicts: the one rule, and each claim's checks on hand-made numbers."""

import numpy as np
import pytest

from experiments.reproduction import verdicts

P, F, U = verdicts.PASS, verdicts.FAIL, verdicts.UNDECIDED


def _checks(*outcomes):
  return [verdicts.check(f"c{i}", o, "") for i, o in enumerate(outcomes)]


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        ((P, P, P), verdicts.REPRODUCED),
        ((F, F), verdicts.NOT_REPRODUCED),
        ((F, U), verdicts.NOT_REPRODUCED),
        ((P, U), verdicts.INCONCLUSIVE),
        ((U,), verdicts.INCONCLUSIVE),
        ((P, F), verdicts.PARTLY),
        ((P, F, U), verdicts.PARTLY),
        ((), verdicts.NOT_RUN),
    ],
)
def test_the_rule(outcomes, expected):
  assert verdicts.verdict(_checks(*outcomes)) == expected


def test_bad_outcome_is_refused():
  with pytest.raises(ValueError, match="outcome must be one of"):
    verdicts.check("x", "maybe", "")


def test_near_linear_is_relative_to_the_mean_layer_drop():
  curve = np.linspace(7.0, 0.0, 8)  # 7 layers, each 1.0
  assert verdicts.near_linear(0.099, curve) and verdicts.near_linear(-0.1, curve)
  assert not verdicts.near_linear(0.11, curve)
  # The same curvature on a curve ten times flatter is no longer linear.
  assert not verdicts.near_linear(0.099, curve / 10)
  assert verdicts.near_linear(np.nan, curve) is None


def test_differs_is_nan_unless_it_can_be_computed():
  assert verdicts.differs(1.0, 0.1, 4, 0.0, 0.1, 4) == pytest.approx(1.0 / np.sqrt(0.005))
  assert np.isnan(verdicts.differs(1.0, np.nan, 1, 0.0, np.nan, 1))  # one seed: no spread known
  assert np.isnan(verdicts.differs(np.nan, 0.1, 4, 0.0, 0.1, 4))
  assert verdicts.differs(1.0, 0.0, 4, 0.0, 0.0, 4) == np.inf  # no spread at all, yet a gap
  assert np.isnan(verdicts.differs(1.0, 0.0, 4, 1.0, 0.0, 4))


def _phase(signs, y_values, y="alpha", direction=1.0, mean=None):
  mean = np.zeros((len(signs), len(signs[0]))) if mean is None else np.asarray(mean, float)
  return {
      "y": y,
      "y_values": y_values,
      "noise_direction": direction,
      "curvature": {"sign": signs, "mean": mean, "std": np.full(mean.shape, 0.1), "n": 10},
  }


def _central(reading="supported", d=(-0.3, -0.8, 0.2), beta=(0.9, 0.5, 1.2), p=0.01, rows=14):
  summary = lambda v: {"value": v[0], "ci": [v[1], v[2]]}
  return {
      "verdict": {"verdict": reading},
      "mean_offset": summary(d),
      "beta": summary(beta),
      "link": {"p_value": p},
      "num_uncensored": rows,
  }


def test_phase_grid_checks_leave_the_linear_row_out_and_follow_the_noise_direction():
  # Rows alpha 0, 0.5 (concave -> convex), 1 (convex throughout: linear net).
  analysis = _phase(["--0++", "-0+++", "+++++"], [0.0, 0.5, 1.0])
  checks = verdicts.phase_grid_checks(analysis, _central())
  assert [c["outcome"] for c in checks] == [P, P, P]
  assert "2 of 2 rows" in checks[1]["measured"]
  # Batch size: x ascending is less noise, so the patterns read backwards.
  reversed_rows = _phase(["++0--", "+++0-"], [0.0, 0.5], direction=-1.0)
  assert [c["outcome"] for c in verdicts.phase_grid_checks(reversed_rows)[:2]] == [P, P]
  assert [c["outcome"] for c in verdicts.phase_grid_checks(_phase(["++0--"], [0.0]))[:2]] == [F, F]
  # Depth rows (S5) all count: one of three rows never turns convex.
  depth = _phase(["--0++", "--0++", "-----"], [4, 6, 8], y="depth")
  assert [c["outcome"] for c in verdicts.phase_grid_checks(depth)[:2]] == [P, P]
  depth = _phase(["--0++", "-----", "-----"], [4, 6, 8], y="depth")
  assert [c["outcome"] for c in verdicts.phase_grid_checks(depth)[:2]] == [F, F]


def test_phase_checks_read_signs_robustly():
  # A step back (convex, then linear again) breaks the order but not both phases; a
  # diverged end cell ('.') is skipped; a row of '.' decides nothing.
  rows = ["-+0", "--++.", "...."]
  in_order = verdicts.phases_in_order(rows)
  assert in_order["outcome"] == F and "1 of 2 rows" in in_order["measured"]
  assert verdicts.both_phases(rows)["outcome"] == P
  # Convex after the last concave cell, not necessarily at the very end.
  assert verdicts.both_phases(["---+0"])["outcome"] == P
  assert verdicts.both_phases(["-+-0"])["outcome"] == F
  assert verdicts.phases_in_order(["...."])["outcome"] == U


def test_noise_raises_curvature_for_the_fixed_step_variant():
  # Row 0 rises by 0.4 (z = 0.4 / (0.1 sqrt(2/10)) = 8.9); row 1 stays concave but rises;
  # row 2 (alpha 1) is left out. Batch size: the least noise is the last column.
  mean = [[0.1, -0.1, -0.3], [-0.1, -0.2, -0.5], [0.0, 0.0, 0.0]]
  analysis = _phase(["+0-", "---", "000"], [0.0, 0.5, 1.0], direction=-1.0, mean=mean)
  (raised,) = verdicts.raised_curvature_checks(analysis)
  assert raised["outcome"] == P and "2 of 2 rows" in raised["measured"]
  analysis["curvature"]["mean"] = np.asarray(mean)[:, ::-1]
  assert verdicts.raised_curvature_checks(analysis)[0]["outcome"] == F


@pytest.mark.parametrize(
    "reading, outcome",
    [("supported", P), ("refuted", F), ("mixed", U), ("inconclusive", U)],
)
def test_per_grid_peak_is_the_grids_pre_registered_reading(reading, outcome):
  # Offsets inside the margin do not pass a grid its pre-registered reading refutes.
  result = verdicts.peak_near_crossing(_central(reading, d=(0.0, -0.8, 0.2)))
  assert result["outcome"] == outcome and result["measured"].endswith(f"14 rows: {reading}")
  assert result["check"].startswith("best test accuracy at the curvature zero crossing")
  assert verdicts.peak_near_crossing(None)["outcome"] == U
  none = _central("refuted", d=(np.nan, -0.8, 0.2), rows=0)
  censored = verdicts.peak_near_crossing(none)
  assert (
      censored["outcome"] == U and censored["measured"] == "no row has both a crossing and a peak"
  )
  regression = verdicts.peak_near_crossing(_central(reading), "rmse")
  assert regression["check"].startswith("lowest test RMSE at the curvature zero crossing")
  assert regression["outcome"] == outcome


@pytest.mark.parametrize(
    "reading, outcome", [("supported", P), ("refuted", F), ("mixed", U), ("inconclusive", U)]
)
def test_pooled_peak_follows_the_pre_registered_rule(reading, outcome):
  result = verdicts.peak_at_crossing(_central(reading))
  assert result["outcome"] == outcome
  assert reading in result["measured"] and "D = -0.30 [-0.80, +0.20]" in result["measured"]
  assert verdicts.peak_at_crossing(None)["outcome"] == U


def test_a_link_p_value_below_the_permutation_resolution_prints_as_a_bound():
  statistics = _central("mixed")
  statistics["link"] = {"p_value": 0.0, "num_permutations": 10_000}
  assert "link p < 1e-4," in verdicts.peak_at_crossing(statistics)["measured"]
  statistics["link"] = {"p_value": 0.0333, "num_permutations": 720}
  assert "link p = 0.0333," in verdicts.peak_at_crossing(statistics)["measured"]
  statistics["link"] = {"p_value": float("nan"), "num_permutations": 0}
  assert "link p = n/a," in verdicts.peak_at_crossing(statistics)["measured"]


def _chain(first_crossings, theory, signs=None):
  rows = [
      {"mu": m, "crossings_noise": [c] if c is not None else [], "theory_critical_noise": t}
      for m, c, t in zip([0.0, 0.01, 0.02], first_crossings, theory)
  ]
  return {"mu": [0.0, 0.01, 0.02], "sign": signs or ["+++", "-++", "-0+"], "rows": rows}


def test_chain_checks_compare_crossings_with_the_theory():
  checks = verdicts.chain_phase_checks(_chain([0.0, 1.05e-3, 1.9e-3], [0.0, 1e-3, 2e-3]))
  assert [c["outcome"] for c in checks] == [P, P, P]
  assert "median relative error 5.0% over 2 rows" in checks[2]["measured"]
  far = verdicts.chain_phase_checks(_chain([0.0, 1.5e-3, 2.6e-3], [0.0, 1e-3, 2e-3]))
  assert far[2]["outcome"] == F
  # Second-order chains have no theory line: two checks only.
  entry = _chain([0.0, 1e-3, 2e-3], [0.0, 1e-3, 2e-3])
  for row in entry["rows"]:
    del row["theory_critical_noise"]
  assert len(verdicts.chain_phase_checks(entry)) == 2


def test_damping_checks():
  rows = [{"mu": 0.01, "crossing": [2.0, 2.3]}, {"mu": 0.02, "crossing": [None, None]}]
  same = {"sign_agreement": 0.92, "max_abs_shift_steps": 0.3, "num_cells": 221, "rows": rows}
  assert [c["outcome"] for c in verdicts.damping_checks(same)] == [P, P]
  moved = dict(same, sign_agreement=0.8, max_abs_shift_steps=2.0)
  assert [c["outcome"] for c in verdicts.damping_checks(moved)] == [F, F]
  # Damping that removes a crossing moves it by more than any shift.
  lost = dict(same, rows=rows + [{"mu": 0.03, "crossing": [4.0, None]}])
  assert verdicts.damping_checks(lost)[1]["outcome"] == F


def _case(name, curvature, sign):
  return {"case": f"{name} (x=1)", "final_curvature": curvature, "final_sign": sign}


def test_regimes():
  ok = [_case("lazy", -0.5, "-"), _case("balanced", 0.0, "0"), _case("active", 0.4, "+")]
  assert verdicts.regimes_checks(ok, "networks")[0]["outcome"] == P
  flat = [_case("lazy", -0.5, "-"), _case("balanced", 0.6, "+"), _case("active", 0.4, "+")]
  assert verdicts.regimes_checks(flat, "networks")[0]["outcome"] == F
  assert verdicts.regimes_checks(ok[:2], "chains")[0]["outcome"] == U
  diverged = [_case("lazy", np.nan, "."), ok[1], ok[2]]
  assert verdicts.regimes_checks(diverged, "networks")[0]["outcome"] == U


def _linear_case(name, curvature, sign, drop=7.0):
  return {
      "case": name,
      "curvature": curvature,
      "curvature_sign": sign,
      "load_curve": np.linspace(drop, 0.0, 8),
  }


def test_linear_net_checks_use_the_band():
  # As measured in Fig. 5(a): every step near linear, strong dropout convex.
  cases = [
      _linear_case("lr 1e-3", 0.018, "+"),
      _linear_case("lr 0.1", 0.017, "+"),
      _linear_case("dropout 0.2", 0.58, "+"),
  ]
  checks = verdicts.linear_net_checks(cases, {"learning_rate": [0, 1], "dropout": [0, 2]})
  assert [c["outcome"] for c in checks] == [P, F, P]
  assert "linear" in checks[1]["measured"]
  assert verdicts.verdict(checks) == verdicts.PARTLY
  missing = verdicts.linear_net_checks(cases, {"dropout": [0, 2]})
  assert missing[1]["outcome"] == U
  # Outside the band but not significantly convex, or diverged: the data cannot decide.
  cases[2] = _linear_case("dropout 0.2", 0.58, "0")
  assert verdicts.linear_net_checks(cases, {"dropout": [0, 2]})[2]["outcome"] == U
  cases[2] = _linear_case("dropout 0.2", np.nan, ".")
  assert verdicts.linear_net_checks(cases, {"dropout": [0, 2]})[2]["outcome"] == U


def _switch_case(rate, before, end, end_sign, accuracy, std=0.001, n=3):
  return {
      "rate": rate,
      "curvature_before": before,
      "before_sign": "-",
      "curvature_end": end,
      "end_sign": end_sign,
      "accuracy_end": accuracy,
      "accuracy_end_std": std,
      "accuracy_end_n": n,
  }


def test_switch_checks():
  cases = [
      _switch_case(0.3, -0.36, -0.07, "-", 0.834),
      _switch_case(0.0, -0.36, -0.39, "-", 0.9389),
      _switch_case(0.1, -0.36, -0.15, "-", 0.9418),
  ]
  checks = verdicts.switch_checks({"cases": cases})
  # Concave before; 0.1 still concave; better by 2.9 / (0.001 sqrt(2/3)) SE; 0.3 not convex; worse.
  assert [c["outcome"] for c in checks] == [P, F, P, F, P]
  # Differences within two standard errors are undecided, beyond them the wrong way they fail.
  noisy = [dict(c, accuracy_end_std=0.05) for c in cases]
  assert [c["outcome"] for c in verdicts.switch_checks({"cases": noisy})] == [P, F, U, F, P]
  reversed_ = [cases[0], cases[1], dict(cases[2], accuracy_end=0.93)]
  assert [c["outcome"] for c in verdicts.switch_checks({"cases": reversed_})][2] == F
  assert verdicts.switch_checks({"cases": cases[:2]})[0]["outcome"] == U
  # One seed per rate: no spread, so no accuracy difference can be judged.
  single = [dict(c, accuracy_end_std=np.nan, accuracy_end_n=1) for c in cases]
  assert [c["outcome"] for c in verdicts.switch_checks({"cases": single})] == [P, F, U, F, U]


def _row_cell(train, test, test_std, accuracy, trace_drop=1.6, pinv_drop=0.1):
  entry = lambda m, s: {"mean": m, "std": s, "n": 10}
  return {
      "curvature": entry(train, 0.01),
      "curvature_test": entry(test, test_std),
      "accuracy": entry(accuracy, 0.001),
      # Input first: the pinv curve falls by 0.3 into layer 1, then by pinv_drop.
      "load_curve": np.concatenate([[4.0], np.linspace(3.5, 3.5 - trace_drop, 7)]),
      "load_curve_std": np.full(8, 0.05),
      "load_curve_pinv": np.concatenate([[2.9], np.linspace(2.6, 2.6 - pinv_drop, 7)]),
  }


def test_train_test_checks():
  # As measured in S4: test curvature -0.47, -0.23, +0.34, +0.58; best accuracy at cell 3.
  cells = [
      _row_cell(-0.69, -0.47, 0.02, 0.893),
      _row_cell(-1.30, -0.23, 0.02, 0.925),
      _row_cell(-0.33, 0.34, 0.02, 0.931),
      _row_cell(0.30, 0.58, 0.02, 0.917),
  ]
  checks = verdicts.train_test_checks({"cells": cells})
  assert [c["outcome"] for c in checks] == [P, P, F]
  assert "cell 3" in checks[2]["measured"] and "cell 2" in checks[2]["measured"]
  for c in cells:
    c["curvature_test"]["mean"] = np.nan
  assert [c["outcome"] for c in verdicts.train_test_checks({"cells": cells})] == [U, U, U]


def test_pinv_phase_checks():
  analysis = _phase(["--++", "-0++"], [0.0, 0.5])
  analysis["curvature_pinv"] = {"sign": ["--++", "--++"]}
  agree, phases = verdicts.pinv_phase_checks(analysis)
  assert agree["outcome"] == P and "88% of 8 cells" in agree["measured"]
  assert phases["outcome"] == P
  # Convex everywhere: most signs agree with a mostly convex trace grid, yet no concave phase.
  analysis = _phase(["-+++", "-+++", "++++"], [0.0, 0.5, 1.0])
  analysis["curvature_pinv"] = {"sign": ["++++"] * 3}
  agree, phases = verdicts.pinv_phase_checks(analysis)
  assert agree["outcome"] == P and phases["outcome"] == F
  (missing,) = verdicts.pinv_phase_checks(_phase(["-"], [0.0]))
  assert missing["outcome"] == U


def test_invariance_reads_the_hidden_layers():
  # Trace moves by 1.6 over the hidden layers; pinv by 0.1 (ratio 0.06) after a 0.3 drop
  # into layer 1 that the check leaves out.
  flat = verdicts.invariance_checks({"cells": [_row_cell(0, 0, 0.1, 0.9)] * 3})
  assert [c["outcome"] for c in flat] == [P, P] and "0.06" in flat[1]["measured"]
  # Two of three cells too steep: 1 of 3 rows flat.
  steep = [_row_cell(0, 0, 0.1, 0.9), _row_cell(0, 0, 0.1, 0.9, pinv_drop=0.4)]
  steep.append(steep[1])
  assert [c["outcome"] for c in verdicts.invariance_checks({"cells": steep})] == [P, F]


def _mode(synchronous, correlation, std=0.02, n=10):
  return {
      "synchronous": synchronous,
      "num_seeds": n,
      "increment_correlation": correlation,
      "increment_correlation_std": std,
  }


def test_noise_sharing_checks():
  analysis = {
      "modes": [_mode(False, 0.05), _mode(True, 0.95)],
      "final_curve_max_abs_difference": 0.004,
      "final_curve_max_seed_std": 0.01,
  }
  checks = verdicts.noise_sharing_checks(analysis)
  # Allowed gap: 2 * 0.01 * sqrt(2 / 10) = 0.0089.
  assert [c["outcome"] for c in checks] == [P, P] and "allowed 0.0089" in checks[0]["measured"]
  analysis["final_curve_max_abs_difference"] = 0.02
  analysis["modes"][1]["increment_correlation"] = 0.06
  # Within two standard errors the data cannot tell; below by more, the claim fails.
  assert [c["outcome"] for c in verdicts.noise_sharing_checks(analysis)] == [F, U]
  analysis["modes"][1]["increment_correlation"] = -0.5
  assert [c["outcome"] for c in verdicts.noise_sharing_checks(analysis)] == [F, F]


def _left_row(mu_left, noiseless, top, sign="+", drop=0.125):
  return {
      "mu_left": mu_left,
      "noiseless_curvature": noiseless,
      "noiseless_mean_layer_drop": drop,
      "max_noise_curvature": top,
      "max_noise_sign": sign,
  }


def test_left_friction_checks():
  rows = [_left_row(0.01, 1e-4, 0.03), _left_row(0.04, -2e-4, 0.12)]
  assert [c["outcome"] for c in verdicts.left_friction_checks({"rows": rows})] == [P, P]
  # Band 0.0125: a noiseless curvature of 0.02 is not linear; a convex sign within the band
  # is not convex enough.
  rows = [_left_row(0.01, 0.02, 0.01), _left_row(0.04, 0.0, 0.12)]
  assert [c["outcome"] for c in verdicts.left_friction_checks({"rows": rows})] == [F, F]


def test_no_batch_norm_checks_compare_seed_spread_row_by_row():
  grid = _phase(["--0++", "-0+++", "+++++"], [0.0, 0.5, 1.0])
  variant = _phase(["--0++", "-0+++", "+++++"], [0.0, 0.5, 1.0])
  variant["curvature"]["std"] = np.array([[0.3] * 5, [0.05, 0.05, 0.05, 0.3, 0.3], [0.01] * 5])
  checks = verdicts.no_batch_norm_checks(variant, grid)
  # Row 0 varies more (ratio 3), row 1 less (median 0.5); the linear row is left out.
  assert [c["outcome"] for c in checks] == [P, P, F]
  assert "1 of 2 rows" in checks[2]["measured"] and "3.00 0.50 0.10" in checks[2]["measured"]
  variant["curvature"]["std"][1] = 0.2
  assert verdicts.no_batch_norm_checks(variant, grid)[2]["outcome"] == P
  other = _phase(["--0+"], [0.0])
  assert verdicts.no_batch_norm_checks(other, grid)[2]["outcome"] == U


def _drift(measured, theory, truncated="-----", num_steps=10**6):
  levels = [
      {"noise": 0.0, "theory_step": np.inf, "measured_step": None, "truncated_final_sign": "-"}
  ]
  for eps, m, t, sign in zip(
      (0.0004, 0.0005, 0.00055, 0.0006, 0.00065), measured, theory, truncated
  ):
    levels.append(
        {"noise": eps, "theory_step": t, "measured_step": m, "truncated_final_sign": sign}
    )
  return {"levels": levels, "num_steps": num_steps, "mu_right": 0.01, "dt": 0.05}


def test_gaussian_drift_checks():
  theory = [8.8e7, 2.6e5, 4.2e4, 1.0e4, 3.4e3]
  good = verdicts.gaussian_drift_checks(_drift([None, 3e5, 5e4, 9e3, 4e3], theory))
  assert [c["outcome"] for c in good] == [P, P, P]
  assert "b = " in good[1]["measured"] and "none / 8.8e+07" in good[0]["measured"]
  # Turning ten times later than the theory in most levels, or never turning where it should.
  late = verdicts.gaussian_drift_checks(_drift([None, None, 5e5, 1e5, 4e4], theory))
  assert late[0]["outcome"] == F
  # Turn steps that do not grow as the noise falls.
  flat = verdicts.gaussian_drift_checks(_drift([None, 3e3, 5e3, 4e3, 3e3], theory))
  assert flat[1]["outcome"] == F
  assert (
      verdicts.gaussian_drift_checks(_drift([None, None, None, 9e3, 4e3], theory))[1]["outcome"]
      == U
  )
  assert verdicts.gaussian_drift_checks(_drift([None] * 5, theory, "--0--"))[2]["outcome"] == F

"""featurespring.analysis: statistics against NumPy / SciPy, crossings, finished sweeps."""

import numpy as np
import pytest
from scipy import stats

from featurespring import analysis
from featurespring import sweep
from test_sweep import tiny_springs_config  # tests/ is on sys.path under pytest

# --- Statistics ----------------------------------------------------------------


def correlated_cells(num_cells=24, num_seeds=5, seed=0):
  """Per-net curvature and accuracy ``[cells, seeds]`` whose cell means anticorrelate
  |curvature| with accuracy, plus seed noise."""
  rng = np.random.default_rng(seed)
  centre = rng.uniform(-1.0, 1.0, num_cells)
  curvature = centre[:, None] + 0.3 * rng.normal(size=(num_cells, num_seeds))
  accuracy = (0.9 - 0.1 * np.abs(centre))[:, None] + 0.02 * rng.normal(size=(num_cells, num_seeds))
  return curvature, accuracy


def reference(curvature, accuracy):
  """Plain NumPy / SciPy: correlations of the cell means over jointly finite nets."""
  valid = np.isfinite(curvature) & np.isfinite(accuracy)
  curv = np.where(valid, curvature, np.nan)
  acc = np.where(valid, accuracy, np.nan)
  keep = valid.any(-1)
  x, y = np.abs(np.nanmean(curv[keep], -1)), np.nanmean(acc[keep], -1)
  return np.corrcoef(x, y)[0, 1], stats.spearmanr(x, y).statistic


def test_point_estimate_is_corrcoef_of_cell_means_and_ci_contains_it():
  curvature, accuracy = correlated_cells()
  out = analysis.curvature_accuracy_correlation(
      curvature, accuracy, np.random.default_rng(0), num_boot=500
  )
  pearson, spearman = reference(curvature, accuracy)
  np.testing.assert_allclose(out["pearson"], pearson, rtol=1e-12)
  np.testing.assert_allclose(out["spearman"], spearman, rtol=1e-12)
  assert out["num_cells"] == 24 and out["num_nets"] == 24 * 5 and out["num_boot"] == 500
  for key in ("pearson", "spearman"):
    low, high = out[key + "_ci"]
    assert low <= out[key] <= high
    assert high - low > 0  # seeds differ, so resamples differ
  assert out["pearson"] < -0.5  # the planted anticorrelation is found


def test_nan_entries_are_left_out_of_means_and_resampling():
  curvature, accuracy = correlated_cells(seed=1)
  curvature[3, 1] = np.nan  # a diverged net, masked on one side only
  accuracy[5, :2] = np.nan
  curvature[7] = np.nan  # a cell whose every net diverged
  rng = lambda: np.random.default_rng(3)
  out = analysis.curvature_accuracy_correlation(curvature, accuracy, rng(), num_boot=300)
  pearson, spearman = reference(curvature, accuracy)
  np.testing.assert_allclose(out["pearson"], pearson, rtol=1e-12)
  np.testing.assert_allclose(out["spearman"], spearman, rtol=1e-12)
  assert out["num_cells"] == 23 and out["num_nets"] == 24 * 5 - 5 - 1 - 2
  assert np.isfinite(out["pearson_ci"]).all() and np.isfinite(out["spearman_ci"]).all()
  # An extra all-NaN cell, and NaN padding of the seed axis, change nothing.
  padded = [np.pad(a, [(0, 1), (0, 2)], constant_values=np.nan) for a in (curvature, accuracy)]
  assert analysis.curvature_accuracy_correlation(*padded, rng(), num_boot=300) == out


def test_bootstrap_is_deterministic_given_the_seed():
  curvature, accuracy = correlated_cells(seed=2)
  run = lambda rng: analysis.curvature_accuracy_correlation(curvature, accuracy, rng, num_boot=200)
  assert run(np.random.default_rng(7)) == run(np.random.default_rng(7))
  assert run(np.random.default_rng(7))["pearson_ci"] != run(np.random.default_rng(8))["pearson_ci"]
  assert run(np.random.default_rng(7))["pearson"] == run(np.random.default_rng(8))["pearson"]
  # One generator per analysis label: the same label draws the same resamples.
  labelled = lambda seed, label: run(analysis.bootstrap_rng(seed, label))
  assert labelled(0, "fig1c/pooled") == labelled(0, "fig1c/pooled")
  assert labelled(0, "fig1c/pooled")["pearson_ci"] != labelled(0, "fig1a/pooled")["pearson_ci"]
  assert labelled(0, "fig1c/pooled")["pearson_ci"] != labelled(1, "fig1c/pooled")["pearson_ci"]


def test_single_seed_cells_give_a_point_interval_and_groups_centre_both_variables():
  curvature, accuracy = correlated_cells(num_seeds=1, seed=4)
  out = analysis.curvature_accuracy_correlation(
      curvature, accuracy, np.random.default_rng(0), num_boot=50
  )
  np.testing.assert_allclose(out["pearson_ci"], [out["pearson"]] * 2, rtol=1e-12)
  groups = np.repeat(np.arange(6), 4)
  centred = analysis.curvature_accuracy_correlation(
      curvature, accuracy, np.random.default_rng(0), num_boot=50, groups=groups
  )
  x, y = np.abs(curvature[:, 0]), accuracy[:, 0]
  centre = lambda v: v - np.repeat(v.reshape(6, 4).mean(1), 4)
  np.testing.assert_allclose(
      centred["pearson"], np.corrcoef(centre(x), centre(y))[0, 1], rtol=1e-10
  )
  assert centred["centred"] and centred["num_cells"] == 24


def test_cell_stats_and_correlations_match_numpy_and_scipy_on_random_data():
  rng = np.random.default_rng(11)
  values = rng.normal(size=(4, 5, 6))
  values[rng.uniform(size=values.shape) < 0.3] = np.nan
  values[0, 0] = np.nan  # a cell without data
  values[1, 1, :-1] = np.nan  # a cell of one seed
  mean, std, n = analysis.cell_stats(values)
  with analysis.quiet():
    np.testing.assert_allclose(mean, np.nanmean(values, -1), rtol=1e-12)
    expected_std = np.nanstd(values, -1, ddof=1)
  np.testing.assert_array_equal(n, np.isfinite(values).sum(-1))
  np.testing.assert_allclose(std[n >= 2], expected_std[n >= 2], rtol=1e-12)
  assert np.isnan(std[n < 2]).all()
  assert analysis.stats_entry(values[2, 3])["n"] == n[2, 3]
  x, y = rng.normal(size=(3, 20)), rng.integers(0, 5, size=(3, 20)).astype(float)  # ties in y
  for i in range(3):
    np.testing.assert_allclose(analysis.pearson(x, y)[i], np.corrcoef(x[i], y[i])[0, 1], rtol=1e-12)
    np.testing.assert_allclose(
        analysis.spearman(x, y)[i], stats.spearmanr(x[i], y[i]).statistic, rtol=1e-12
    )
  assert np.isnan(analysis.pearson(x[0], np.full(20, 0.3)))  # no variance


def test_sign_pattern_and_correlation_summary():
  mean, std, n = (
      np.array([0.5, -0.5, 0.1, np.nan, 0.3]),
      np.array([0.1, 0.1, 0.5, 0.1, 0.0]),
      np.array([4, 4, 4, 0, 1]),
  )
  assert "".join(analysis.sign_pattern(mean, std, n)) == "+-0.+"
  assert "".join(analysis.sign_pattern(mean, std, n, factor=100.0)) == "000.+"
  rows = [
      {"pearson": -0.5, "spearman": -0.4, "pearson_ci": [-0.9, -0.1], "spearman_ci": [-0.8, 0.2]},
      {
          "pearson": 0.3,
          "spearman": np.nan,
          "pearson_ci": [-0.2, 0.6],
          "spearman_ci": [np.nan, np.nan],
      },
  ]
  assert analysis.correlation_summary(rows) == {
      "num_rows": 2,
      "median_pearson": -0.1,
      "median_spearman": -0.4,
      "negative_pearson": 1,
      "negative_spearman": 1,
      "significant_negative_pearson": 1,
      "significant_negative_spearman": 0,
  }


def test_sign_pattern_needs_an_effect_size_not_only_significance():
  floor = analysis.stats.SIGN_MIN_EFFECT
  assert floor == 1e-3
  # Seeds that agree exactly (a deterministic setting): zero spread, so the
  # standard error is 0 and only the floor decides.
  values = np.array([[1e-6] * 3, [-1e-6] * 3, [0.3] * 3, [-0.3] * 3, [2e-3] * 3])
  mean, std, n = analysis.cell_stats(values)
  np.testing.assert_array_equal(std, 0.0)
  assert "".join(analysis.sign_pattern(mean, std, n)) == "00+-+"
  # One seed: no standard error either; the same floor applies.
  one = np.array([[1e-6, np.nan], [-5e-4, np.nan], [0.3, np.nan], [-0.3, np.nan]])
  assert "".join(analysis.sign_pattern(*analysis.cell_stats(one))) == "00+-"
  # At the floor exactly is not beyond it; either sign.
  at_floor = analysis.sign_pattern([floor, -floor, 1.01 * floor], [0.0] * 3, [5] * 3)
  assert "".join(at_floor) == "00+"
  # Ordinary cells (spread well above the floor) are decided by the standard
  # error as before: these give the same signs with the floor off.
  rng = np.random.default_rng(3)
  centre = np.array([0.5, -0.5, 0.05, -0.05, 0.0, 0.2])
  noisy = centre[:, None] + 0.1 * rng.normal(size=(6, 5))
  mean, std, n = analysis.cell_stats(noisy)
  signs = analysis.sign_pattern(mean, std, n)
  np.testing.assert_array_equal(signs, analysis.sign_pattern(mean, std, n, min_effect=0.0))
  se_rule = np.where(
      mean > 2 * std / np.sqrt(n), "+", np.where(mean < -2 * std / np.sqrt(n), "-", "0")
  )
  np.testing.assert_array_equal(signs, se_rule)
  assert signs[0] == "+" and signs[1] == "-" and signs[4] == "0"
  # Tiny but significant (small spread, |mean| below the floor): not a sign.
  tiny = analysis.sign_pattern([5e-4, -5e-4], [1e-5, 1e-5], [10, 10])
  assert "".join(tiny) == "00"
  assert "".join(analysis.sign_pattern([5e-4], [1e-5], [10], min_effect=0.0)) == "+"
  # A NaN spread with several seeds is not significant; no data stays '.'.
  assert "".join(analysis.sign_pattern([0.3, np.nan], [np.nan, np.nan], [3, 0])) == "0."


# --- Crossings -----------------------------------------------------------------


def test_zero_crossings_on_hand_made_rows():
  np.testing.assert_allclose(analysis.zero_crossings([-1.0, -0.5, 0.5, np.nan, 1.0]), [1.5])
  np.testing.assert_allclose(analysis.zero_crossings([1.0, -3.0, 0.0]), [0.25, 2.0])
  assert analysis.zero_crossings([0.0, 1.0, 2.0]) == [0.0]
  assert analysis.zero_crossings([1.0, np.nan, -1.0]) == []  # no adjacent finite pair
  assert analysis.zero_crossings([]) == []


def test_x_at_interpolates_linearly_or_geometrically():
  assert analysis.x_at(1.5, [0.0, 0.2, 0.4]) == pytest.approx(0.3)
  assert analysis.x_at(0.5, [1e-4, 1e-2], log=True) == pytest.approx(1e-3)
  assert analysis.x_at(0.5, [1e-4, 1e-2]) == pytest.approx(0.00505)
  assert analysis.x_at(0.5, [0.0, 1.0], log=True) == pytest.approx(0.5)  # 0: not geometric


def test_last_finite_picks_the_latest_evaluated_entry():
  history = np.array([[np.nan, 0.2, np.nan, 0.4], [np.nan, np.nan, np.nan, np.nan]])
  value, index = analysis.last_finite(history, 2)
  np.testing.assert_array_equal(index, [1, -1])
  assert value[0] == 0.2 and np.isnan(value[1])
  value, index = analysis.last_finite(history, 3)
  np.testing.assert_array_equal(index, [3, -1])
  assert value[0] == 0.4


# --- Finished sweeps -----------------------------------------------------------


@pytest.fixture(scope="module")
def springs_workdir(tmp_path_factory):
  # A second target that overflows float32: those chains are flagged diverged.
  workdir = str(tmp_path_factory.mktemp("tiny") / "chains")
  sweep.run(tiny_springs_config(target=(1.0, 3e38)), workdir)
  return workdir


def test_finished_sweep_cells_follow_the_named_axes(springs_workdir):
  finished = analysis.FinishedSweep.load(springs_workdir)
  arrays, sidecar = sweep.load_result(springs_workdir)
  names = sidecar["grid_names"]
  assert finished.name == "chains" and finished.engine == "springs"
  assert (finished.x, finished.y) == ("noise", "mu") and finished.num_seeds == 2
  # Other axes are held at their first value, and said so.
  assert finished.fixed_axes() == {"target": 1.0}
  # Against xarray's named dimensions (sweep.load), an independent route to the same cells.
  named = sweep.load(springs_workdir)["load_curve"].isel(target=0)
  np.testing.assert_array_equal(
      finished.cells("load_curve"), named.transpose("mu", "noise", "seed", "layer").values
  )
  assert finished.cells("curvature").shape == (2, 3, 2) and names[-1] == "seed"
  np.testing.assert_array_equal(finished.values("noise"), [0.0, 0.004, 0.008])
  assert not finished.diverged().any()
  np.testing.assert_array_equal(finished.masked_cells("curvature"), finished.cells("curvature"))
  assert finished.corner_cells()[0] == (1, 0) and finished.corner_cells()[2] == (1, 2)


def test_finished_sweep_masks_diverged_runs(springs_workdir):
  finished = analysis.FinishedSweep.load(springs_workdir, x="noise", y="target")
  diverged = finished.diverged()
  assert not diverged[0].any() and diverged[1].all()
  masked = finished.masked_cells("load_curve")
  assert np.isnan(masked[1]).all() and np.isfinite(masked[0]).all()
  np.testing.assert_array_equal(masked[0], finished.cells("load_curve")[0])
  assert np.isnan(finished.finite_cells("curvature")[1]).all()
  with pytest.raises(ValueError, match="cannot plot axis 'alpha'"):
    analysis.FinishedSweep.load(springs_workdir, y="alpha")


def test_chain_phases_are_read_from_sweep_workdirs(springs_workdir, tmp_path):
  from featurespring import springs  # pylint: disable=g-import-not-at-top

  out = analysis.analyse_chain_phases([str(tmp_path / "never_run"), springs_workdir])
  assert out["second_order"] == out["langevin"] == {"status": "missing"}
  chains = out["first_order"]
  assert chains["status"] == "ok" and chains["workdir"] == springs_workdir
  # Friction rows x noise columns at the first target; the overflowing one is not shown.
  finished = analysis.FinishedSweep.load(springs_workdir, x="noise", y="mu")
  np.testing.assert_allclose(
      chains["curvature_mean"], finished.cells("curvature").mean(-1), rtol=1e-6
  )
  np.testing.assert_array_equal(chains["noise"], [0.0, 0.004, 0.008])
  assert chains["num_seeds"] == 2 and len(chains["sign"]) == 2
  assert chains["runtime"]["chains"] == 2 * 3 * 2 * 2 and chains["runtime"]["num_steps"] == 300
  # The theory's line with the sweep's own constants (mu_l = 2 mu_r); none without friction.
  theory = [r["theory_critical_noise"] for r in chains["rows"]]
  assert np.isnan(theory[0])
  np.testing.assert_allclose(theory[1], springs.critical_noise(0.02, 0.05, mu_left=0.04))
  for row, curvature in zip(chains["rows"], chains["curvature_mean"]):
    assert len(row["crossings_noise"]) == len(analysis.zero_crossings(curvature))
  with pytest.raises(ValueError, match="both hold first_order chains"):
    analysis.analyse_chain_phases([springs_workdir, springs_workdir])


def alpha_sweep(curvature, accuracy, **config):
  """A FinishedSweep of [alpha, noise, seed] values, built in memory."""
  alpha, noise = np.array([0.0, 0.5, 1.0])[: curvature.shape[0]], np.arange(curvature.shape[1])
  arrays = {
      "curvature": curvature,
      "accuracy": accuracy,
      "diverged": np.zeros(curvature.shape, bool),
      "axis/alpha": alpha,
      "axis/noise": noise * 0.1,
      "axis/seed": np.arange(curvature.shape[2]),
  }
  arrays["diverged"][0, 0, 0] = True
  plot = {"x": "noise", "y": "alpha", "metric": "curvature", **config}
  return analysis.FinishedSweep(
      arrays,
      {"engine": "dnn", "plot": plot},
      ["alpha", "noise", "seed"],
      "noise",
      "alpha",
      name="fake",
  )


def test_rows_are_drawn_by_nonlinearity_and_listed_by_value():
  curvature = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
  finished = alpha_sweep(curvature, curvature)
  # Drawn: 1 - alpha ascending (ReLU, alpha 0, on top); listed: alpha ascending.
  np.testing.assert_array_equal(finished.y_values(), [0.0, 0.5, 1.0])
  np.testing.assert_array_equal(finished.cells("curvature"), curvature[::-1])
  np.testing.assert_array_equal(finished.raw_y_values(by_value=True), [0.0, 0.5, 1.0])
  np.testing.assert_array_equal(finished.row_order(), [2, 1, 0])
  by_value = finished.masked_cells("curvature", by_value=True)
  assert np.isnan(by_value[0, 0, 0]) and finished.diverged(by_value=True)[0, 0, 0]
  np.testing.assert_array_equal(by_value[1:], curvature[1:])


def test_phase_grid_finds_best_zero_and_crossing_cells():
  # Two rows of four columns, curvature crossing zero at column 1.25 (x = 0.125);
  # the best accuracy sits at the column nearest zero curvature, 1.
  row = np.array([-0.6, -0.1, 0.3, 0.6])
  curvature = np.stack([row, 2 * row])[:, :, None] + np.array([-0.01, 0.01])
  accuracy = np.broadcast_to(0.9 - np.abs(curvature.mean(-1, keepdims=True)), curvature.shape)
  finished = alpha_sweep(curvature, accuracy.copy())
  out = analysis.analyse_phase_grid(finished, num_boot=20, boot_seed=0)
  assert out["diverged"]["total"] == 1 and out["diverged"]["per_cell"][0, 0] == 1
  assert out["curvature"]["n"][0, 0] == 1 and out["curvature"]["sign"][1] == "--++"
  for r in out["rows"]:
    assert r["zero_col"] == r["best_col"] == 1
    np.testing.assert_allclose(r["crossings"], [1.25], atol=0.03)
    np.testing.assert_allclose(r["crossings_x"], [0.125], atol=0.003)
  assert out["best_vs_zero"]["fraction_best_is_nearest_zero"] == 1.0
  assert out["curvature_vs_noise"]["fraction_rows_increasing"] == 1.0
  assert out["correlation_pooled"]["pearson"] < 0
  again = analysis.analyse_phase_grid(finished, num_boot=20, boot_seed=0)
  assert again["correlation_pooled"] == out["correlation_pooled"]

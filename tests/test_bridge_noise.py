"""The effective-friction law along the noise axis (featurespring.bridge noise maps)."""

import jax
import numpy as np
import pytest

from featurespring import bridge
from featurespring import springs

from experiments.bridge import heldout
from experiments.bridge import universality

DROPOUT = np.round(np.linspace(0.0, 0.3, 16), 3)
DT = bridge.REFERENCE_CHAIN["dt"]


def law(mu_r, mu_l, scale, knob, knob_map="dropout_std"):
  """The reference chain's mu_eff at ``eps = scale * g(knob)`` (springs' closed form)."""
  z = np.asarray(bridge.knob_coordinate(knob, knob_map), np.float64)
  return springs.effective_friction(mu_r, mu_l, scale * z, DT)


def rows(noise, seed=0, num_rows=8):
  """Rows with a crossing and a floor in range, a crossing beyond it, and none (mu_l < mu_r)."""
  rng = np.random.default_rng(seed)
  mu_r = np.array([0.03, 0.02, 0.01, 0.0, 0.03, 0.02, 0.02, 0.03])[:num_rows, None]
  mu_l = np.array([0.07, 0.06, 0.05, 0.02, 0.2, 0.1, 0.01, 0.02])[:num_rows, None]
  scale = np.array([0.012, 0.01, 0.008, 0.002, 0.006, 0.004, 0.01, 0.012])[:num_rows, None]
  clean = law(mu_r, mu_l, scale, DROPOUT)
  return mu_r, mu_l, scale, clean, clean + rng.normal(0.0, noise, clean.shape)


def test_noise_slope_is_the_reference_chains():
  # mu_eff falls by NOISE_SLOPE per unit eps until the floor (springs' closed form).
  eps = np.array([0.0, 1e-4, 5e-4])
  np.testing.assert_allclose(
      springs.effective_friction(0.02, 0.1, eps, DT), 0.02 - bridge.NOISE_SLOPE * eps, rtol=1e-12
  )


@pytest.mark.parametrize("noise", [0.0, 3e-4])
def test_round_trip_recovers_the_law(noise):
  mu_r, mu_l, scale, clean, noisy = rows(noise)
  fit = bridge.fit_noise_map(DROPOUT, noisy.astype(np.float32), knob_map="dropout_std")
  assert np.all(fit.valid)
  # Tolerances: exact data is recovered to the breakpoint grid (1/128 of the
  # range); noise of 3e-4 (1-3 % of mu_r) moves mu_r by about that much.
  tol_mu = 1e-4 + 2 * noise
  np.testing.assert_allclose(fit.mu_right, mu_r[:, 0], atol=tol_mu)
  np.testing.assert_allclose(fit.scale, scale[:, 0], rtol=0.03 + 60 * noise)
  saturated = np.array(fit.saturated)
  # The floor lies inside the range for rows 0-3 and 6-7, beyond it for 4-5.
  expected_floor = np.array([True, True, True, True, False, False, True, True])
  if noise == 0:
    np.testing.assert_array_equal(saturated, expected_floor)
  else:  # noise can fake a floor, but only at the end of the range
    assert np.all(saturated[expected_floor])
    assert np.all(np.asarray(fit.saturation_knob)[~expected_floor] > 0.2)
  saturated &= expected_floor
  np.testing.assert_allclose(
      np.asarray(fit.mu_left)[saturated], mu_l[saturated, 0], atol=4 * tol_mu
  )
  assert np.all(np.isinf(np.asarray(fit.mu_left)[~np.asarray(fit.saturated)]))
  # Crossing where mu_l > mu_r (and mu_r > 0), none where mu_l <= mu_r.
  crossing = (mu_l > mu_r)[:, 0]
  np.testing.assert_array_equal(np.isfinite(fit.critical_knob), crossing)
  expected = springs.critical_noise(mu_r[:, 0], DT, mu_left=mu_l[:, 0])
  np.testing.assert_allclose(
      np.asarray(fit.critical_noise)[crossing], expected[crossing], atol=tol_mu / 10
  )
  z_star = expected / scale[:, 0]
  p_star = z_star**2 / (1 + z_star**2)
  np.testing.assert_allclose(
      np.asarray(fit.critical_knob)[crossing], p_star[crossing], atol=0.01 + 20 * noise
  )
  predicted = np.asarray(bridge.predict_friction(fit, DROPOUT))
  assert np.max(np.abs(predicted - clean)) < 5e-4 + 4 * noise
  assert np.all(np.asarray(fit.residual) < 1e-4 + 1.5 * noise)  # breakpoint grid: ~0.3 % of mu


def test_collapse_coordinate_is_one_at_the_crossing():
  mu_r, mu_l, scale, _, noisy = rows(0.0)
  fit = bridge.fit_noise_map(DROPOUT, noisy, knob_map="dropout_std")
  critical = np.asarray(fit.critical_knob)
  crossing = np.isfinite(critical) & (mu_r[:, 0] > 0)
  at = np.where(np.isfinite(critical), critical, 0.1)[:, None]
  ratio = np.asarray(bridge.collapse_coordinate(fit, at))
  np.testing.assert_allclose(ratio[crossing, 0], 1.0, rtol=1e-4)
  assert np.all(np.isnan(ratio[~np.isfinite(critical), 0]))


def test_batched_and_vmapped_fit_equal_per_row_fit():
  *_, noisy = rows(3e-4, seed=1)
  noisy = noisy.astype(np.float32)
  grid = np.stack([noisy, noisy[::-1]])  # [2, 8, 16]
  batched = bridge.fit_noise_map(DROPOUT, grid, knob_map="dropout_std")
  assert batched.mu_right.shape == (2, 8)
  vmapped = jax.jit(
      jax.vmap(jax.vmap(lambda y: bridge.fit_noise_map(DROPOUT, y, knob_map="dropout_std")))
  )(grid)
  for i in range(2):
    for j in range(8):
      one = bridge.fit_noise_map(DROPOUT, grid[i, j], knob_map="dropout_std")
      for field in ("mu_right", "mu_left", "scale", "residual", "critical_knob"):
        for other in (batched, vmapped):
          np.testing.assert_allclose(
              getattr(other, field)[i, j], getattr(one, field), rtol=1e-5, atol=1e-9
          )


def test_nan_cells_are_masked_not_dropped():
  mu_r, mu_l, scale, clean, _ = rows(0.0)
  holes = clean.copy()
  holes[0, [2, 7, 11]] = np.nan  # a few invalid cells: still fit, from the rest
  holes[1, 2:] = np.nan  # two levels left: too few for 3 parameters
  holes[2, :] = np.nan
  fit = bridge.fit_noise_map(DROPOUT, holes, knob_map="dropout_std")
  assert fit.mu_right.shape == (8,)
  np.testing.assert_array_equal(fit.num_levels[:3], [13, 2, 0])
  reasons = [bridge.NOISE_REASONS[r] for r in np.asarray(fit.reason)]
  assert reasons[:3] == ["ok", "too_few_levels", "too_few_levels"]
  assert np.all(np.isnan(np.asarray(fit.mu_right)[1:3]))
  np.testing.assert_allclose(fit.mu_right[0], mu_r[0, 0], atol=1e-4)
  np.testing.assert_allclose(fit.mu_left[0], mu_l[0, 0], atol=4e-4)
  # Zero weights mask cells as NaN does.
  weights = np.where(np.isnan(holes), 0.0, 1.0)
  weighted = bridge.fit_noise_map(
      DROPOUT, np.where(np.isnan(holes), 5.0, holes), knob_map="dropout_std", weights=weights
  )
  np.testing.assert_allclose(weighted.mu_right, fit.mu_right, rtol=1e-6)


def test_rising_friction_is_not_falling():
  fit = bridge.fit_noise_map(DROPOUT, np.linspace(0.0, 0.02, 16), knob_map="dropout_std")
  assert bridge.NOISE_REASONS[int(fit.reason)] == "not_falling" and not bool(fit.valid)


@pytest.mark.parametrize(
    "knob_map, knob",
    [
        ("dropout_std", np.array([0.0, 0.5, 1.0])),  # p = 1 is outside [0, 1)
        ("inverse_sqrt", np.array([0.0, 10.0, 20.0])),  # B = 0
        ("sqrt", np.array([-0.1, 0.2, 0.3])),
        ("identity", np.array([0.0, np.nan, 0.3])),
    ],
)
def test_knob_values_outside_the_map_raise(knob_map, knob):
  with pytest.raises(ValueError, match="knob_values must lie in"):
    bridge.fit_noise_map(knob, np.ones(3), knob_map=knob_map)


def test_bad_inputs_raise_naming_the_argument():
  with pytest.raises(ValueError, match="friction needs at least 3 noise levels"):
    bridge.fit_noise_map([0.0, 0.1], [0.02, 0.01])
  with pytest.raises(ValueError, match="friction must be a real array"):
    bridge.fit_noise_map([0.0, 0.1, 0.2], "abc")
  with pytest.raises(ValueError, match="knob_map must be one of"):
    bridge.fit_noise_map([0.0, 0.1, 0.2], [0.02, 0.01, 0.0], knob_map="log")
  with pytest.raises(ValueError, match="knob_values of shape"):
    bridge.fit_noise_map([0.0, 0.1], np.ones((2, 3)))
  with pytest.raises(ValueError, match="weights must be >= 0"):
    bridge.fit_noise_map([0.0, 0.1, 0.2], [0.02, 0.01, 0.0], weights=[1.0, -1.0, 1.0])
  with pytest.raises(ValueError, match="num_candidates"):
    bridge.fit_noise_map([0.0, 0.1, 0.2], [0.02, 0.01, 0.0], num_candidates=0)
  fit = bridge.fit_noise_map([0.0, 0.1, 0.2], [0.02, 0.01, 0.0])
  with pytest.raises(ValueError, match="knob_map 'sqrt' differs"):
    bridge.predict_friction(fit, [0.1], "sqrt")
  with pytest.raises(ValueError, match="split must be one of"):
    heldout.split_levels(DROPOUT, "dropout_std", "random")
  with pytest.raises(ValueError, match="leaves 2 for fitting"):
    heldout.split_levels(DROPOUT[:4], "dropout_std", "interpolation")
  with pytest.raises(ValueError, match="num_boot"):
    heldout.held_out(DROPOUT, np.ones((2, 16, 3)), "dropout_std", num_boot=-1)
  with pytest.raises(ValueError, match="friction_seeds must be"):
    heldout.held_out(DROPOUT, np.ones((2, 15, 3)), "dropout_std")


def test_every_registered_map_inverts():
  for name, kmap in bridge.KNOB_MAPS.items():
    knob = np.array([0.01, 0.1, 0.25]) if kmap.high <= 1 else np.array([0.5, 3.0, 64.0])
    z = bridge.knob_coordinate(knob, name)
    np.testing.assert_allclose(kmap.inverse(z), knob, rtol=1e-5, err_msg=name)
  for knob, names in bridge.KNOB_CANDIDATES.items():
    assert all(n in bridge.KNOB_MAPS for n in names), knob


def seeded_rows(noise, seeds=6, seed=2):
  mu_r, mu_l, scale, clean, _ = rows(0.0)
  rng = np.random.default_rng(seed)
  return clean, clean[..., None] + rng.normal(0.0, noise, clean.shape + (seeds,))


@pytest.mark.parametrize("split", heldout.SPLITS)
def test_held_out_theory_beats_the_row_mean_when_it_is_right(split):
  clean, seeds = seeded_rows(5e-4)
  out = heldout.held_out(DROPOUT, seeds, "dropout_std", split=split, num_boot=100, boot_seed=0)
  theory, mean = out["metrics"]["theory"], out["metrics"]["row_mean"]
  assert theory["r2"]["value"] > 0.8 and theory["mae"]["value"] < 2e-3
  assert theory["mae"]["value"] < mean["mae"]["value"]
  assert out["difference"]["row_mean"]["mae"]["low"] > 0  # CI excludes a tie
  assert theory["mae"]["low"] <= theory["mae"]["high"]
  assert theory["coverage"] == 1.0 and out["num_cells"] == 8 * len(out["test"])
  assert sorted(out["train"] + out["test"]) == list(range(16))
  if split == "extrapolation":
    assert len(out["train"]) == 10 and out["crossing"]["rows"] == 8
    assert "theory" in out["last_level"]


def test_linear_baseline_interpolates_and_extrapolates_skipping_nan():
  z = np.array([0.0, 1.0, 2.0, 3.0])
  y = np.array([[0.0, 1.0, np.nan, 5.0], [np.nan, np.nan, 2.0, np.nan]])
  pred = heldout.linear_baseline(z, y, np.array([0.5, 2.0, 4.0, -1.0]))
  np.testing.assert_allclose(pred[0], [0.5, 3.0, 7.0, -1.0])
  np.testing.assert_allclose(pred[1], [2.0, 2.0, 2.0, 2.0])


def test_nearest_cell_baseline_takes_the_nearest_valid_level_and_the_lower_of_ties():
  z = np.array([0.0, 1.0, 2.0, 3.0])
  y = np.array([[0.0, 1.0, np.nan, 5.0], [np.nan] * 4])
  pred = heldout.nearest_cell_baseline(z, y, np.array([0.4, 2.0, 2.5, 9.0]))
  np.testing.assert_allclose(pred[0], [0.0, 1.0, 5.0, 5.0])
  assert np.isnan(pred[1]).all()


def test_saturating_baseline_recovers_an_exponential_approach_and_needs_three_levels():
  z = np.linspace(0.0, 1.0, 8)

  # A scale on the baseline's grid: a multiple of the training levels' span (6/7).
  c = heldout.SATURATION_SCALES[20] * np.ptp(z[::2])
  y = 0.3 - 0.5 * np.exp(-z / c)
  pred = heldout.saturating_baseline(z[::2], np.stack([y[::2], [1.0, np.nan, np.nan, 2.0]]), z)
  np.testing.assert_allclose(pred[0], y, atol=1e-9)
  assert np.isnan(pred[1]).all()  # two valid levels cannot fix three parameters
  # Far beyond the training levels it levels off at a.
  far = heldout.saturating_baseline(z[::2], y[::2][None], np.array([100.0]))
  np.testing.assert_allclose(far, 0.3, atol=1e-9)


def test_seed_bootstrap_resamples_seeds_shared_by_cells():
  values = np.arange(12.0).reshape(2, 2, 3)  # [rows, levels, seeds]
  means = heldout.seed_bootstrap_means(values, 50, 0)
  np.testing.assert_allclose(means[0], values.mean(-1))
  # The same seeds for every cell: differences between cells stay exact.
  np.testing.assert_allclose(means[:, 1, 1] - means[:, 0, 0], 9.0)


def test_compare_knob_maps_prefers_the_true_map():
  _, seeds = seeded_rows(2e-4)
  out = heldout.compare_knob_maps(DROPOUT, seeds, ["identity", "dropout_std"], num_boot=20)
  assert list(out)[0] == "dropout_std"
  inverse = heldout.compare_knob_maps(DROPOUT, seeds, ["inverse"], num_boot=0)
  assert "error" in inverse["inverse"]


KNOBS = (
    np.linspace(0.0, 0.8, 9),
    np.array([1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5]),
    DROPOUT,
    np.array([5.0, 10, 20, 40, 80, 160, 320, 640, 1280, 2560]),
)
MAPS = ("identity", "sqrt", "dropout_std", "inverse_sqrt")
SCALES = (0.01, 0.02, 0.012, 0.03)


def four_grids(shared, noise=5e-4, seeds=8, seed=3):
  rng = np.random.default_rng(seed)
  mu_r = np.linspace(0.03, 0.01, 4)[:, None]
  out = []
  for i, (knob, name, scale) in enumerate(zip(KNOBS, MAPS, SCALES)):
    mr = mu_r if shared else mu_r * (1 + 0.5 * i)
    y = law(mr, 3 * mr, scale, knob, name)
    out.append(y[..., None] + rng.normal(0.0, noise, y.shape + (seeds,)))
  return mu_r, out


def test_joint_fit_recovers_shared_friction_and_wins_when_shared():
  mu_r, grids = four_grids(shared=True)
  out = universality.compare_universality(KNOBS, grids, MAPS, num_boot=40, boot_seed=0)
  joint = out["joint_fit"]
  np.testing.assert_allclose(joint.mu_right, mu_r[:, 0], atol=5e-4)
  np.testing.assert_allclose(joint.mu_left, 3 * mu_r[:, 0], atol=2e-3)
  for fit, scale in zip(joint.grids, SCALES):
    np.testing.assert_allclose(fit.scale, scale, rtol=0.05)
  assert out["delta_aic"] > 0 and out["delta_bic"] > 0
  assert out["mae_difference"]["value"] > 0
  assert out["joint"]["num_params"] == 4 * 6 and out["separate"]["num_params"] == 4 * 12
  collapse = out["collapse"][0]["eps_over_critical"]
  assert collapse.shape == (4, 9) and np.all(collapse[:, 0] == 0)
  # The data have one scale per knob, so the strictest model holds too, with
  # 2 R + G = 12 parameters, and wins the information criteria.
  universal = out["universal_fit"]
  np.testing.assert_allclose(universal.mu_right, mu_r[:, 0], atol=5e-4)
  np.testing.assert_allclose(universal.scale, SCALES, rtol=0.05)
  assert out["universal"]["num_params"] == 2 * 4 + 4
  assert out["universal"]["bic"] < out["joint"]["bic"]


def test_joint_fit_loses_when_the_grids_differ():
  _, grids = four_grids(shared=False)
  out = universality.compare_universality(KNOBS, grids, MAPS, num_boot=40, boot_seed=0)
  assert out["delta_aic"] < 0 and out["delta_bic"] < 0
  assert out["mae_difference"]["high"] < 0
  assert out["universal"]["bic"] > out["separate"]["bic"]

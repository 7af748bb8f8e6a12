"""Fitting the chain's equilibrium shape to load curves (featurespring.bridge)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import bridge
from featurespring import springs


def mu_range(num_blocks):
  """Frictions whose closed-form curve falls monotonically with every block moving.

  Steps of ``d_l`` are ``1 / (L + 1) + mu (2 l - L) / 2``: >= 0 for all ``l``
  between ``-2 / ((L + 1) (L - 2))`` and ``2 / (L (L + 1))``, the upper end
  also being where shallow blocks start to stick.
  """
  upper = 2.0 / (num_blocks * (num_blocks + 1))
  lower = -2.0 / ((num_blocks + 1) * max(num_blocks - 2, 1))
  return lower, upper


def reference_fit(curve):
  """Per-curve float64 NumPy least squares: the baseline the fit must equal."""
  coef, *_ = np.linalg.lstsq(bridge.shape_basis(curve.shape[-1]), curve, rcond=None)
  offset, scale, c = coef
  return c / scale, scale, offset


@pytest.mark.parametrize("num_blocks", [3, 5, 7, 12, 20])
def test_round_trip_recovers_friction_scale_and_offset(num_blocks):
  rng = np.random.default_rng(num_blocks)
  lower, upper = mu_range(num_blocks)
  mu = np.concatenate([np.linspace(lower, upper, 11), [0.0]])  # both signs and 0
  scale = rng.uniform(0.2, 5.0, mu.shape)
  offset = rng.uniform(-3.0, 3.0, mu.shape)
  curves = springs.equilibrium_load_curve(num_blocks, 1.0, 1.0, mu)
  fit = bridge.fit_shape(scale[:, None] * curves + offset[:, None])
  assert np.all(fit.valid) and np.all(np.asarray(fit.reason) == 0)
  # float32 input: errors are rounding of the curves, ~1e-6 of mu's range.
  np.testing.assert_allclose(fit.friction, mu, rtol=0, atol=1e-4 * (upper - lower))
  np.testing.assert_allclose(fit.scale, scale, rtol=1e-4)
  np.testing.assert_allclose(fit.offset, offset, rtol=0, atol=1e-4 * (1 + np.max(np.abs(offset))))
  assert np.all(np.asarray(fit.residual) < 1e-5)
  # The fitted curve is the input curve.
  np.testing.assert_allclose(
      bridge.fitted_curve(fit, num_blocks + 1),
      scale[:, None] * curves + offset[:, None],
      atol=1e-4 * np.max(scale),
  )


def test_sign_convention_matches_curvature():
  # mu > 0: concave (lazy), deep layers carry more; mu < 0: convex (active).
  concave, convex = springs.equilibrium_load_curve(7, 1.0, 1.0, np.array([0.02, -0.02]))
  fit = bridge.fit_shape(np.stack([concave, convex]))
  assert fit.friction[0] > 0 > fit.friction[1]
  assert concave[0] - concave[1] < concave[-2] - concave[-1]
  assert convex[0] - convex[1] > convex[-2] - convex[-1]


def test_fit_is_invariant_to_affine_change_of_separations():
  rng = np.random.default_rng(1)
  curves = np.cumsum(-rng.uniform(0.05, 1.0, (32, 8)), axis=-1)  # falling, not exact
  curves = curves.astype(np.float32)
  fit = bridge.fit_shape(curves)
  moved = bridge.fit_shape(3.7 * curves - 12.0)
  assert np.all(fit.valid) and np.all(moved.valid)
  np.testing.assert_allclose(moved.friction, fit.friction, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(moved.residual, fit.residual, rtol=1e-3, atol=1e-6)
  np.testing.assert_allclose(moved.scale, 3.7 * np.asarray(fit.scale), rtol=1e-4)
  np.testing.assert_allclose(moved.offset, 3.7 * np.asarray(fit.offset) - 12.0, atol=1e-4)


def test_float32_fit_equals_float64_least_squares():
  # Conditioning check: the design matrix's columns differ in scale by ~L^2,
  # but the curves are normalised first, so float32 loses only rounding.
  rng = np.random.default_rng(2)
  for num_points in (4, 8, 30, 65):
    curves = np.cumsum(-rng.uniform(0.1, 1.0, (16, num_points)), axis=-1) + 50.0
    fit = bridge.fit_shape(curves.astype(np.float32))
    for i, curve in enumerate(curves):
      mu, scale, offset = reference_fit(curve.astype(np.float32).astype(np.float64))
      lower, upper = mu_range(num_points - 1)
      assert abs(float(fit.friction[i]) - mu) < 1e-4 * (upper - lower)
      assert abs(float(fit.scale[i]) / scale - 1) < 1e-4
      assert abs(float(fit.offset[i]) - offset) < 1e-4 * abs(offset)


def test_batched_and_vmapped_fit_equal_per_cell_fit():
  num_blocks = 6
  rng = np.random.default_rng(3)
  lower, upper = mu_range(num_blocks)
  mu = rng.uniform(lower, upper, (4, 5))
  curves = springs.equilibrium_load_curve(num_blocks, 1.0, 1.0, mu)
  curves = curves * rng.uniform(0.5, 2.0, (4, 5, 1)) + rng.normal(0.0, 0.01, (4, 5, 7))
  curves = jnp.asarray(curves, jnp.float32)
  batched = bridge.fit_shape(curves)
  vmapped = jax.jit(jax.vmap(jax.vmap(bridge.fit_shape)))(curves)
  assert batched.friction.shape == (4, 5)
  for field in ("friction", "scale", "offset", "residual", "valid", "reason"):
    np.testing.assert_allclose(getattr(vmapped, field), getattr(batched, field), rtol=1e-6)
  for i in range(4):
    for j in range(5):
      cell = bridge.fit_shape(curves[i, j])
      assert cell.friction.shape == ()
      for field in ("friction", "scale", "offset", "residual"):
        np.testing.assert_allclose(
            getattr(cell, field), getattr(batched, field)[i, j], rtol=1e-5, atol=1e-7
        )
      mu_ref, scale_ref, _ = reference_fit(np.asarray(curves[i, j], np.float64))
      np.testing.assert_allclose(batched.friction[i, j], mu_ref, atol=1e-6)
      np.testing.assert_allclose(batched.scale[i, j], scale_ref, rtol=1e-5)


def test_result_is_a_pytree():
  fit = bridge.fit_shape(jnp.ones((2, 3)) * jnp.array([3.0, 2.0, 1.0]))
  leaves = jax.tree_util.tree_leaves(fit)
  assert len(leaves) == 6
  doubled = jax.tree_util.tree_map(lambda x: x, fit)
  assert isinstance(doubled, bridge.ShapeFit)


@pytest.mark.parametrize("noise", [0.003, 0.01, 0.03])
def test_noisy_curves_have_residual_near_the_noise_level(noise):
  # Curves of drop 1 plus white noise of std sigma: the least-squares
  # residual is sigma * sqrt((n - 3) / n) in expectation (3 parameters).
  num_blocks = 9
  n = num_blocks + 1
  rng = np.random.default_rng(4)
  mu = rng.uniform(-0.01, 0.015, 400)
  clean = springs.equilibrium_load_curve(num_blocks, 1.0, 1.0, mu)
  clean = clean / (clean[:, :1] - clean[:, -1:])  # drop exactly 1
  noisy = clean + rng.normal(0.0, noise, clean.shape)
  fit = bridge.fit_shape(noisy.astype(np.float32), monotone_tol=1.0)
  assert np.all(fit.valid)
  expected = noise * np.sqrt((n - 3) / n)
  # Mean of the RMS: within 10% of expected (400 curves, a few % spread).
  assert abs(float(np.mean(fit.residual)) / expected - 1) < 0.1
  # The friction is still found, to about noise / (typical |v| ~ L^2/8).
  assert np.median(np.abs(np.asarray(fit.friction) - mu)) < 3 * noise / (n**2 / 8)


def test_bad_curves_are_flagged_not_dropped():
  good = springs.equilibrium_load_curve(5, 1.0, 1.0, 0.01)
  curves = np.stack(
      [
          good,
          np.where(np.arange(6) == 2, np.nan, good),  # NaN
          np.where(np.arange(6) == 4, np.inf, good),  # inf
          np.full(6, 0.7),  # flat
          0.7 + 1e-8 * good,  # flat within flat_tol = 1e-6
          good[::-1],  # rising
          np.array([1.0, 0.5, 0.9, 0.4, 0.2, 0.0]),  # one layer rises 40% of the drop
          np.array([1.0, 0.8, 0.82, 0.5, 0.2, 0.0]),  # rises 2%: within monotone_tol
          np.array([1.0, 1.2, 1.5, 1.3, 0.5, 0.0]),  # a hump: rises, then falls
      ]
  )
  fit = bridge.fit_shape(curves)
  reasons = [bridge.REASONS[r] for r in np.asarray(fit.reason)]
  assert reasons == [
      "ok",
      "non_finite",
      "non_finite",
      "flat",
      "flat",
      "rising",
      "non_monotone",
      "ok",
      "non_monotone",
  ]
  valid = np.asarray(fit.valid)
  np.testing.assert_array_equal(valid, [r == "ok" for r in reasons])
  assert fit.friction.shape == (9,)  # nothing dropped
  for field in ("friction", "scale", "offset", "residual"):
    values = np.asarray(getattr(fit, field))
    assert np.all(np.isnan(values[~valid])), field
    assert np.all(np.isfinite(values[valid])), field
  # The tolerances are arguments: a looser one accepts the 40% rise.
  assert bool(bridge.fit_shape(curves[6], monotone_tol=0.5).valid)
  assert not bool(bridge.fit_shape(curves[4], flat_tol=0.0).valid)  # rounding-level drop


def test_rounding_level_drop_is_flat_whatever_flat_tol():
  curve = np.float32(1000.0) + np.float32(1e-5) * np.arange(5, 0, -1, dtype=np.float32)
  fit = bridge.fit_shape(curve, flat_tol=0.0)
  assert bridge.REASONS[int(fit.reason)] == "flat"


@pytest.mark.parametrize("shape", [(2,), (4, 2), (0,), ()])
def test_fewer_than_three_points_raises_naming_the_argument(shape):
  with pytest.raises(ValueError, match="load_curves.*at least 3 layers"):
    bridge.fit_shape(np.ones(shape))


@pytest.mark.parametrize("bad", ["abc", np.array(["a", "b", "c"]), np.ones(3, bool)])
def test_non_numeric_curves_raise_naming_the_argument(bad):
  with pytest.raises(ValueError, match="load_curves"):
    bridge.fit_shape(bad)


@pytest.mark.parametrize("mu", [0.02, -0.02])
def test_fitted_chain_simulates_back_to_the_curve(mu):
  num_blocks = 7
  scale, offset = 2.5, -0.4
  curve = scale * springs.equilibrium_load_curve(num_blocks, 1.0, 1.0, mu) + offset
  fit = bridge.fit_shape(curve[None])  # grid of one
  cfg = bridge.fitted_chain(fit, num_blocks)
  assert cfg.k == 1.0 and cfg.target == 1.0
  np.testing.assert_allclose(
      springs.effective_friction(cfg.mu_right, cfg.mu_left, cfg.noise, cfg.dt), [mu], rtol=1e-5
  )
  seeds = 16
  # The slowest mode relaxes in ~(L+1)^2/pi^2 time units (slower in the noisy,
  # saturated state): 8000 steps of 0.05 are ~60 of them.
  result = springs.simulate(
      jax.tree_util.tree_map(lambda x: np.asarray(x)[..., None], cfg),
      jax.random.split(jax.random.key(0), seeds)[None],
      8000,
  )
  assert not np.any(result.diverged)
  simulated = np.asarray(result.load_curve)[0]  # [seeds, L+1], units of d_l
  target = np.asarray(bridge.shape_curve(fit.friction, num_blocks + 1))[0]
  drop = target[0] - target[-1]
  per_run = np.sqrt(np.mean((simulated - target) ** 2, axis=-1)) / drop
  mean_curve = np.sqrt(np.mean((simulated.mean(0) - target) ** 2)) / drop
  if mu > 0:  # noiseless: every run is the closed form
    assert np.all(per_run < 1e-4)
  else:  # noise at eps ~ 0.004: runs fluctuate, their mean is the curve
    assert np.all(per_run < 0.01)
    assert mean_curve < 0.003
  # And refitting the chain's curves gives back the friction.
  refit = bridge.fit_shape(simulated.mean(0))
  assert abs(float(refit.friction) - mu) < 0.05 * abs(mu)
  # In the curve's own units: scale * simulated + offset is the input curve.
  back = np.asarray(fit.scale)[0] * simulated.mean(0) + np.asarray(fit.offset)[0]
  assert np.sqrt(np.mean((back - curve) ** 2)) / (curve[0] - curve[-1]) < 0.003


def test_fitted_chain_of_a_grid_and_bad_fits():
  mu = np.array([[0.01, 0.0], [-0.005, -0.02]])
  fit = bridge.fit_shape(springs.equilibrium_load_curve(7, 1.0, 1.0, mu))
  cfg = bridge.fitted_chain(fit, 7)
  assert cfg.batch_shape == (2, 2)
  np.testing.assert_allclose(
      springs.effective_friction(cfg.mu_right, cfg.mu_left, cfg.noise, cfg.dt), mu, atol=1e-7
  )
  np.testing.assert_array_equal(np.asarray(cfg.noise) > 0, mu < 0)  # noise only when convex
  uniform = bridge.fitted_chain(fit, 7, noise_dist="uniform")
  np.testing.assert_allclose(
      springs.effective_friction(
          uniform.mu_right, uniform.mu_left, uniform.noise, uniform.dt, "uniform"
      ),
      mu,
      atol=1e-7,
  )
  with pytest.raises(ValueError, match="noise_dist"):
    bridge.fitted_chain(fit, 7, noise_dist="gaussian")
  bad = bridge.fit_shape(np.stack([np.array([1.0, 0.5, 0.0]), np.full(3, 1.0)]))
  with pytest.raises(ValueError, match="fit has 1 invalid"):
    bridge.fitted_chain(bad, 2)

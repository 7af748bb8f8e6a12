"""Physics and API checks of the spring-block engine against SPEC §3."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import metrics
from featurespring import springs
from featurespring.springs import _noise
from featurespring.springs import _simulate

DT = 0.05


@pytest.mark.parametrize(
    "num_blocks,k,mu,target",
    [
        (7, 1.0, 0.01, 1.0),
        (3, 0.5, 0.0, 2.0),
        (10, 2.0, 0.005, 1.5),
        (5, 0.3, 0.004, 0.8),
    ],
)
def test_noiseless_first_order_reaches_closed_form(num_blocks, k, mu, target):
  # The slowest chain mode relaxes in ~(L+1)^2 / (pi^2 k) time units; run
  # for ~20 of those so that the remaining error is far below tolerance.
  num_steps = int(20 * (num_blocks + 1) ** 2 / (np.pi**2 * k) / DT)
  cfg = springs.ChainConfig(
      num_blocks=num_blocks, k=k, target=target, mu_right=mu, mu_left=2 * mu, dt=DT
  )
  result = springs.simulate(cfg, jax.random.key(0), num_steps)
  expected = springs.equilibrium_load_curve(num_blocks, target, k, mu)
  assert target / (num_blocks + 1) >= mu * num_blocks / (2 * k)  # all blocks move
  np.testing.assert_allclose(result.load_curve, expected, rtol=1e-3)
  assert expected[0] == target
  if mu > 0:
    assert metrics.curvature(expected) < 0  # friction makes it concave


def test_shallow_blocks_stay_put_when_friction_is_too_large():
  num_blocks, k, mu, target = 7, 1.0, 0.1, 1.0
  assert target / (num_blocks + 1) < mu * num_blocks / (2 * k)
  cfg = springs.ChainConfig(
      num_blocks=num_blocks, k=k, target=target, mu_right=mu, mu_left=mu, dt=DT
  )
  result = springs.simulate(cfg, jax.random.key(0), 8000, record_every=100)
  positions = np.asarray(result.positions)
  # Only the deepest n blocks move, n the largest with 2ky >= mu n (n+1) = 3.
  np.testing.assert_array_equal(positions[:4], 0.0)
  assert np.all(positions[4:] > 0)
  # Stuck blocks never moved at any time, not just at the end.
  np.testing.assert_array_equal(np.asarray(result.trajectory)[:, 1:5], target)
  np.testing.assert_allclose(
      result.load_curve, springs.equilibrium_load_curve(num_blocks, target, k, mu), rtol=1e-3
  )


def test_second_order_block_stays_stuck_below_static_threshold():
  # One block, force k*y = 0.05 below mu_right = 0.06: static friction holds it.
  cfg = springs.ChainConfig(
      num_blocks=1, k=0.1, target=0.5, mu_right=0.06, mu_left=0.06, dt=DT, dynamics="second_order"
  )
  result = springs.simulate(cfg, jax.random.key(0), 2000)
  np.testing.assert_array_equal(result.positions, 0.0)
  np.testing.assert_array_equal(result.velocities, 0.0)
  # Just above the threshold it slides and settles where F = mu_right.
  moving = springs.simulate(cfg.replace(mu_right=0.04, mu_left=0.04), jax.random.key(0), 4000)
  # One block between a wall and the pull: F = k(y - 2x) = mu  =>  x = (y - mu/k)/2.
  np.testing.assert_allclose(moving.positions[0], (0.5 - 0.04 / 0.1) / 2, rtol=2e-3)


@pytest.mark.parametrize("noise_dist", ["uniform", "truncated_normal", "gaussian"])
def test_effective_friction_limits(noise_dist):
  mu_r, mu_l = 0.02, 0.05
  tiny = springs.effective_friction(mu_r, mu_l, 1e-12, DT, noise_dist, horizon=1e4)
  np.testing.assert_allclose(tiny, mu_r, rtol=1e-6)
  np.testing.assert_allclose(springs.effective_friction(mu_r, mu_l, 0.0, DT, noise_dist), mu_r)
  large = springs.effective_friction(mu_r, mu_l, 10.0, DT, noise_dist, horizon=1e4)
  np.testing.assert_allclose(large, (mu_r - mu_l) / 2, rtol=1e-12)
  # Noise only ever lowers the effective friction.
  eps = np.linspace(0, 0.05, 101)
  curve = springs.effective_friction(mu_r, mu_l, eps, DT, noise_dist, horizon=1e4)
  assert np.all(np.diff(curve) <= 0)


@pytest.mark.parametrize("noise_dist", ["uniform", "truncated_normal"])
@pytest.mark.parametrize("eps", [0.0005, 0.002, 0.02])
def test_effective_friction_is_largest_root_of_mean_activation(noise_dist, eps):
  mu_r, mu_l = 0.02, 0.04
  mu_eff = springs.effective_friction(mu_r, mu_l, eps, DT, noise_dist)
  forces = np.linspace(-mu_l, mu_r + 0.05, 20001)
  mean_act = springs.mean_friction_activation(forces, mu_r, mu_l, eps, DT, noise_dist)
  assert np.all(np.diff(mean_act) >= -1e-15)  # non-decreasing in the force
  np.testing.assert_allclose(
      springs.mean_friction_activation(mu_eff, mu_r, mu_l, eps, DT, noise_dist), 0.0, atol=1e-15
  )
  # No root above mu_eff: the mean activation is strictly positive there.
  assert np.all(mean_act[forces > mu_eff + 1e-6] > 0)


@pytest.mark.parametrize("noise_dist", ["uniform", "truncated_normal", "gaussian"])
def test_mean_activation_matches_monte_carlo_of_the_generator(noise_dist):
  # The closed-form E[phi(F + eps_bar xi)] against the simulator's own noise.
  bits = jax.random.bits(jax.random.key(3), (400_000,), jnp.uint32)
  xi = np.asarray(_noise.unit_noise(bits, noise_dist, jnp.float32(2.0)), np.float64)
  mu_r, mu_l, eps = 0.02, 0.04, 0.003
  scale = eps / np.sqrt(DT)
  for force in (-0.03, 0.0, 0.01, 0.02, 0.03):
    g = force + scale * xi
    mc = np.mean(np.maximum(g - mu_r, 0) + np.minimum(g + mu_l, 0))
    closed = springs.mean_friction_activation(force, mu_r, mu_l, eps, DT, noise_dist)
    np.testing.assert_allclose(mc, closed, atol=4 * scale * np.std(xi) / np.sqrt(xi.size) + 1e-6)


@pytest.mark.parametrize("noise_dist", ["uniform", "truncated_normal", "gaussian"])
def test_unit_noise_moments_and_bounds(noise_dist):
  bits = jax.random.bits(jax.random.key(1), (1_000_000,), jnp.uint32)
  xi = np.asarray(_noise.unit_noise(bits, noise_dist, jnp.float32(2.0)), np.float64)
  assert abs(xi.mean()) < 5e-3
  assert abs(xi.var() - 1.0) < 5e-3
  bound = _noise.noise_bound(noise_dist, 2.0)
  assert np.all(np.abs(xi) <= bound * (1 + 1e-6))
  if noise_dist != "gaussian":
    assert np.abs(xi).max() > 0.99 * bound  # the edges are reached


def test_counter_hash_streams_are_uncorrelated():
  words = _noise.chain_keys(jax.random.key(0), (512,))
  steps = [jnp.int32(s) for s in range(64)]
  draws = np.stack(
      [
          np.asarray(_noise.unit_noise(_noise.counter_bits(words, s, 7, False), "uniform", 2.0))
          for s in steps
      ]
  )  # [T, L, B]
  flat = draws.reshape(64, 7, 512)

  def corr(a, b):
    return np.corrcoef(a.ravel(), b.ravel())[0, 1]

  limit = 4 / np.sqrt(flat[1:].size)
  assert abs(corr(flat[1:], flat[:-1])) < limit  # consecutive steps
  assert abs(corr(flat[:, 1:], flat[:, :-1])) < limit  # neighbouring blocks
  assert abs(corr(flat[..., 1:], flat[..., :-1])) < limit  # neighbouring chains


def _noise_grid_config(dynamics, **kwargs):
  # Inertia filters the force noise, so the second-order chains cross the
  # zero-curvature line at larger noise than the first-order one (measured:
  # eps ~ 0.0035 vs ~ 0.0022 after 12k steps).
  middle = 0.002 if dynamics == "first_order" else 0.0035
  noise = jnp.array([0.0, middle, 0.008])[:, None]
  defaults = dict(
      num_blocks=7,
      k=1.0,
      target=1.0,
      mu_right=0.02,
      mu_left=0.04,
      noise=noise,
      dt=DT,
      dynamics=dynamics,
      noise_dist="truncated_normal",
  )
  defaults.update(kwargs)
  return springs.ChainConfig(**defaults)


@pytest.mark.parametrize("dynamics", ["first_order", "second_order", "langevin"])
def test_noise_takes_curvature_from_concave_through_linear_to_convex(dynamics):
  cfg = _noise_grid_config(dynamics)
  keys = jax.random.split(jax.random.key(0), 8)
  result = springs.simulate(cfg, keys, 12_000)
  curv = np.asarray(metrics.curvature(result.load_curve)).mean(axis=-1)
  # Theory: mu_eff = 0.02, ~0 (eps* = 0.0020), -0.01: curvature -4mu/k*... sign
  # pattern -, ~0, +; the middle value is near the zero line relative to the ends.
  assert curv[0] < -0.05
  assert curv[2] > 0.03
  assert abs(curv[1]) < 0.5 * min(-curv[0], curv[2])
  assert curv[0] < curv[1] < curv[2]


@pytest.mark.parametrize("noise_dist", ["uniform", "truncated_normal"])
def test_long_run_mean_at_large_bounded_noise_matches_effective_theory(noise_dist):
  mu_r, eps = 0.02, 0.02
  cfg = springs.ChainConfig(
      num_blocks=7,
      k=1.0,
      target=1.0,
      mu_right=mu_r,
      mu_left=2 * mu_r,
      noise=eps,
      dt=DT,
      noise_dist=noise_dist,
  )
  keys = jax.random.split(jax.random.key(0), 32)
  result = springs.simulate(cfg, keys, 30_000, record_every=100)
  mean_curve = np.asarray(result.trajectory)[:, 100:].mean(axis=(0, 1))  # 2nd..end, seeds
  mu_eff = springs.effective_friction(mu_r, 2 * mu_r, eps, DT, noise_dist)
  # Floats, not JAX scalars: pytest>=9.2's approx reads `.flat` from arrays.
  assert float(mu_eff) == pytest.approx(-mu_r / 2)  # saturated: convex
  expected = springs.equilibrium_load_curve(7, 1.0, 1.0, mu_eff)
  # Stated tolerance: 0.5% of the pull y on every point, 5% on the curvature.
  np.testing.assert_allclose(mean_curve, expected, atol=5e-3)
  assert float(metrics.curvature(mean_curve)) == pytest.approx(
      float(metrics.curvature(expected)), rel=0.05
  )


@pytest.mark.parametrize(
    "dynamics,synchronous,generator",
    [
        ("first_order", False, "counter_hash"),
        ("second_order", True, "threefry"),
        ("langevin", False, "counter_hash"),
    ],
)
def test_grid_equals_chains_simulated_one_by_one(dynamics, synchronous, generator):
  mu = jnp.array([0.0, 0.01, 0.03])[:, None, None]
  eps = jnp.array([0.0, 0.004])[None, :, None]
  keys = jax.random.split(jax.random.key(7), 2)
  cfg = springs.ChainConfig(
      mu_right=mu,
      mu_left=2 * mu,
      noise=eps,
      dynamics=dynamics,
      synchronous=synchronous,
      generator=generator,
      noise_decay=0.01,
  )
  grid = springs.simulate(cfg, keys, 500, record_every=100)
  assert grid.load_curve.shape == (3, 2, 2, 8)
  assert grid.trajectory.shape == (3, 2, 2, 6, 8)
  for i in range(3):
    for j in range(2):
      for s in range(2):
        single_cfg = cfg.replace(mu_right=mu[i, 0, 0], mu_left=2 * mu[i, 0, 0], noise=eps[0, j, 0])
        single = springs.simulate(single_cfg, keys[s], 500, record_every=100)
        np.testing.assert_array_equal(single.load_curve, grid.load_curve[i, j, s])
        np.testing.assert_array_equal(single.trajectory, grid.trajectory[i, j, s])


def test_single_key_is_split_over_the_grid_and_runs_are_deterministic():
  eps = jnp.array([0.002, 0.004, 0.006, 0.008])
  cfg = springs.ChainConfig(mu_right=0.01, mu_left=0.02, noise=eps)
  key = jax.random.key(11)
  first = springs.simulate(cfg, key, 300)
  again = springs.simulate(cfg, key, 300)
  np.testing.assert_array_equal(first.load_curve, again.load_curve)
  split = springs.simulate(cfg, jax.random.split(key, 4), 300)
  np.testing.assert_array_equal(first.load_curve, split.load_curve)
  other = springs.simulate(cfg, jax.random.key(12), 300)
  assert not np.array_equal(first.load_curve, other.load_curve)


def test_generators_agree_statistically():
  eps = jnp.array([0.0015, 0.004])[:, None]
  cfg = springs.ChainConfig(mu_right=0.02, mu_left=0.04, noise=eps)
  keys = jax.random.split(jax.random.key(5), 64)
  curv = {
      g: np.asarray(
          metrics.curvature(springs.simulate(cfg.replace(generator=g), keys, 6000).load_curve)
      )
      for g in springs.GENERATORS
  }
  a, b = curv["counter_hash"], curv["threefry"]
  se = np.sqrt(a.var(-1) / a.shape[-1] + b.var(-1) / b.shape[-1])
  assert np.all(np.abs(a.mean(-1) - b.mean(-1)) < 4 * se + 1e-4)


def test_trajectory_snapshots_and_remainder_steps():
  cfg = springs.ChainConfig(mu_right=0.01, mu_left=0.02, noise=0.002)
  result = springs.simulate(cfg, jax.random.key(0), 1050, record_every=100)
  assert result.trajectory.shape == (11, 8)
  np.testing.assert_array_equal(result.steps, np.arange(11) * 100)
  np.testing.assert_allclose(result.times, np.arange(11) * 100 * cfg.dt, rtol=1e-6)
  np.testing.assert_array_equal(result.trajectory[0], 1.0)  # flat: all blocks at rest at 0
  plain = springs.simulate(cfg, jax.random.key(0), 1050)
  np.testing.assert_array_equal(plain.load_curve, result.load_curve)  # 50 remainder steps ran
  at_1000 = springs.simulate(cfg, jax.random.key(0), 1000)
  np.testing.assert_array_equal(at_1000.load_curve, result.trajectory[-1])


def test_stopping_rule_freezes_each_chain_at_its_own_step():
  target = jnp.array([0.5, 1.0, 2.0])
  cfg = springs.ChainConfig(
      mu_right=0.01, mu_left=0.02, target=target, stop_rtol=1e-4, stop_window=50
  )
  short = springs.simulate(cfg, jax.random.key(0), 20_000)
  long = springs.simulate(cfg, jax.random.key(0), 40_000)
  stop = np.asarray(short.stop_step)
  assert np.all(stop < 20_000) and np.all(stop % 50 == 0)
  np.testing.assert_array_equal(short.positions, long.positions)  # frozen
  np.testing.assert_array_equal(short.stop_step, long.stop_step)
  off = springs.simulate(cfg.replace(stop_rtol=0.0), jax.random.key(0), 2000)
  np.testing.assert_array_equal(off.stop_step, 2000)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("mu_right", -0.1, "mu_right"),
        ("mu_left", jnp.array([0.1, -0.2]), "mu_left"),
        ("k", 0.0, "k .* must be > 0"),
        ("dt", -1.0, "dt .* must be > 0"),
        ("num_blocks", 0, "num_blocks must be an integer >= 1"),
        ("num_blocks", 2.5, "num_blocks"),
        ("dynamics", "third_order", "dynamics must be one of"),
        ("noise_dist", "cauchy", "noise_dist must be one of"),
        ("noise", np.nan, "noise"),
        ("noise_cut", 0.0, "noise_cut"),
        ("generator", "mt19937", "generator"),
    ],
)
def test_bad_config_is_rejected_naming_the_field(field, value, message):
  with pytest.raises(ValueError, match=message):
    springs.ChainConfig(**{field: value})


@pytest.mark.parametrize("dynamics", ["second_order", "langevin"])
def test_second_order_without_damping_is_rejected(dynamics):
  with pytest.raises(ValueError, match="gamma .* must be > 0"):
    springs.ChainConfig(dynamics=dynamics, gamma=0.0)
  springs.ChainConfig(dynamics="first_order", gamma=0.0)  # unused there


def test_bad_simulate_arguments_fail_before_compiling():
  cfg = springs.ChainConfig()
  before = _simulate._advance_jit._cache_size()
  with pytest.raises(ValueError, match="num_steps"):
    springs.simulate(cfg, jax.random.key(0), -5)
  with pytest.raises(ValueError, match="record_every"):
    springs.simulate(cfg, jax.random.key(0), 10, record_every=0)
  with pytest.raises(ValueError, match="key"):
    springs.simulate(cfg, jnp.zeros(3), 10)
  with pytest.raises(ValueError, match="does not broadcast"):
    springs.simulate(cfg.replace(noise=jnp.zeros(3)), jax.random.split(jax.random.key(0), 4), 10)
  assert _simulate._advance_jit._cache_size() == before


def test_equilibrium_load_curve_broadcasts_and_is_linear_without_friction():
  mu = np.array([-0.01, 0.0, 0.01])
  curves = springs.equilibrium_load_curve(7, 1.0, 1.0, mu)
  assert curves.shape == (3, 8)
  np.testing.assert_allclose(curves[1], np.linspace(1.0, 0.125, 8))
  curv = metrics.curvature(curves)
  assert curv[0] > 0 and abs(curv[1]) < 1e-12 and curv[2] < 0


@pytest.mark.parametrize("dynamics,stop_rtol", [("first_order", 1e-6), ("second_order", 0.0)])
def test_a_run_split_into_calls_equals_one_call_bit_for_bit(dynamics, stop_rtol):
  # What lets a sweep checkpoint a chunk of chains and resume it exactly.
  mu = np.array([0.0, 0.02])[:, None]
  cfg = springs.ChainConfig(
      num_blocks=5,
      mu_right=mu,
      mu_left=2 * mu,
      noise=[0.0, 0.004],
      dynamics=dynamics,
      stop_rtol=stop_rtol,
      stop_window=50,
  )
  keys = jax.random.split(jax.random.key(3), 2)
  whole = springs.simulate(cfg, keys, 900, record_every=100)
  state = springs.init_state(cfg, keys, 900)
  segments = []
  for length in (300, 200, 400):
    state, snapshots = springs.advance(cfg, keys, state, length, record_every=100)
    segments.append(snapshots)
  split = springs.result(cfg, state, (2, 2))
  for field in ("load_curve", "positions", "velocities", "stop_step", "diverged"):
    np.testing.assert_array_equal(getattr(split, field), getattr(whole, field), err_msg=field)
  np.testing.assert_array_equal(np.concatenate(segments, axis=-2), whole.trajectory[..., 1:, :])

"""Nothing goes wrong silently in the spring engine: bad input is refused
before compiling, naming what is wrong; runs that still overflow say so.

Covers unstable time steps (with a numerical check of each dynamics' bound),
float32 overflow, strings and other non-numbers as fields, fields that do not
broadcast, bad keys and run lengths, the per-chain ``diverged`` flag (in
results, the sweep engine and the figures) and ``critical_noise`` where no
zero crossing exists.
"""

import contextlib
import warnings

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

from featurespring import analysis
from featurespring import plotting
from featurespring import springs
from featurespring import sweep
from featurespring.springs import _dynamics
from featurespring.springs import _simulate
from featurespring.analysis import figures
from featurespring.sweep import results

matplotlib.use("agg")

_COMPILES = []


def _count_compiles(name, *args, **kwargs):
  if name == "/jax/core/compile/backend_compile_duration":
    _COMPILES.append(name)


@contextlib.contextmanager
def no_compile():
  """Fails the test if XLA compiles anything inside the block."""
  jax.monitoring.register_event_duration_secs_listener(_count_compiles)
  before = (len(_COMPILES), _simulate._advance_jit._cache_size())
  try:
    yield
  finally:
    jax.monitoring.unregister_event_duration_listener(_count_compiles)
  assert (len(_COMPILES), _simulate._advance_jit._cache_size()) == before, "compiled"


# --- 1. Unstable time steps and float32 overflow -----------------------------


def test_unstable_first_order_step_is_rejected_naming_k_dt_and_the_bound():
  # Today's example: all-NaN load curves, without a word.
  with pytest.raises(
      ValueError,
      match=r"ChainConfig k and dt make the first_order step "
      r"unstable at 1 of 1 grid points, e.g. \(k=12, dt=0.05\): it needs "
      r"k\*dt < 2 / lambda_max = 0.5198 for num_blocks=7 .* got k\*dt = 0.6",
  ):
    springs.ChainConfig(k=12.0, dt=0.05)


def test_stability_is_checked_on_every_broadcast_grid_point_at_once():
  k = np.array([1.0, 12.0, 20.0])
  dt = np.array([[0.05], [0.01]])
  with pytest.raises(
      ValueError, match=r"at 2 of 6 grid points, e.g. \(k=12, dt=0.05\), " r"\(k=20, dt=0.05\)"
  ):
    springs.ChainConfig(k=k, dt=dt)
  springs.ChainConfig(k=k, dt=dt / 10)  # all stable


@pytest.mark.parametrize("dynamics", ["second_order", "langevin"])
def test_unstable_inertial_step_is_rejected_with_its_own_bound(dynamics):
  limit = _dynamics.stability_limit(7)
  with pytest.raises(
      ValueError,
      match=rf"{dynamics} step unstable .* it needs "
      r"k\*dt\^2 < 2 / lambda_max = 0.5198 .* got k\*dt\^2 = 0.5625",
  ):
    springs.ChainConfig(k=1.0, dt=0.75, dynamics=dynamics)
  springs.ChainConfig(k=1.0, dt=0.99 * np.sqrt(limit), dynamics=dynamics)
  # k dt = 0.7 would break the first-order bound, not this one.
  springs.ChainConfig(k=1.0, dt=0.7, dynamics=dynamics)


def test_bound_depends_on_the_chain_length_and_stays_below_the_simple_one():
  # lambda_max = 4 sin^2(pi L / (2 (L + 1))): 2 for one block, -> 4 for long chains.
  assert _dynamics.max_stiffness_eigenvalue(1) == pytest.approx(2.0)
  eigenvalues = np.linalg.eigvalsh(2 * np.eye(7) - np.eye(7, k=1) - np.eye(7, k=-1))
  assert _dynamics.max_stiffness_eigenvalue(7) == pytest.approx(eigenvalues.max())
  assert all(_dynamics.stability_limit(n) > 0.5 for n in (1, 7, 100, 10_000))
  springs.ChainConfig(num_blocks=1, k=0.9, dt=1.0)  # k dt < 1 suffices for one block
  with pytest.raises(ValueError, match="k\\*dt < 2 / lambda_max = 1 for num_blocks=1"):
    springs.ChainConfig(num_blocks=1, k=1.0, dt=1.0)


def _max_abs_position(dynamics, num_blocks, dt, gamma, mu=0.0, num_steps=3000):
  """Runs the step function itself (no validation), noiseless, from rest."""
  n = len(dt)
  row = lambda v: jnp.broadcast_to(jnp.asarray(v, jnp.float32), (n,))
  params = _dynamics.ChainParams(
      k=row(1.0),
      target=row(1.0),
      mu_right=row(mu),
      mu_left=row(2 * mu),
      noise=row(0.0),
      dt=row(dt),
      gamma=row(gamma),
      noise_decay=row(0.0),
      noise_cut=row(2.0),
      stop_rtol=row(0.0),
  )
  step = _dynamics.STEP_FUNCTIONS[dynamics]
  zeros = jnp.zeros((num_blocks, n), jnp.float32)
  x, _ = jax.lax.fori_loop(
      0, num_steps, lambda _, xv: step(*xv, zeros, params, row(0.0)), (zeros, zeros)
  )
  x = np.asarray(x)
  return np.where(np.isfinite(x).all(axis=0), np.abs(x).max(axis=0), np.inf)


@pytest.mark.parametrize(
    "dynamics,num_blocks,gamma",
    [
        ("first_order", 1, 1.0),
        ("first_order", 7, 1.0),
        ("second_order", 1, 1.0),
        ("second_order", 1, 5.0),
        ("langevin", 1, 1.0),
    ],
)
def test_bound_is_where_the_scheme_blows_up(dynamics, num_blocks, gamma):
  # 2% below the bound the chain settles; 2% above, its fastest mode grows
  # without limit. Tight for the first-order chain at any length, and for a
  # single inertial block (a block restarting from rest takes an explicit
  # Euler step of size dt^2).
  ratio = np.array([0.98, 1.02])
  number = ratio * _dynamics.stability_limit(num_blocks)
  dt = number if dynamics == "first_order" else np.sqrt(number)
  size = _max_abs_position(dynamics, num_blocks, dt, gamma)
  assert size[0] < 1.0 and size[1] > 1e3


@pytest.mark.parametrize("dynamics", ["second_order", "langevin"])
@pytest.mark.parametrize("num_blocks", [2, 7, 20])
def test_inertial_bound_suffices_for_longer_chains(dynamics, num_blocks):
  # Longer chains tolerate more (up to k dt^2 ~ 1 measured), so the bound is
  # safe there too, for damping from 0.5 up and with or without friction.
  dt = np.full(3, np.sqrt(0.98 * _dynamics.stability_limit(num_blocks)))
  for mu in (0.0, 0.01):
    size = _max_abs_position(dynamics, num_blocks, dt, np.array([0.5, 1.0, 5.0]), mu=mu)
    assert np.all(size < 2.0)


def test_just_below_the_bound_simulates_finite():
  dt = 0.98 * _dynamics.stability_limit(7)
  result = springs.simulate(springs.ChainConfig(k=1.0, dt=dt), jax.random.key(0), 2000)
  assert not bool(result.diverged)
  np.testing.assert_allclose(result.load_curve, np.linspace(1.0, 0.125, 8), rtol=1e-4)


@pytest.mark.parametrize(
    "fields,message",
    [
        (
            dict(noise=1e39),
            r"ChainConfig.noise \(noise level eps\) overflows float32, the "
            r"simulation's precision \(largest 3.403e\+38\): got 1e\+39",
        ),
        (dict(noise=np.array([0.1, 1e39])), r"ChainConfig.noise .* overflows float32.* got 1e\+39"),
        (dict(target=-1e39), r"ChainConfig.target .* overflows float32"),
        (dict(dt=1e-50), r"ChainConfig.dt \(time step\) underflows float32.* got 1e-50"),
        (dict(dt=1e-40), r"ChainConfig.dt \(time step\) underflows float32"),  # subnormal
        (dict(k=1e-45), r"ChainConfig.k \(spring modulus\) underflows float32"),
        (
            dict(noise=1e25, dt=1e-30),
            r"ChainConfig noise / sqrt\(dt\) \(force noise scale eps_bar\) overflows float32 .* "
            r"got noise=1e\+25, dt=1e-30",
        ),
    ],
)
def test_values_that_overflow_float32_are_rejected_naming_the_field(fields, message):
  with pytest.raises(ValueError, match=message):
    springs.ChainConfig(**fields)


def test_harmless_tiny_values_and_langevin_noise_scale():
  springs.ChainConfig(noise=1e-45, mu_right=1e-45)  # act as 0, where 0 is allowed
  # Langevin noise enters as eps sqrt(dt): dt = 1e-30 makes it tiny, not huge.
  springs.ChainConfig(noise=1e25, dt=1e-30, dynamics="langevin")


# --- 2. Chains that still go non-finite are flagged ---------------------------


@pytest.mark.parametrize("dynamics", ["first_order", "second_order"])
def test_diverged_flags_only_the_chain_that_overflowed(dynamics):
  # A pull of 3e38 is finite in float32, but x_{L-1} + y overflows.
  keys = jax.random.split(jax.random.key(3), 3)
  cfg = springs.ChainConfig(
      target=jnp.array([1.0, 3e38, 2.0]),
      noise=0.002,
      mu_right=0.01,
      mu_left=0.02,
      dynamics=dynamics,
  )
  result = springs.simulate(cfg, keys, 1000, record_every=500)
  assert result.diverged.dtype == bool and result.diverged.shape == (3,)
  np.testing.assert_array_equal(result.diverged, [False, True, False])
  assert not np.isfinite(result.positions[1]).any()
  # The other chains are bit for bit what they are without the bad one.
  alone = springs.simulate(
      cfg.replace(target=jnp.array([1.0, 2.0])), keys[::2], 1000, record_every=500
  )
  np.testing.assert_array_equal(alone.diverged, [False, False])
  np.testing.assert_array_equal(result.load_curve[::2], alone.load_curve)
  np.testing.assert_array_equal(result.trajectory[::2], alone.trajectory)


def _springs_sweep_config(**grid):
  config = sweep.base_config("springs")
  config.seeds = 2
  config.grid.mu = (0.0, 0.02)
  config.grid.noise = (0.0, 0.004)
  for name, values in grid.items():
    config.grid[name] = values
  config.springs.num_steps = 200
  config.springs.record_every = 100
  config.springs.unroll = 1
  config.chunk_size = 16
  return config


def test_sweep_outputs_diverged_and_draws_its_figures(tmp_path):
  config = _springs_sweep_config(target=(1.0, 3e38))
  sweep.run(config, str(tmp_path))
  arrays, sidecar = sweep.load_result(str(tmp_path))
  names = sidecar["grid_names"]
  assert arrays["diverged"].dtype == bool
  diverged = np.moveaxis(arrays["diverged"], names.index("target"), 0)
  assert not diverged[0].any() and diverged[1].all()
  # Figures of the diverged cells: drawn, and the titles say what is missing.
  fig, axes = plotting.new_figure()
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    sweep_view = analysis.FinishedSweep.load(str(tmp_path), x="noise", y="target")
    figures.phase_diagram(axes[0, 0], sweep_view, metric="curvature")
    assert "4 of 8 chains non-finite" in axes[0, 0].get_title()
    assert "2 of 4 cells non-finite" in axes[0, 0].get_title()
    assert len(figures.make_figures(str(tmp_path), x="noise", y="target")) == 8  # 4 x PNG + PDF


# --- Plots draw what is finite and say what is not ---------------------------


def _fake_springs_result(workdir, curvature, diverged):
  """A merged [mu, noise, seed] springs result with the given values."""
  config = sweep.base_config("springs")
  shape = curvature.shape
  layers, steps = 4, 3
  load_curve = np.linspace(1.0, 0.25, layers) + curvature[..., None] * 0.0
  arrays = {
      "curvature": curvature,
      "diverged": diverged,
      "load_curve": load_curve,
      "history/load_curve": np.broadcast_to(load_curve[..., None, :], shape + (steps, layers)),
      "history/time": np.broadcast_to(np.arange(steps), shape + (steps,)),
      "axis/mu": np.linspace(0.0, 0.02, shape[0]),
      "axis/noise": np.linspace(0.0, 0.01, shape[1]),
      "axis/seed": np.arange(shape[2]),
  }
  config.plot.x, config.plot.y = "noise", "mu"
  results.save(
      f"{workdir}/results",
      arrays,
      {"config": results.config_to_dict(config), "grid_names": ["mu", "noise", "seed"]},
  )


def test_figures_survive_a_row_of_non_finite_cells(tmp_path):
  # The most nonlinear row is all NaN: today corner_cells raises
  # "All-NaN slice encountered".
  curvature = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2) - 5
  diverged = np.zeros(curvature.shape, bool)
  curvature[1] = np.nan
  diverged[1] = True
  curvature[0, 1, 0], diverged[0, 1, 0] = 1e6, True  # a frozen-garbage value, flagged
  _fake_springs_result(str(tmp_path), curvature, diverged)
  view = analysis.FinishedSweep.load(str(tmp_path))
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    # Row 0, the last with a finite cell; its cell nearest zero curvature.
    assert view.corner_cells() == [(0, 0), (0, 2), (0, 2)]
    fig, axes = plotting.new_figure()
    mesh = figures.phase_diagram(axes[0, 0], view)
    written = figures.make_figures(str(tmp_path))
  title = axes[0, 0].get_title()
  assert "7 of 12 chains non-finite, left out" in title
  assert "3 of 6 cells non-finite, grey and hatched" in title
  # The diverged seed is left out of its cell's mean, not averaged in.
  assert np.asarray(mesh.get_array()).reshape(2, 3)[0, 1] == curvature[0, 1, 1]
  assert len(written) == 8  # phase diagram, atlas, load curves, dynamics: PNG + PDF


def test_phase_diagram_greys_and_hatches_non_finite_cells():
  curvature = np.array([[0.1, np.nan, -0.2], [np.inf, 0.3, 0.0]])
  fig, axes = plotting.new_figure()
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    mesh = plotting.plot_phase_diagram(
        axes[0, 0], [0, 1, 2], [0, 1], curvature, title="t", annotate=True
    )
  hatched = [p for p in axes[0, 0].patches if p.get_hatch() == "xx"]
  assert sorted(p.get_xy() for p in hatched) == [(-0.5, 0.5), (0.5, -0.5)]
  assert mesh.get_cmap().get_bad()[:3] == pytest.approx((0.8, 0.8, 0.8))
  assert axes[0, 0].get_title() == "t  (2 of 6 cells non-finite, grey and hatched)"
  # Nothing finite at all: still a figure, not an error.
  fig, axes = plotting.new_figure()
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    plotting.plot_phase_diagram(axes[0, 0], [0, 1], [0], np.full((1, 2), np.nan))
  assert axes[0, 0].get_title() == "2 of 2 cells non-finite, grey and hatched"


def test_load_curve_plots_leave_out_non_finite_seeds_and_say_so():
  curves = np.stack([np.linspace(1.0, 0.25, 4)] * 3)[:, None].repeat(3, axis=1)  # [3, 3, 4]
  curves[0, 1, 1:] = np.nan  # a diverged chain keeps its finite d_0 = y
  curves[2] = np.nan  # a curve with no finite seed
  fig, axes = plotting.new_figure(1, 3)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    lines = plotting.plot_load_curves(axes[0, 0], curves, ["a", "b", "c"])
    plotting.plot_load_curves(axes[0, 1], curves)
    trajectory = np.stack([curves[0]] * 2, axis=1)  # [seeds, T, layers]
    plotting.plot_load_curve_dynamics(axes[0, 2], trajectory, np.arange(2))
    plotting.plot_curvature_over_time(axes[0, 2], trajectory, np.arange(2), label="x")
  np.testing.assert_array_equal(lines[0].get_ydata(), np.linspace(1.0, 0.25, 4))
  assert [line.get_label() for line in lines] == [
      "a (1 of 3 seeds non-finite)",
      "b",
      "c (3 of 3 seeds non-finite)",
  ]
  assert axes[0, 1].get_title() == "4 of 9 curves non-finite"
  assert "x (1 of 3 seeds non-finite)" in [line.get_label() for line in axes[0, 2].lines]


# --- 3. Strings and other non-numbers as numeric fields -----------------------


@pytest.mark.parametrize(
    "field,value,shown",
    [
        ("k", "-1", "str '-1'"),
        ("noise", "-0.1", "str '-0.1'"),
        ("dt", "0", "str '0'"),
        ("noise", "abc", "str 'abc'"),
        ("k", True, "bool True"),
        ("noise", 1 + 2j, r"complex \(1\+2j\)"),
        ("mu_right", np.array([True, False]), "dtype bool"),
        ("target", np.array(["1.0"]), "dtype <U3"),
        ("noise", np.array([0.1, None], dtype=object), "dtype object"),
        ("gamma", [1.0, "2"], "dtype <U32"),
        ("stop_rtol", [[1.0], [1.0, 2.0]], r"\[\[1.0\], \[1.0, 2.0\]\]"),
    ],
)
def test_non_numbers_are_rejected_naming_field_and_value(field, value, shown):
  with pytest.raises(
      ValueError,
      match=rf"ChainConfig.{field} \(.*\) must be a real number "
      rf"or an array of them, got .*{shown}",
  ):
    springs.ChainConfig(**{field: value})


def test_real_numbers_of_any_kind_are_accepted():
  cfg = springs.ChainConfig(
      k=2,
      noise=np.float32(0.001),
      mu_right=[0.0, 0.01],
      mu_left=np.array([0.0, 0.02]),
      target=jnp.array(1.5),
      num_blocks=3,
      stop_window=np.int64(10),
  )
  assert cfg.batch_shape == (2,)
  # Tracers and placeholders that pytree machinery puts in fields are let through.
  assert float(jax.jit(lambda c: c.k * c.dt)(cfg)) == pytest.approx(0.1)
  jax.tree_util.tree_map(lambda _: None, cfg)
  jax.tree_util.tree_map(lambda _: jax.sharding.PartitionSpec("x"), cfg)


# --- 4. Broadcasting, keys and run lengths ------------------------------------


def test_fields_that_do_not_broadcast_are_rejected_at_construction():
  with pytest.raises(
      ValueError,
      match=r"ChainConfig.noise has shape \(3,\), which does not "
      r"broadcast with the other array fields \(mu_right \(4,\)\)",
  ):
    springs.ChainConfig(mu_right=np.zeros(4), noise=np.zeros(3))
  with pytest.raises(
      ValueError, match=r"ChainConfig.dt has shape \(2, 3\), .*" r"\(k \(3, 1\), mu_left \(1, 3\)\)"
  ):
    springs.ChainConfig(k=np.ones((3, 1)), mu_left=np.zeros((1, 3)), dt=np.full((2, 3), 0.05))
  assert springs.ChainConfig(noise=np.zeros((3, 1)), mu_right=np.zeros(4)).batch_shape == (3, 4)


_KEY_TYPE = r"^key must be a jax.random.key\(seed\), an array of such keys, or legacy uint32"


def test_bad_keys_fail_before_compiling_naming_key():
  cfg = springs.ChainConfig(noise=jnp.zeros(3))
  split4 = jax.random.split(jax.random.key(0), 4)
  cases = [
      (5, _KEY_TYPE + r".* got int 5; for a seed, pass jax.random.key\(5\)"),
      ([1, 2], _KEY_TYPE + r".* got list \[1, 2\]"),
      ("abc", _KEY_TYPE + r".* got str 'abc'"),
      (None, _KEY_TYPE + r".* got NoneType None"),
      (jnp.zeros(2), _KEY_TYPE + r".* got dtype float32 and shape \(2,\)"),
      (np.zeros(3, np.uint32), _KEY_TYPE + r".* got dtype uint32 and shape \(3,\)"),
      (
          split4,
          r"^key has batch shape \(4,\), which does not broadcast with the config's "
          r"batch shape \(3,\)",
      ),
  ]
  with no_compile():
    for key, message in cases:
      with pytest.raises(ValueError, match=message):
        springs.simulate(cfg, key, 10)


_NUM_STEPS = (
    r"^num_steps must be an integer in \[0, 2\*\*31 - 1 = 2147483647\] \(the scan's "
    r"step counter is int32\), got "
)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(num_steps=2**31), _NUM_STEPS + "2147483648$"),
        (dict(num_steps=np.int64(2**40)), _NUM_STEPS + r"np.int64\(1099511627776\)$"),
        (dict(num_steps=-1), _NUM_STEPS + "-1$"),
        (dict(num_steps=10.0), _NUM_STEPS + "10.0$"),
        (dict(num_steps="10"), _NUM_STEPS + "'10'$"),
        (dict(num_steps=True), _NUM_STEPS + "True$"),
        (
            dict(num_steps=10, record_every=2**31),
            r"^record_every must be None or an integer in " r"\[1, 2\*\*31 - 1",
        ),
        (dict(num_steps=10, unroll=0), r"^unroll must be an integer in \[1, "),
    ],
)
def test_bad_run_lengths_fail_before_compiling(kwargs, message):
  cfg, key = springs.ChainConfig(), jax.random.key(0)
  with no_compile(), pytest.raises(ValueError, match=message):
    springs.simulate(cfg, key, **kwargs)


def test_sweep_refuses_a_run_length_beyond_int32():
  config = _springs_sweep_config()
  config.springs.num_steps = 2**31
  with pytest.raises(ValueError, match="num_steps must be an integer in"):
    sweep.plan(config)


def test_sweep_refuses_an_unstable_grid_point():
  config = _springs_sweep_config(dt=(0.05, 0.6))
  with pytest.raises(ValueError, match=r"first_order step unstable at 8 of 16 grid points"):
    sweep.plan(config)


# --- 5. critical_noise where no zero crossing exists --------------------------


def test_critical_noise_is_nan_where_no_zero_crossing_exists():
  mu_r = np.array([0.0, 0.01, 0.02, 0.03])
  eps = springs.critical_noise(mu_r, 0.05, mu_left=0.02)
  assert np.isnan(eps[2:]).all()  # mu_l <= mu_r: mu_eff never drops below 0
  assert eps[0] == 0.0  # no rightward friction: linear without noise already
  # Where it exists, it is the zero of the effective friction.
  np.testing.assert_allclose(
      springs.effective_friction(mu_r[1], 0.02, eps[1], 0.05), 0.0, atol=1e-15
  )
  assert np.isnan(springs.critical_noise(0.02, 0.05, mu_left=0.02))
  assert np.isnan(springs.critical_noise(0.02, 0.05, "gaussian", mu_left=0.01))
  assert springs.critical_noise(0.02, 0.05, "gaussian", mu_left=0.04) == 0.0


def test_critical_noise_without_mu_left_warns_that_it_assumes_a_crossing():
  with pytest.warns(UserWarning, match="assumes mu_left > mu_right; pass mu_left="):
    eps = springs.critical_noise(0.03, 0.05)
  assert eps == springs.critical_noise(0.03, 0.05, mu_left=0.06)

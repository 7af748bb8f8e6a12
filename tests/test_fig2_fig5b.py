"""Paper Fig. 2 and Fig. 5(b): their configs run and plot, and their chains do what SPEC §3 says.

Fig. 2: independent noise per block beside synchronous noise; the final
load curves agree, the fluctuations differ. Fig. 5(b): leftward friction
only (mu_r = 0 < mu_l): linear without noise whatever mu_l is, convex with
noise. The physics tests run the full configs with fewer seeds and steps,
once per module; the report's analyses (``analysis.independent_vs_synchronous``,
``left_friction.left_friction_only``) are checked on those runs and on hand-made
sweeps.
"""

import os

import ml_collections
import numpy as np
import pytest

from featurespring import springs
from featurespring import analysis
from featurespring import sweep
from featurespring.analysis import finished
from featurespring.analysis import figures
from featurespring.sweep import results
from featurespring.sweep import springs_engine

from experiments.reproduction import left_friction

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIG2 = os.path.join(REPO, "experiments", "fig2_independent_vs_synchronous.py")
FIG5B = os.path.join(REPO, "experiments", "fig5b_left_friction_only.py")


def _run(config, workdir) -> finished.FinishedSweep:
  sweep.run(config, str(workdir))
  return finished.FinishedSweep.load(str(workdir))


@pytest.fixture(scope="module")
def fig5b_view(tmp_path_factory) -> finished.FinishedSweep:
  """The Fig. 5(b) config at 3 seeds, the first and last noise, 4000 steps."""
  config = sweep.load_config(FIG5B)
  config.seeds = 3
  config.grid.noise = (0.0, config.grid.noise[-1])
  # 4000 steps: t = 200, 30 decay times of the slowest mode (1 / (4k sin^2(pi/16)) ~ 6.6).
  config.springs.num_steps = 4000
  return _run(config, tmp_path_factory.mktemp("fig5b"))


@pytest.fixture(scope="module")
def fig2_view(tmp_path_factory) -> finished.FinishedSweep:
  """The Fig. 2 config at 6 seeds, 10_000 steps recorded every 50."""
  config = sweep.load_config(FIG2)
  config.seeds = 6
  # Settled by t ~ 300 (of 500): the second half is the fluctuating final state.
  config.springs.num_steps, config.springs.record_every = 10_000, 50
  return _run(config, tmp_path_factory.mktemp("fig2"))


def _hand_made(names, x, y, arrays, **springs_settings) -> finished.FinishedSweep:
  """A FinishedSweep of made-up chain results over ``names`` (axis values in ``arrays``)."""
  config = sweep.base_config("springs")
  config.springs.update(springs_settings)
  return finished.FinishedSweep(arrays, results.config_to_dict(config), list(names), x, y)


@pytest.mark.parametrize(
    "path, stems",
    [
        (FIG2, {"phase_diagram", "load_curve_atlas", "side_by_side"}),
        (FIG5B, {"phase_diagram", "load_curve_atlas", "load_curves", "curvature_by_row"}),
    ],
    ids=["fig2", "fig5b"],
)
def test_runlocal_runs_and_draws_its_figures(tmp_path, path, stems):
  sweep.run(sweep.load_config(path + ":runlocal"), str(tmp_path))
  written = figures.make_figures(str(tmp_path))  # what launch.plot draws
  assert {os.path.splitext(os.path.basename(p))[0] for p in written} == stems
  for p in written:
    assert os.path.getsize(p) > 1000, p


# --- Fig. 5(b): leftward friction only ----------------------------------------


def test_fig5b_linear_without_noise_for_every_mu_left_and_convex_with_noise(fig5b_view):
  view = fig5b_view
  assert (view.x, view.y) == ("noise", "mu_left")
  curvature = view.cells("curvature")  # [mu_left, noise, seed]
  load_curve = view.cells("load_curve")
  assert len(view.y_values()) == 3 and not view.cells("diverged").any()
  # No noise: blocks only slide right and stop at zero force, a straight line
  # d_l = y (L + 1 - l) / (L + 1). 1e-4 is float32 round-off with room; the
  # convex curvatures below are >= 0.03.
  assert np.abs(curvature[:, 0]).max() < 1e-4, curvature[:, 0]
  layers = np.arange(load_curve.shape[-1])
  np.testing.assert_allclose(
      load_curve[:, 0], np.broadcast_to(1 - layers / 8, load_curve[:, 0].shape), atol=1e-4
  )
  # ... and mu_l never enters: no force falls below -mu_l, so the chains of
  # every mu_l take the same steps, bit for bit.
  for row in load_curve[1:, 0]:
    np.testing.assert_array_equal(row, load_curve[0, 0])
  # Largest noise: convex for every mu_l (theory 3 mu_l = 0.03 .. 0.12; seed
  # spread ~0.006 at this noise, so 0.01 leaves > 3 std for the smallest).
  assert (curvature[:, -1].mean(axis=-1) > 0.01).all(), curvature[:, -1]


def test_mu_left_sets_the_leftward_friction_whatever_mu_is():
  c = sweep.base_config("springs").springs
  assert c.mu_left is None
  points = {"mu": np.array([0.0, 0.01]), "mu_ratio": np.array([2.0, 3.0])}
  chain = springs_engine.SpringsEngine._chain_config(c, points)  # None: mu_ratio * mu
  np.testing.assert_allclose(chain.mu_left, [0.0, 0.03])
  c.mu_left = 0.04
  chain = springs_engine.SpringsEngine._chain_config(c, points)
  np.testing.assert_allclose(chain.mu_right, [0.0, 0.01])
  np.testing.assert_allclose(chain.mu_left, 0.04)
  chain = springs_engine.SpringsEngine._chain_config(c, {**points, "mu_left": np.array([0.1, 0.2])})
  np.testing.assert_allclose(chain.mu_left, [0.1, 0.2])


def test_mu_left_reaches_the_theory_of_a_sweep(tmp_path):
  config = sweep.base_config("springs")
  config.springs.mu_left, config.springs.num_steps = 0.02, 10
  config.grid.mu = (0.0,)
  config.grid.noise = (0.0, 0.004)
  view = _run(config, tmp_path)
  expected = springs.effective_friction(0.0, 0.02, np.array([0.0, 0.004]), 0.05)
  np.testing.assert_allclose(view.cells("theory/mu_eff")[0, :, 0], expected, rtol=1e-6)


@pytest.mark.parametrize(
    "where",
    ["springs", "grid", "zipped"],
)
def test_negative_mu_left_is_refused(where):
  config = sweep.base_config("springs")
  config.grid.noise = (0.0,)
  if where == "springs":
    config.springs.mu_left = -0.01
  elif where == "grid":
    config.grid.mu_left = (0.01, -0.01)
  else:
    config.grid.case = ml_collections.ConfigDict({"mu_left": (0.01, -0.01), "mu": (0.0, 0.0)})
  with pytest.raises(ValueError, match=r"config.springs.mu_left \(friction\) must be >= 0"):
    sweep.plan(config)


# --- Fig. 2: independent against synchronous noise ----------------------------


def test_increment_correlation_of_shared_and_independent_moves():
  rng = np.random.default_rng(0)
  shared = np.cumsum(rng.normal(size=(400, 1)), axis=0) * np.ones(8)
  alone = np.cumsum(rng.normal(size=(400, 8)), axis=0)
  np.testing.assert_allclose(analysis.increment_correlation(shared), 1.0)
  assert abs(analysis.increment_correlation(alone)) < 0.1
  still = alone.copy()
  still[:, 3] = 0.5  # a block that never moves: no correlation to speak of
  assert np.isnan(analysis.increment_correlation(still))


def test_fig2_final_load_curves_agree_and_fluctuations_differ(fig2_view):
  view = fig2_view
  assert view.x == "synchronous" and view.values("synchronous").tolist() == [False, True]
  independent, synchronous = view.cells("load_curve")[0]  # [seed, layers] each
  # Agree: the seed means within 0.01 = 1% of y. Measured at 10 seeds, full
  # length: 8e-4 apart, per-seed spread <= 0.004, so 6 seeds leave > 4 std.
  assert np.abs(independent.mean(0) - synchronous.mean(0)).max() < 0.01
  # Both at the theory's large-noise curvature 6 * (mu_l - mu_r) / 2 = 0.06.
  np.testing.assert_allclose(view.cells("curvature")[0].mean(-1), 0.06, atol=0.01)
  # Differ: shared kicks move the sliding blocks together. The increments'
  # correlation across blocks is a direct reading of that and far apart at
  # any size (full size: 0.07 against 0.98, every seed within 0.04 of its
  # mean), unlike the curvature's spread over time (about 1.4x apart).
  correlation = analysis.increment_correlation(view.cells("history/load_curve")[0])  # [2, seed]
  assert (correlation[0] < 0.4).all() and (correlation[1] > 0.9).all(), correlation


# --- The report's analyses ----------------------------------------------------

FIG2_KEYS = {
    "modes",
    "final_curve_max_abs_difference",
    "final_curve_max_seed_std",
    "theory_curvature",
    "num_steps",
    "noise",
}
FIG2_MODE_KEYS = {
    "synchronous",
    "num_seeds",
    "final_curvature",
    "final_curvature_std",
    "final_sign",
    "load_curve",
    "load_curve_std",
    "increment_correlation",
    "increment_correlation_std",
}
FIG5B_ROW_KEYS = {
    "mu_left",
    "curvature_mean",
    "curvature_std",
    "sign",
    "noiseless_curvature",
    "noiseless_std",
    "noiseless_mean_layer_drop",
    "max_noise_curvature",
    "max_noise_std",
    "max_noise_sign",
    "theory_limit_curvature",
}


def test_independent_vs_synchronous_of_the_fig2_run(fig2_view):
  view = fig2_view
  numbers = analysis.independent_vs_synchronous(view)
  assert set(numbers) == FIG2_KEYS
  independent, synchronous = numbers["modes"]
  assert set(independent) == set(synchronous) == FIG2_MODE_KEYS
  assert not independent["synchronous"] and synchronous["synchronous"]
  assert independent["num_seeds"] == synchronous["num_seeds"] == 6
  assert synchronous["increment_correlation"] > independent["increment_correlation"] + 0.5
  assert independent["final_sign"] == synchronous["final_sign"] == "+"
  # The closed form of the config's docstring, and the engine's own theory column.
  np.testing.assert_allclose(numbers["theory_curvature"], 0.06, rtol=1e-5)
  np.testing.assert_allclose(numbers["theory_curvature"], view.cells("theory/curvature")[0, 0, 0])
  assert numbers["num_steps"] == 10_000 and numbers["noise"] == view.config["springs"]["noise"]
  # Every number is the plain NumPy one on the same cells (no chain diverged).
  curves = view.cells("load_curve")[0].astype(np.float64)  # [mode, seed, L + 1]
  curvature = view.cells("curvature")[0].astype(np.float64)
  correlation = analysis.increment_correlation(view.cells("history/load_curve")[0])
  for m, mode in enumerate(numbers["modes"]):  # grid order is already False, True
    np.testing.assert_allclose(mode["load_curve"], curves[m].mean(0))
    np.testing.assert_allclose(mode["load_curve_std"], curves[m].std(0, ddof=1))
    np.testing.assert_allclose(mode["final_curvature"], curvature[m].mean())
    np.testing.assert_allclose(mode["final_curvature_std"], curvature[m].std(ddof=1))
    np.testing.assert_allclose(mode["increment_correlation"], correlation[m].mean())
    np.testing.assert_allclose(mode["increment_correlation_std"], correlation[m].std(ddof=1))
  np.testing.assert_allclose(
      numbers["final_curve_max_abs_difference"], np.abs(curves[1].mean(0) - curves[0].mean(0)).max()
  )
  np.testing.assert_allclose(numbers["final_curve_max_seed_std"], curves.std(1, ddof=1).max())


def test_independent_vs_synchronous_lists_independent_first_and_leaves_out_diverged():
  rng = np.random.default_rng(1)
  shared = np.cumsum(rng.normal(size=(3, 40, 1)), axis=1) * np.ones(8)  # [seed, T, L + 1]
  alone = np.cumsum(rng.normal(size=(3, 40, 8)), axis=1)
  # Grid order synchronous first, with mu as x: the function must reorder and reorient.
  trajectory = np.stack([shared, alone])[None]  # [mu, synchronous, seed, T, L + 1]
  curves = rng.normal(size=(1, 2, 3, 8))
  curvature = rng.normal(size=(1, 2, 3))
  diverged = np.zeros((1, 2, 3), bool)
  diverged[0, 1, 2] = True  # an independent chain: garbage, to be left out
  curvature[0, 1, 2], curves[0, 1, 2] = 1e6, 1e6
  view = _hand_made(
      ("mu", "synchronous", "seed"),
      "mu",
      "synchronous",
      {
          "load_curve": curves,
          "curvature": curvature,
          "diverged": diverged,
          "history/load_curve": trajectory,
          "axis/mu": np.array([0.02]),
          "axis/synchronous": np.array([True, False]),
          "axis/seed": np.arange(3),
      },
      mu=0.02,
      mu_ratio=2.0,
      noise=0.004,
      num_steps=40,
  )
  numbers = analysis.independent_vs_synchronous(view)
  independent, synchronous = numbers["modes"]
  assert not independent["synchronous"] and synchronous["synchronous"]
  assert (independent["num_seeds"], synchronous["num_seeds"]) == (2, 3)
  np.testing.assert_allclose(independent["final_curvature"], curvature[0, 1, :2].mean())
  np.testing.assert_allclose(independent["load_curve"], curves[0, 1, :2].mean(0))
  np.testing.assert_allclose(synchronous["increment_correlation"], 1.0)
  assert abs(independent["increment_correlation"]) < 0.3
  np.testing.assert_allclose(
      numbers["final_curve_max_abs_difference"],
      np.abs(curves[0, 0].mean(0) - curves[0, 1, :2].mean(0)).max(),
  )
  # mu_eff = max(0.02 - b eps / sqrt(dt), -0.01): saturated, curvature -6 mu_eff.
  np.testing.assert_allclose(numbers["theory_curvature"], 0.06, rtol=1e-5)
  view.arrays.pop("history/load_curve")
  with pytest.raises(ValueError, match="no trajectory"):
    analysis.independent_vs_synchronous(view)


def test_left_friction_only_of_the_fig5b_run(fig5b_view):
  view = fig5b_view
  numbers = left_friction.left_friction_only(view)
  assert set(numbers) == {"noise", "rows"}
  np.testing.assert_allclose(numbers["noise"], view.values("noise"))
  rows = numbers["rows"]
  assert all(set(r) == FIG5B_ROW_KEYS for r in rows)
  mu_left = [r["mu_left"] for r in rows]
  assert mu_left == sorted(mu_left) and len(mu_left) == 3
  curvature = view.cells("curvature").astype(np.float64)  # [mu_left, noise, seed], ascending
  load_curve = view.cells("load_curve").astype(np.float64)
  for i, r in enumerate(rows):
    # Linear without noise: curvature tiny against the drop per layer (1/8).
    assert abs(r["noiseless_curvature"]) < 1e-3 * r["noiseless_mean_layer_drop"]
    assert r["max_noise_curvature"] > 0 and r["max_noise_sign"] == "+"
    assert r["sign"][-1] == "+"
    # The large-noise limit: the closed form, 3 mu_l at L = 7, k = 1, and the
    # engine's theory at the largest noise, which is saturated there.
    assert np.isfinite(r["theory_limit_curvature"]) and r["theory_limit_curvature"] > 0
    np.testing.assert_allclose(r["theory_limit_curvature"], 3 * r["mu_left"], rtol=1e-5)
    np.testing.assert_allclose(
        r["theory_limit_curvature"], view.cells("theory/curvature")[i, -1, 0], rtol=1e-6
    )
    # Every number is the plain NumPy one on the same cells (no chain diverged).
    np.testing.assert_allclose(r["curvature_mean"], curvature[i].mean(-1))
    np.testing.assert_allclose(r["curvature_std"], curvature[i].std(-1, ddof=1))
    np.testing.assert_allclose(r["max_noise_curvature"], curvature[i, -1].mean())
    curve = load_curve[i, 0].mean(0)
    np.testing.assert_allclose(r["noiseless_mean_layer_drop"], (curve[0] - curve[-1]) / 7)


def test_left_friction_only_orders_rows_and_leaves_out_diverged():
  rng = np.random.default_rng(2)
  # Grid axes noise first, mu_left descending: rows must come out ascending.
  curvature = rng.normal(size=(3, 2, 4)) * 0.01 + 0.05  # [noise, mu_left, seed]
  curvature[0] = 0.0  # noiseless: linear
  curves = np.broadcast_to(1.0 - np.arange(8) / 8, (3, 2, 4, 8)).copy()
  diverged = np.zeros((3, 2, 4), bool)
  diverged[2, 0, 3] = True  # largest noise, mu_left 0.04
  curvature[2, 0, 3] = 1e6
  view = _hand_made(
      ("noise", "mu_left", "seed"),
      "mu_left",
      "noise",
      {
          "curvature": curvature,
          "load_curve": curves,
          "diverged": diverged,
          "axis/noise": np.array([0.0, 0.003, 0.006]),
          "axis/mu_left": np.array([0.04, 0.01]),
          "axis/seed": np.arange(4),
      },
      mu=0.0,
  )
  numbers = left_friction.left_friction_only(view)
  np.testing.assert_allclose(numbers["noise"], [0.0, 0.003, 0.006])
  low, high = numbers["rows"]
  assert (low["mu_left"], high["mu_left"]) == (0.01, 0.04)
  np.testing.assert_allclose(low["curvature_mean"], curvature[:, 1].mean(-1))
  np.testing.assert_allclose(high["max_noise_curvature"], curvature[2, 0, :3].mean())
  np.testing.assert_allclose(high["max_noise_std"], curvature[2, 0, :3].std(ddof=1))
  assert low["sign"] == high["sign"] == "0++"
  assert low["noiseless_curvature"] == 0
  np.testing.assert_allclose(low["noiseless_mean_layer_drop"], 0.875 / 7)
  np.testing.assert_allclose(
      [low["theory_limit_curvature"], high["theory_limit_curvature"]], [0.03, 0.12], rtol=1e-5
  )

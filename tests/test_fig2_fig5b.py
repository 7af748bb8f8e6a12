"""Paper Fig. 2 and Fig. 5(b): their configs run and plot, and their chains do what SPEC §3 says.

Fig. 2: independent noise per block beside synchronous noise; the final
load curves agree, the fluctuations differ. Fig. 5(b): leftward friction
only (mu_r = 0 < mu_l): linear without noise whatever mu_l is, convex with
noise. The physics tests run the full configs with fewer seeds and steps.
"""

import os

import ml_collections
import numpy as np
import pytest

from featurespring import springs
from featurespring import analysis
from featurespring import sweep
from featurespring.analysis import finished
from featurespring.sweep import figures
from featurespring.sweep import springs_engine

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIG2 = os.path.join(REPO, "experiments", "fig2_independent_vs_synchronous.py")
FIG5B = os.path.join(REPO, "experiments", "fig5b_left_friction_only.py")


def _run(config, workdir) -> finished.FinishedSweep:
  sweep.run(config, str(workdir))
  return finished.FinishedSweep.load(str(workdir))


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


def test_fig5b_linear_without_noise_for_every_mu_left_and_convex_with_noise(tmp_path):
  config = sweep.load_config(FIG5B)
  config.seeds = 3
  config.grid.noise = (0.0, config.grid.noise[-1])
  # 4000 steps: t = 200, 30 decay times of the slowest mode (1 / (4k sin^2(pi/16)) ~ 6.6).
  config.springs.num_steps = 4000
  view = _run(config, tmp_path)
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


def test_fig2_final_load_curves_agree_and_fluctuations_differ(tmp_path):
  config = sweep.load_config(FIG2)
  config.seeds = 6
  # Settled by t ~ 300 (of 500): the second half is the fluctuating final state.
  config.springs.num_steps, config.springs.record_every = 10_000, 50
  view = _run(config, tmp_path)
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
  correlation = analysis.increment_correlation(view.cells("trajectory")[0])  # [2, seed]
  assert (correlation[0] < 0.4).all() and (correlation[1] > 0.9).all(), correlation

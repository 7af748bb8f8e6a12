"""Fitting a chain's dynamics and time map to load-curve trajectories (bridge._dynamics)."""

import dataclasses

import jax
import numpy as np
import pytest

from featurespring import springs
from featurespring.bridge import _dynamics as dynamics

L = 4
DT = 0.05
SEEDS = 2
EPOCHS = np.arange(1.0, 11.0)
# Scales of 1, 2, 4, 8, 16 steps per epoch: every s * e is a recorded step of
# the search (every step up to 128, every 2nd up to 256), so a trajectory
# read off `springs.simulate` at those steps is a candidate exactly.
GRID = dynamics.CandidateGrid(
    mu_right=np.array([0.0, 0.03, 0.08]),
    mu_left=np.array([0.0, 0.06, 0.15]),
    noise=np.array([0.0, 0.02]),
    time_scale=DT * np.array([1.0, 2.0, 4.0, 8.0, 16.0]),
)


def simulated(mu_right, mu_left, noise, steps_per_epoch, synchronous=True, seed=0):
  """Seed-mean load curves of one chain after each of EPOCHS, from springs.simulate."""
  cfg = springs.ChainConfig(
      num_blocks=L,
      mu_right=mu_right,
      mu_left=mu_left,
      noise=noise,
      dt=DT,
      synchronous=synchronous,
  )
  keys = jax.random.split(jax.random.key(seed), SEEDS)
  num_steps = int(steps_per_epoch * EPOCHS[-1])
  sim = springs.simulate(cfg, keys, num_steps, record_every=1)  # [seed, T + 1, L+1]
  mean = np.asarray(sim.trajectory, np.float64).mean(0)
  return mean[(steps_per_epoch * EPOCHS).astype(int)]


def candidate_index(chain, scale):
  mu_r, mu_l, eps = GRID.chains()
  matches = np.flatnonzero((mu_r == chain[0]) & (mu_l == chain[1]) & (eps == chain[2]))
  return int(matches[0]) * GRID.time_scale.size + int(np.flatnonzero(GRID.time_scale == scale)[0])


@pytest.mark.parametrize("noise", ["synchronous", "independent"])
def test_recovers_chain_time_scale_and_affine_map(noise):
  chain, steps = (0.03, 0.06, 0.02), 4
  curves = simulated(*chain, steps, synchronous=noise == "synchronous")
  traj = 2.5 * curves - 1.0
  fit = dynamics.fit_dynamics(traj, EPOCHS, noise=noise, grid=GRID, chain_seeds=SEEDS, dt=DT)
  assert bool(fit.valid) and int(fit.reason) == dynamics.OK
  assert int(fit.candidate) == candidate_index(chain, steps * DT)
  np.testing.assert_allclose(
      [fit.mu_right, fit.mu_left, fit.noise, fit.time_scale], [*chain, steps * DT], rtol=1e-6
  )
  np.testing.assert_allclose([fit.scale, fit.offset], [2.5, -1.0], rtol=1e-4)
  assert float(fit.r2) > 1 - 1e-5 and float(fit.r2_dynamic) > 1 - 1e-4
  # The fitted chain, re-simulated, is the trajectory it was fit to.
  np.testing.assert_allclose(dynamics.fitted_trajectory(fit, EPOCHS), traj, atol=1e-4)
  cfg = dynamics.dynamics_chain(fit)
  assert cfg.synchronous == (noise == "synchronous") and cfg.num_blocks == L
  np.testing.assert_allclose([cfg.mu_right, cfg.mu_left, cfg.noise], chain, rtol=1e-6)


def test_wrong_noise_mode_fits_worse():
  # Synchronous and independent noise move the chain differently: the fit
  # under the other mode cannot reproduce the trajectory exactly.
  traj = simulated(0.03, 0.06, 0.02, 4, synchronous=True)
  same = dynamics.fit_dynamics(traj, EPOCHS, grid=GRID, chain_seeds=SEEDS, dt=DT)
  other = dynamics.fit_dynamics(
      traj, EPOCHS, noise="independent", grid=GRID, chain_seeds=SEEDS, dt=DT
  )
  assert 1 - float(other.r2) > 100 * (1 - float(same.r2))


def test_batched_cells_equal_one_by_one():
  settings = [
      (0.0, 0.0, 0.0, 2),
      (0.08, 0.06, 0.0, 16),
      (0.03, 0.06, 0.02, 4),
      (0.0, 0.15, 0.01, 8),
  ]
  rng = np.random.default_rng(0)
  traj = np.stack([simulated(*s) for s in settings])
  traj = rng.uniform(0.5, 3.0, (4, 1, 1)) * traj + rng.uniform(-2, 2, (4, 1, 1))
  traj = traj + rng.normal(0, 0.002, traj.shape)  # not exactly a candidate
  batched = dynamics.fit_dynamics(
      traj.reshape(2, 2, *traj.shape[1:]), EPOCHS, grid=GRID, chain_seeds=SEEDS, dt=DT
  )
  assert batched.r2.shape == (2, 2)
  for i in range(4):
    one = dynamics.fit_dynamics(traj[i], EPOCHS, grid=GRID, chain_seeds=SEEDS, dt=DT)
    for field in ("mu_right", "mu_left", "noise", "time_scale", "candidate", "valid"):
      assert np.asarray(getattr(batched, field)).reshape(-1)[i] == getattr(one, field), field
    for field in ("scale", "offset", "r2", "r2_dynamic"):
      np.testing.assert_allclose(
          np.asarray(getattr(batched, field)).reshape(-1)[i],
          getattr(one, field),
          rtol=1e-4,
          err_msg=field,
      )
  assert np.all(np.asarray(batched.r2) > 0.99)


def test_fitted_trajectory_reproduces_r2():
  rng = np.random.default_rng(1)
  traj = simulated(0.02, 0.1, 0.006, 3) + rng.normal(0, 0.01, (EPOCHS.size, L + 1))
  fit = dynamics.fit_dynamics(traj, EPOCHS, grid=GRID, chain_seeds=SEEDS, dt=DT)
  r2, r2_dynamic = dynamics.trajectory_r2(traj, dynamics.fitted_trajectory(fit, EPOCHS))
  np.testing.assert_allclose([r2, r2_dynamic], [fit.r2, fit.r2_dynamic], rtol=1e-4, atol=1e-4)
  assert 0.5 < float(fit.r2) < 1 - 1e-4


def test_non_finite_and_flat_cells_are_flagged_and_partial_nan_epochs_skipped():
  good = simulated(0.03, 0.06, 0.02, 4)
  holes = good.copy()
  holes[[1, 5], 2] = np.nan  # unevaluated epochs: left out, not fatal
  dead = np.full_like(good, np.nan)
  dead[:2] = good[:2]  # two finite epochs are too few
  flat = np.full_like(good, 3.0)
  fit = dynamics.fit_dynamics(
      np.stack([good, holes, dead, flat]), EPOCHS, grid=GRID, chain_seeds=SEEDS, dt=DT
  )
  np.testing.assert_array_equal(fit.valid, [True, True, False, False])
  reasons = [dynamics.REASONS[r] for r in np.asarray(fit.reason)]
  assert reasons == ["ok", "ok", "non_finite", "flat"]
  assert np.all(np.isnan(np.asarray(fit.r2)[2:])) and np.all(np.asarray(fit.candidate)[2:] == -1)
  assert int(fit.candidate[1]) == int(fit.candidate[0]) and float(fit.r2[1]) > 1 - 1e-5
  with pytest.raises(ValueError, match="invalid entries"):
    dynamics.dynamics_chain(fit)
  assert np.isnan(np.asarray(dynamics.fitted_trajectory(fit, EPOCHS))[2:]).all()


def test_refinement_never_loses_and_gains_off_grid():
  # A time scale between grid points (3 steps per epoch): the grid's best is
  # off, the gradient moves the scale towards it.
  traj = simulated(0.03, 0.06, 0.02, 3)
  fit = dynamics.fit_dynamics(traj, EPOCHS, grid=GRID, chain_seeds=SEEDS, dt=DT)
  refined, info = dynamics.refine_dynamics(fit, traj, EPOCHS, num_iterations=15)
  assert float(refined.r2) >= float(fit.r2)
  assert bool(info["accepted"][0]) and float(refined.r2) > float(fit.r2)
  assert abs(np.log(float(refined.time_scale) / (3 * DT))) < abs(
      np.log(float(fit.time_scale) / (3 * DT))
  )
  r2, _ = dynamics.trajectory_r2(traj, dynamics.fitted_trajectory(refined, EPOCHS))
  np.testing.assert_allclose(r2, refined.r2, atol=1e-4)


def test_default_grid_has_requested_size():
  for num in (16, 1000, 10_000, 16_384):
    grid = dynamics.candidate_grid(7, 100.0, num)
    assert num <= grid.size < 2 * num
    assert grid.mu_right[0] == 0 and grid.noise[0] == 0 and np.all(np.diff(grid.time_scale) > 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(trajectories=np.ones((2, L + 1)), epochs=[1.0, 2.0]), "at least 3 epochs"),
        (dict(trajectories=np.ones((5, 2)), epochs=np.arange(1.0, 6.0)), "at least 3 layers"),
        (dict(trajectories=np.ones(5), epochs=np.arange(1.0, 6.0)), r"\[\.\.\., E, L\+1\]"),
        (dict(trajectories=np.ones((5, L + 1)), epochs=np.arange(1.0, 5.0)), "epochs must have"),
        (dict(trajectories=np.ones((5, L + 1)), epochs=[1.0, 2.0, 2.0, 3, 4]), "increasing"),
        (dict(trajectories=np.ones((5, L + 1)), epochs=np.arange(0.0, 5.0)), "> 0"),
        (dict(trajectories="abc", epochs=np.arange(1.0, 6.0)), "trajectories"),
        (dict(noise="brownian"), "noise must be one of"),
        (dict(num_candidates=8, grid=None), r"num_candidates must be an integer in \[16"),
        (dict(chain_seeds=0), r"chain_seeds must be an integer in \[1, 64\]"),
        (dict(resolution=48), "power of 2"),
        (dict(grid="grid"), "grid must be a CandidateGrid"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(kwargs, match):
  args = dict(trajectories=np.ones((5, L + 1)), epochs=np.arange(1.0, 6.0), grid=GRID)
  args.update(kwargs)
  with pytest.raises(ValueError, match=match):
    dynamics.fit_dynamics(args.pop("trajectories"), args.pop("epochs"), **args)


def test_bad_grid_values_raise():
  with pytest.raises(ValueError, match="time_scale must be finite and > 0"):
    dataclasses.replace(GRID, time_scale=np.array([0.0, 1.0]))
  with pytest.raises(ValueError, match="mu_left must be finite and >= 0"):
    dataclasses.replace(GRID, mu_left=np.array([-0.1]))


def test_the_relaxing_shape_competitor_recovers_a_planted_trajectory():
  from experiments.bridge import relaxation

  epochs = np.arange(1.0, 41.0)
  u = np.arange(8) / 7
  planted = 0.2 + 0.5 * u + (0.3 - 1.2 * np.exp(-epochs / 6.0))[:, None] * u * (1 - u)
  # A chain-like trajectory it cannot fit: each layer moving at its own pace.
  other = np.sin(epochs[:, None] / (1.0 + np.arange(8)))
  out = relaxation.fit_relaxation(np.stack([planted, other]), epochs)
  assert out["r2"][0] > 0.9999 and out["r2_dynamic"][0] > 0.999
  assert 5.0 < out["tau"][0] < 7.0
  assert out["r2_dynamic"][1] < 0.9
  empty = relaxation.fit_relaxation(np.full((1, 40, 8), np.nan), epochs)
  assert np.isnan(empty["r2"][0]) and np.isnan(empty["fitted"]).all()


def test_dynamics_summary_counts_every_parameter_at_its_grid_edge():
  """The summary names each fitted parameter's edge count, not only the noise's."""
  from experiments.bridge import dynamics_markdown  # pylint: disable=import-outside-toplevel

  overall = {
      "cells": 2,
      "fits": 4,
      "follows": 3,
      "sync_minus_indep_r2": 0.0,
      "max_abs_mode_difference": 0.01,
      "median_gain": 0.0,
      "max_gain": 0.0,
      "median_dynamic_gain": 0.0,
      "max_dynamic_gain": 0.0,
      "refine_s": 1.0,
      "search_s": 1.0,
      "refine_helps": False,
      "valid_fits": 4,
      "noise_at_edge": 0,
      "at_edge": {"mu_right": 3, "mu_left": 0, "noise": 0, "time_scale": 2},
      "chain_beats_relaxation": 4,
      "versus_relaxation": 4,
      "median_chain_minus_relaxation_r2_dynamic": 0.3,
      "mu_right_above_mu_left": [],
      "verdict": "v",
  }
  text = dynamics_markdown.markdown({"chain_seeds": 4, "sweeps": {}, "overall": overall}, ["cmd"])
  assert "over the 4 valid fits: mu_right 3, mu_left 0, noise 0, time_scale 2." in text
  assert text.count("- Grid-best values on their search grid's edge") == 1
  assert "fixed before the runs" not in text

"""fit_universal: one (mu_r, mu_l) per row and one noise scale per knob."""

import numpy as np
import pytest

from featurespring import bridge

from experiments.bridge import universality_strict

KNOBS = (np.linspace(0.0, 0.3, 8), np.array([2560.0, 640, 160, 40, 10, 5]))
MAPS = ("dropout_std", "inverse_sqrt")
SCALES = np.array([0.004, 0.02])
MU_R = np.array([0.03, 0.02, 0.01])


def grids(noise, mu_l_ratio=2.5, rng=None):
  out = []
  for knob, name, scale in zip(KNOBS, MAPS, SCALES):
    eps = scale * np.asarray(bridge.knob_coordinate(knob, name))
    y = np.maximum(MU_R[:, None] - bridge.NOISE_SLOPE * eps, ((1 - mu_l_ratio) * MU_R / 2)[:, None])
    out.append(y + (0 if rng is None else rng.normal(0.0, noise, y.shape)))
  return out


def test_round_trip_recovers_frictions_scales_and_predictions():
  rng = np.random.default_rng(0)
  data = grids(2e-4, rng=rng)
  fit = universality_strict.fit_universal(KNOBS, data, MAPS, num_starts=64, num_steps=800)
  np.testing.assert_allclose(fit.mu_right, MU_R, atol=1e-3)
  np.testing.assert_allclose(fit.mu_left, 2.5 * MU_R, rtol=0.1)
  np.testing.assert_allclose(fit.scale, SCALES, rtol=0.05)
  assert fit.saturated.all() and fit.num_params == 2 * 3 + 2
  exact = grids(0.0)
  for g, (knob, name) in enumerate(zip(KNOBS, MAPS)):
    np.testing.assert_allclose(
        universality_strict.predict_universal(fit, knob, name, g), exact[g], atol=1e-3
    )
  # Replicates refit from the fit: one per leading entry, near the data's fit.
  replicates = [np.stack([d, d + 1e-4]) for d in data]
  refit = universality_strict.refit_universal(fit.params, KNOBS, replicates, MAPS, num_steps=200)
  assert refit.scale.shape == (2, 2) and refit.mu_right.shape == (2, 3)
  np.testing.assert_allclose(refit.scale[0], fit.scale, rtol=0.02)


def test_nan_cells_are_masked():
  data = grids(0.0)
  data[0][1, 3] = np.nan
  fit = universality_strict.fit_universal(KNOBS, data, MAPS, num_starts=32, num_steps=800)
  assert fit.num_cells == 3 * (8 + 6) - 1
  np.testing.assert_allclose(fit.scale, SCALES, rtol=0.05)


def test_bad_inputs_raise_naming_the_argument():
  data = grids(0.0)
  with pytest.raises(ValueError, match="one entry per grid"):
    universality_strict.fit_universal(KNOBS[:1], data, MAPS)
  with pytest.raises(ValueError, match="same R"):
    universality_strict.fit_universal(KNOBS, [data[0], data[1][:2]], MAPS)
  with pytest.raises(ValueError, match="num_starts"):
    universality_strict.fit_universal(KNOBS, data, MAPS, num_starts=0)
  with pytest.raises(ValueError, match="knob_values"):
    universality_strict.fit_universal(
        (np.array([-0.1, 0.1, 0.2]), KNOBS[1]), [data[0][:, :3], data[1]], MAPS
    )
  sparse = [d[:, :3].copy() for d in data]
  for d in sparse:
    d[1:] = np.nan  # one row of 3 cells per grid: 6 cells for 8 parameters
  with pytest.raises(ValueError, match="fewer than the 8 parameters"):
    universality_strict.fit_universal((KNOBS[0][:3], KNOBS[1][:3]), sparse, MAPS)

"""Curvature and spread of load curves against a plain NumPy reading of SPEC §1."""

import jax
import numpy as np
import pytest

from featurespring import metrics


def numpy_curvature(curve):
  d = [curve[i] - curve[i + 1] for i in range(len(curve) - 1)]
  return sum(d[i] - d[i + 1] for i in range(len(d) - 1))


def test_curvature_and_spread_match_numpy_on_random_curves():
  rng = np.random.default_rng(0)
  curves = rng.normal(size=(4, 5, 9)).astype(np.float32)
  expected = np.array([[numpy_curvature(c) for c in row] for row in curves])
  np.testing.assert_allclose(metrics.curvature(curves), expected, rtol=1e-5, atol=1e-5)
  diffs = curves[..., :-1] - curves[..., 1:]
  np.testing.assert_allclose(metrics.spread(curves), diffs.std(-1), rtol=1e-5, atol=1e-6)
  jitted = jax.jit(jax.vmap(metrics.curvature))(curves)
  np.testing.assert_allclose(jitted, expected, rtol=1e-5, atol=1e-5)


def test_mean_layer_drop_matches_numpy_in_either_backend():
  rng = np.random.default_rng(1)
  curves = rng.normal(size=(3, 8))
  expected = np.abs(curves[:, 0] - curves[:, -1]) / 7
  np.testing.assert_allclose(metrics.mean_layer_drop(curves), expected, rtol=1e-12)
  assert metrics.mean_layer_drop(curves).dtype == np.float64
  np.testing.assert_allclose(
      jax.jit(metrics.mean_layer_drop)(curves.astype(np.float32)), expected, rtol=1e-5
  )
  assert float(metrics.mean_layer_drop([7.0, 3.0, 0.0])) == 3.5
  with pytest.raises(ValueError, match="load_curve needs at least 2 points"):
    metrics.mean_layer_drop(np.ones((4, 1)))


def test_sign_convention():
  layers = np.arange(8.0)
  linear = 3.0 - 0.4 * layers
  concave = 3.0 - 0.05 * layers**2  # deep layers take more load: lazy
  convex = 3.0 * np.exp(-0.3 * layers)  # shallow layers take more load: active
  assert abs(float(metrics.curvature(linear))) < 1e-6
  assert float(metrics.spread(linear)) < 1e-6
  assert metrics.curvature(concave) < 0
  assert metrics.curvature(convex) > 0


def test_curvature_needs_two_points():
  with pytest.raises(ValueError, match="at least 2 points"):
    metrics.curvature(np.ones((3, 1)))

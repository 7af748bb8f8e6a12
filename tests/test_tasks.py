"""The side-experiment tasks: orthogonal binary data (Fig. 5a), regression targets (S12)."""

import numpy as np
import pytest

from featurespring import data


def test_orthogonal_binary_rows_are_orthonormal_and_labels_balanced():
  ds = data.load("orthogonal_binary", num_train=100, num_test=40)
  assert ds.x_train.shape == (100, 100) and ds.x_test.shape == (40, 100)
  assert ds.num_classes == 2 and ds.image_shape == (100,)
  # The full training matrix is orthogonal: X X^T = X^T X = I.
  x = ds.x_train.astype(np.float64)
  np.testing.assert_allclose(x @ x.T, np.eye(100), atol=1e-5)
  np.testing.assert_allclose(x.T @ x, np.eye(100), atol=1e-5)
  np.testing.assert_allclose(ds.x_test @ ds.x_test.T, np.eye(40), atol=1e-5)
  assert np.bincount(ds.y_train).tolist() == [50, 50]
  assert np.bincount(ds.y_test).tolist() == [20, 20]
  # Labels are in random order, not alternating.
  assert not np.array_equal(ds.y_train, np.arange(100) % 2)


def test_orthogonal_binary_is_deterministic_per_seed_and_checks_sizes():
  a = data.orthogonal_binary(num_train=31, num_test=7, dim=32, seed=3)
  b = data.orthogonal_binary(num_train=31, num_test=7, dim=32, seed=3)
  c = data.orthogonal_binary(num_train=31, num_test=7, dim=32, seed=4)
  np.testing.assert_array_equal(a.x_train, b.x_train)
  np.testing.assert_array_equal(a.y_test, b.y_test)
  assert not np.allclose(a.x_train, c.x_train)
  assert abs(int(np.sum(a.y_train)) - 15) <= 1  # odd size: balanced within one
  with pytest.raises(ValueError, match="must be <= dim"):
    data.load("orthogonal_binary", num_train=2560)
  with pytest.raises(ValueError, match="no tfds source"):
    data.load("orthogonal_binary", source="tfds")


def test_regression_targets_are_standardised_smooth_and_deterministic():
  base = data.load("synthetic", num_train=400, num_test=200, seed=1)
  ds = data.load("synthetic", num_train=400, num_test=200, seed=1, regression="teacher")
  assert ds.regression and ds.num_classes == 0
  assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (400,)
  np.testing.assert_array_equal(ds.x_train, base.x_train)
  np.testing.assert_allclose([ds.y_train.mean(), ds.y_train.std()], [0.0, 1.0], atol=1e-5)
  again = data.regression_targets(base, "teacher")
  np.testing.assert_array_equal(again.y_test, ds.y_test)
  # Nonlinear but learnable: a linear fit explains part of the variance, not all.
  design = np.c_[base.x_train, np.ones(400)]
  residual = ds.y_train - design @ np.linalg.lstsq(design, ds.y_train, rcond=None)[0]
  assert 0.05 < np.sqrt(np.mean(residual**2)) < 0.95
  # The test targets come from the same function (train-set standardisation).
  assert abs(ds.y_test.mean()) < 0.3 and 0.7 < ds.y_test.std() < 1.3
  digit = data.regression_targets(base, "digit")
  np.testing.assert_allclose(np.corrcoef(digit.y_train, base.y_train)[0, 1], 1.0, atol=1e-6)
  with pytest.raises(ValueError, match="regression must be None or one of"):
    data.load("synthetic", regression="teachr")
  with pytest.raises(ValueError, match="already a regression"):
    data.regression_targets(ds)

"""Layer metrics (separation, pinv separation, regression load) vs NumPy float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import metrics

NUM_CLASSES = 10


def _reference_separations(features, labels, num_classes, rcond):
  """Direct float64 transcription of SPEC §1 with explicit D x D matrices."""
  features = np.asarray(features, np.float64)
  num_examples, dim = features.shape
  mean = features.mean(0)
  between = np.zeros((dim, dim))
  within = np.zeros((dim, dim))
  for c in range(num_classes):
    members = features[labels == c]
    if len(members) == 0:
      continue
    class_mean = members.mean(0)
    between += len(members) * np.outer(class_mean - mean, class_mean - mean)
    within += (members - class_mean).T @ (members - class_mean)
  between /= num_examples
  within /= num_examples
  trace = np.log(np.trace(within) / np.trace(between))
  pinv = np.log(np.trace(within @ np.linalg.pinv(between, rcond=rcond, hermitian=True)))
  return trace, pinv


def _random_layer(seed, dim, offset=3.0, rank=None):
  """Class-structured features; class 8 empty, class 9 a single example."""
  rng = np.random.default_rng(seed)
  num_examples = 300
  labels = rng.integers(0, 8, num_examples).astype(np.int32)
  labels[0] = 9
  class_means = rng.normal(size=(NUM_CLASSES, dim))
  features = rng.normal(size=(num_examples, dim)) + 0.5 * class_means[labels] + offset
  if rank is not None:
    # Rank-deficient covariances: the last columns repeat earlier ones.
    features[:, rank:] = features[:, : dim - rank] @ rng.normal(size=(dim - rank, dim - rank))
  return features.astype(np.float32), labels


def _separated_layer(seed, within_to_between, dim=100, offset=3.0):
  """Tight classes, ``tr S_w / tr S_b`` about ``within_to_between``; class
  8 empty, class 9 a single example."""
  features, labels = _random_layer(seed, dim, offset=0.0)
  rng = np.random.default_rng(seed + 100)
  class_means = rng.normal(size=(NUM_CLASSES, dim))
  features = (
      class_means[labels] + offset + np.sqrt(within_to_between) * rng.normal(size=features.shape)
  )
  return features.astype(np.float32), labels


CASES = [
    dict(dim=100),  # D >> C: S_b rank C - 2 (one class empty)
    dict(dim=5),  # D < C - 1: S_b has full rank D
    dict(dim=30, rank=20),  # rank-deficient S_w and S_b
    dict(dim=100, offset=1000.0),  # large common offset (float32 centring)
]


@pytest.mark.parametrize("case", CASES)
def test_separations_match_float64_reference(case):
  features, labels = _random_layer(0, **case)
  trace, pinv = _reference_separations(features, labels, NUM_CLASSES, metrics.PINV_RCOND)
  np.testing.assert_allclose(metrics.separation(features, labels, NUM_CLASSES), trace, atol=1e-5)
  np.testing.assert_allclose(
      metrics.separation_pinv(features, labels, NUM_CLASSES), pinv, atol=1e-4
  )


# 2e-3 sits just above metrics.WITHIN_FRACTION_FLOOR (tr S_w from the class
# sums, its largest cancellation); the others below it (summed directly).
@pytest.mark.parametrize("within_to_between", [2e-3, 1e-4, 1e-7])
def test_separations_of_very_well_separated_classes_match_float64(within_to_between):
  features, labels = _separated_layer(0, within_to_between)
  trace, pinv = _reference_separations(features, labels, NUM_CLASSES, metrics.PINV_RCOND)
  assert trace < np.log(within_to_between) + 0.5, trace
  # float32 features: ~1e-4 is the documented bound of the trace separation
  # (1e-6 measured below the floor); 1e-2 would be the most a load curve
  # could tolerate.
  got_trace, got_pinv = metrics.separations(features, labels, NUM_CLASSES)
  np.testing.assert_allclose(got_trace, trace, atol=1e-3)
  np.testing.assert_allclose(got_pinv, pinv, atol=1e-3)
  np.testing.assert_allclose(metrics.separation(features, labels, NUM_CLASSES), trace, atol=1e-3)


def test_separations_equal_the_single_metrics_and_ignore_the_population():
  # One member needs the direct within-class sum, the others do not: with
  # axis_name the decision is shared, but each value stays its own.
  layers = [
      _random_layer(0, dim=40),
      _separated_layer(1, 1e-7, dim=40),
      _random_layer(2, dim=40, rank=20),
  ]
  features = jnp.stack([f for f, _ in layers])
  labels = jnp.stack([y for _, y in layers])
  together = jax.jit(
      jax.vmap(
          lambda f, y: metrics.separations(f, y, NUM_CLASSES, axis_name="nets"), axis_name="nets"
      )
  )(features, labels)
  for i, (f, y) in enumerate(layers):
    expected = (metrics.separation(f, y, NUM_CLASSES), metrics.separation_pinv(f, y, NUM_CLASSES))
    np.testing.assert_allclose([together[0][i], together[1][i]], expected, rtol=1e-5)
    np.testing.assert_allclose(metrics.separations(f, y, NUM_CLASSES), expected, rtol=1e-6)


def test_separations_under_vmap_and_jit_match_single_calls():
  layers = [_random_layer(seed, dim=40) for seed in range(3)]
  features = jnp.stack([f for f, _ in layers])
  labels = jnp.stack([y for _, y in layers])
  for metric in (metrics.separation, metrics.separation_pinv):
    batched = jax.jit(jax.vmap(metric, in_axes=(0, 0, None)), static_argnums=2)(
        features, labels, NUM_CLASSES
    )
    singles = [metric(f, y, NUM_CLASSES) for f, y in layers]
    np.testing.assert_allclose(batched, singles, rtol=1e-5)


def test_pinv_separation_is_invariant_to_orthogonal_maps():
  features, labels = _random_layer(1, dim=50)
  rotation, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(50, 50)))
  rotated = (features @ rotation.astype(np.float32)).astype(np.float32)
  np.testing.assert_allclose(
      metrics.separation_pinv(rotated, labels, NUM_CLASSES),
      metrics.separation_pinv(features, labels, NUM_CLASSES),
      atol=1e-4,
  )


def test_separations_are_nan_not_hang_for_non_finite_features():
  features, labels = _random_layer(3, dim=20)
  features[5, 3] = np.inf
  assert np.isnan(metrics.separation_pinv(features, labels, NUM_CLASSES))
  assert not np.isfinite(metrics.separation(features, labels, NUM_CLASSES))


@pytest.mark.parametrize("rank", [None, 20])
def test_regression_load_matches_least_squares(rank):
  features, _ = _random_layer(4, dim=30, rank=rank)
  rng = np.random.default_rng(5)
  targets = (
      features[:, :3] @ rng.normal(size=(3, 2)) + rng.normal(size=(len(features), 2))
  ).astype(np.float32)
  design = np.c_[features.astype(np.float64), np.ones(len(features))]
  # Same cut-off as the metric: sqrt of its eigenvalue rcond on singular values.
  coefficients = np.linalg.lstsq(design, targets, rcond=np.sqrt(metrics.LSTSQ_RCOND))[0]
  expected = np.sqrt(np.mean((targets - design @ coefficients) ** 2))
  np.testing.assert_allclose(metrics.regression_load(features, targets), expected, rtol=1e-4)
  np.testing.assert_allclose(
      jax.jit(jax.vmap(metrics.regression_load))(features[None], targets[None])[0],
      expected,
      rtol=1e-4,
  )

"""A synthetic Gaussian-mixture classification dataset, for fast tests."""

from __future__ import annotations

import numpy as np

from featurespring.data._dataset import Dataset


def synthetic_gaussian_mixture(
    num_train: int = 2560,
    num_test: int = 10000,
    dim: int = 100,
    num_classes: int = 10,
    separation: float = 3.0,
    seed: int = 0,
) -> Dataset:
  """Isotropic Gaussian classes around random means.

  Each example is its class mean plus standard normal noise in every
  coordinate. The class means sit at distance ``separation / sqrt(2)`` from
  the origin along random orthonormal directions, so any two means are exactly
  ``separation`` noise standard deviations apart (when ``dim < num_classes``
  the directions are random unit vectors and the distances only roughly
  ``separation``). Labels cycle through the classes, so the classes are
  balanced to within one example, in random order. Features are not in
  [0, 1]: they are what a standardised input would look like.

  Args:
    num_train: number of training examples.
    num_test: number of test examples (default: as many as MNIST's test set).
    dim: feature dimension (default: that of the 10x10 images of docs/theory.md §2).
    num_classes: number of classes.
    separation: distance between class means, in noise standard deviations.
    seed: seed of the `np.random.default_rng` that draws everything.

  Returns:
    A `Dataset` named ``"synthetic"`` with ``image_shape == (dim,)``.
  """
  for parameter, value in (
      ("num_train", num_train),
      ("num_test", num_test),
      ("dim", dim),
      ("num_classes", num_classes),
  ):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
      raise ValueError(f"{parameter} must be a positive int, got {value!r}")
  if not np.isfinite(separation) or separation < 0:
    raise ValueError(f"separation must be finite and >= 0, got {separation!r}")
  rng = np.random.default_rng(seed)
  directions = rng.standard_normal((max(dim, num_classes), num_classes))
  if dim >= num_classes:
    # Orthonormal columns: equal distances between all pairs of means.
    directions = np.linalg.qr(directions)[0]
  directions = directions[:dim].T
  directions /= np.linalg.norm(directions, axis=1, keepdims=True)
  means = separation / np.sqrt(2.0) * directions

  def draw(n):
    labels = rng.permutation(np.arange(n) % num_classes)
    x = means[labels] + rng.standard_normal((n, dim))
    return x.astype(np.float32), labels.astype(np.int32)

  x_train, y_train = draw(num_train)
  x_test, y_test = draw(num_test)
  return Dataset(
      x_train=x_train,
      y_train=y_train,
      x_test=x_test,
      y_test=y_test,
      num_classes=num_classes,
      name="synthetic",
      image_shape=(dim,),
  )

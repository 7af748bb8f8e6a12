"""Built-in synthetic tasks.

- `orthogonal_binary`: the setting of He & Su: the inputs are the
  rows of a random orthogonal matrix, the labels random and binary.
- `regression_targets`: a classification dataset's inputs with real
  targets in place of its labels (the paper does not say which regression
  task it used; see `REGRESSION_TARGETS`).
"""

from __future__ import annotations

import numpy as np

from featurespring.data._dataset import Dataset

# What `regression_targets` can put in place of the labels.
REGRESSION_TARGETS = ("teacher", "digit")

# The teacher is one fixed function for every data seed: the seed chooses the
# examples, not the task, so sweeps over data seeds study one regression.
TEACHER_SEED = 0
TEACHER_WIDTH = 100
# Gain on the unit-variance teacher preactivations: tanh(1.5 u) is clearly
# nonlinear over the bulk of u ~ N(0, 1) yet smooth (no hard saturation), so
# the input layer alone leaves a sizeable residual for deeper layers to take.
TEACHER_GAIN = 1.5


def _check_positive_int(name, value):
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"{name} must be a positive int, got {value!r}")


def _haar_orthogonal(rng: np.random.Generator, dim: int) -> np.ndarray:
  """A Haar-random ``dim x dim`` orthogonal matrix (QR with the sign fix)."""
  q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
  # Without the sign fix QR's output is not uniformly distributed.
  return q * np.sign(np.diag(r))


def orthogonal_binary(
    num_train: int = 100,
    num_test: int = 100,
    dim: int = 100,
    seed: int = 0,
) -> Dataset:
  """Rows of a random orthogonal matrix with random binary labels.

  The training inputs are the first ``num_train`` rows of a Haar-random
  ``dim x dim`` orthogonal matrix, so they are orthonormal (``X X^T = I``);
  with ``num_train == dim`` the input matrix is itself orthogonal, as in the
  paper. Labels are 0/1, balanced to within one example, in random order.
  The labels carry no structure, so the test set (rows of an independent
  orthogonal matrix, with their own random labels) only gives the trainer
  something to evaluate: its accuracy is chance by construction.

  Args:
    num_train: training examples, ``<= dim``.
    num_test: test examples, ``<= dim``.
    dim: input dimension.
    seed: seed of the `np.random.default_rng` that draws everything.

  Returns:
    A `Dataset` named ``"orthogonal_binary"``, 2 classes, ``image_shape
    == (dim,)``.
  """
  for name, value in (("num_train", num_train), ("num_test", num_test), ("dim", dim)):
    _check_positive_int(name, value)
  if num_train > dim or num_test > dim:
    raise ValueError(
        f"orthogonal_binary: num_train ({num_train}) and num_test "
        f"({num_test}) must be <= dim ({dim}): the examples are "
        "rows of a dim x dim orthogonal matrix"
    )
  rng = np.random.default_rng(seed)

  def draw(n):
    x = _haar_orthogonal(rng, dim)[:n]
    return x.astype(np.float32), rng.permutation(np.arange(n) % 2).astype(np.int32)

  x_train, y_train = draw(num_train)
  x_test, y_test = draw(num_test)
  return Dataset(
      x_train=x_train,
      y_train=y_train,
      x_test=x_test,
      y_test=y_test,
      num_classes=2,
      name="orthogonal_binary",
      image_shape=(dim,),
  )


def regression_targets(dataset: Dataset, target: str = "teacher") -> Dataset:
  """``dataset``'s inputs with real targets instead of its labels.

  Targets are standardised with the training set's mean and std (the same
  affine map on the test set), so a load (RMSE) of 1 means "no better than
  the mean" whatever the target.

  Args:
    dataset: a classification `Dataset` (e.g. MNIST 10x10).
    target: ``"teacher"``: a fixed random smooth nonlinear function of the
      input, ``tanh(TEACHER_GAIN * u) . w / sqrt(H)`` with ``u`` the
      unit-variance projections of the centred inputs on ``H = 100`` random
      directions (seed `TEACHER_SEED`); no linear map of the input fits it
      exactly, so the layers have a load to share, and it is defined on the
      whole input space, so the test load is meaningful.
      ``"digit"``: the class index as a number (for MNIST the digit value), a
      coarse target that depends on the image only through its class.

  Returns:
    A regression `Dataset` (``num_classes == 0``, float32 targets ``[N]``),
    named ``<name>_regression_<target>``.
  """
  if target not in REGRESSION_TARGETS:
    raise ValueError(f"regression target must be one of {REGRESSION_TARGETS}, " f"got {target!r}")
  if dataset.regression:
    raise ValueError(f"{dataset.name} is already a regression dataset")
  if target == "digit":
    make_targets = lambda x, labels: labels.astype(np.float64)
  else:
    rng = np.random.default_rng(TEACHER_SEED)
    directions = rng.standard_normal((dataset.dim, TEACHER_WIDTH))
    readout = rng.standard_normal(TEACHER_WIDTH) / np.sqrt(TEACHER_WIDTH)
    # Statistics from the training set only, then applied to every split.
    mean = dataset.x_train.astype(np.float64).mean(axis=0)
    projected_train = (dataset.x_train - mean) @ directions
    scale = projected_train.std(axis=0) + 1e-12

    def teacher(x):
      u = ((x.astype(np.float64) - mean) @ directions) / scale
      return np.tanh(TEACHER_GAIN * u) @ readout

    make_targets = lambda x, labels: teacher(x)

  y_train = make_targets(dataset.x_train, dataset.y_train)
  y_test = make_targets(dataset.x_test, dataset.y_test)
  has_val = dataset.x_val is not None
  y_val = make_targets(dataset.x_val, dataset.y_val) if has_val else None
  centre, spread = y_train.mean(), y_train.std() + 1e-12
  standardise = lambda y: ((y - centre) / spread).astype(np.float32)
  return Dataset(
      x_train=dataset.x_train,
      y_train=standardise(y_train),
      x_test=dataset.x_test,
      y_test=standardise(y_test),
      num_classes=0,
      name=f"{dataset.name}_regression_{target}",
      image_shape=dataset.image_shape,
      x_val=dataset.x_val,
      y_val=standardise(y_val) if has_val else None,
  )

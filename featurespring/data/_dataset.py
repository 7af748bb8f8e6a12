"""Dataset containers: raw images as read from disk, and model-ready arrays."""

from __future__ import annotations

import dataclasses
import functools
import hashlib

import numpy as np

from featurespring import checked_arrays


def _read_only(array: np.ndarray) -> np.ndarray:
  # A frozen dataclass only freezes its attributes; making the arrays read-only
  # as well means one loaded dataset can be shared by many runs without one of
  # them silently changing it for the others.
  # A view, so that an array the caller passed in stays writable for them.
  view = np.asarray(array).view()
  view.setflags(write=False)
  return view


@dataclasses.dataclass(frozen=True)
class RawData:
  """Images and labels as stored on disk, before any preprocessing.

  Attributes:
    x_train: uint8 images ``[N, H, W, C]``, values 0..255.
    y_train: integer labels ``[N]`` in ``0 .. num_classes - 1``.
    x_test: uint8 images ``[M, H, W, C]``, or None when the source has no
      separate test split (the embedded MNIST subset); `preprocess` then holds
      out the training examples that the training subset does not use.
    y_test: integer labels ``[M]``, or None together with ``x_test``.
    num_classes: number of classes.
  """

  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray | None
  y_test: np.ndarray | None
  num_classes: int

  def __post_init__(self):
    if (self.x_test is None) != (self.y_test is None):
      raise ValueError("x_test and y_test must both be given or both be None")
    pairs = [("train", self.x_train, self.y_train)]
    if self.x_test is not None:
      pairs.append(("test", self.x_test, self.y_test))
    for split, x, y in pairs:
      if x.ndim != 4 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"{split} split: expected images [N, H, W, C] and "
            f"labels [N], got shapes {x.shape} and {y.shape}"
        )
      if len(y) and (y.min() < 0 or y.max() >= self.num_classes):
        raise ValueError(
            f"{split} split: labels must lie in 0..{self.num_classes - 1}, "
            f"got {y.min()}..{y.max()}"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
  """A preprocessed classification (or regression) dataset, as NumPy arrays.

  The trainer moves the arrays to the device; keeping them in NumPy here means
  loading never allocates accelerator memory. The arrays are read-only.
  Construction converts them and checks the converted arrays
  (`featurespring.checked_arrays`): a ``ValueError`` names non-finite
  features, features float32 cannot hold, complex ones, and labels that are
  not whole numbers in ``0 .. num_classes - 1``.

  Attributes:
    x_train: float32 ``[N, D]`` features, flattened images with channels last,
      so ``x_train.reshape(N, *image_shape)`` recovers the images.
    y_train: int32 ``[N]`` labels in ``0 .. num_classes - 1``, or, for a
      regression task, float32 targets ``[N]`` or ``[N, K]``.
    x_test: float32 ``[M, D]`` held-out features.
    y_test: int32 ``[M]`` held-out labels (float32 targets for regression).
    num_classes: number of classes; 0 for a regression task.
    name: dataset name, e.g. ``"mnist"``.
    image_shape: shape of one example before flattening, ``(H, W, C)`` for
      images and ``(D,)`` for vector data; its product is ``D``.
    x_val: float32 ``[V, D]`` validation features held out from the training
      pool (disjoint from the training and test sets), or None without a
      validation split (``load(num_val=0)``).
    y_val: its labels (or targets), None together with ``x_val``.
  """

  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  num_classes: int
  name: str
  image_shape: tuple[int, ...]
  x_val: np.ndarray | None = None
  y_val: np.ndarray | None = None

  def __post_init__(self):
    dim = int(np.prod(self.image_shape))
    if (self.x_val is None) != (self.y_val is None):
      raise ValueError("x_val and y_val must both be given or both be None")
    splits = ("train", "test") + (("val",) if self.x_val is not None else ())
    for split in splits:
      x = checked_arrays.float32(f"x_{split}", getattr(self, f"x_{split}"))
      # Real-valued targets mark a regression task; labels stay integers.
      y = getattr(self, f"y_{split}")
      if self.regression:
        y = checked_arrays.float32(f"y_{split}", y)
      else:
        y = checked_arrays.int32_labels(f"y_{split}", y, self.num_classes)
      ndims = (1, 2) if self.regression else (1,)
      if x.ndim != 2 or x.shape[1] != dim or y.ndim not in ndims or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{split} split: expected x [N, {dim}] and y [N] for image_shape "
            f"{self.image_shape}, got {x.shape} and {y.shape}"
        )
      # The dataclass is frozen: normalised arrays go in via object.__setattr__.
      object.__setattr__(self, f"x_{split}", _read_only(x))
      object.__setattr__(self, f"y_{split}", _read_only(y))
    object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))

  @functools.cached_property
  def sha256(self) -> str:
    """SHA-256 (hex) of every array (its name, dtype, shape and bytes) and the labels' meaning.

    Two datasets with the same digest hold the same examples in the same
    order: sweeps record it with each chunk they compute, so that results
    of data files changed in between are never merged silently.
    """
    digest = hashlib.sha256(f"{self.num_classes}|{self.image_shape}".encode())
    for split in ("train", "test", "val"):
      for kind in ("x", "y"):
        array = getattr(self, f"{kind}_{split}")
        if array is not None:
          digest.update(f"|{kind}_{split}|{array.dtype.str}|{array.shape}|".encode())
          digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()

  @property
  def regression(self) -> bool:
    """Whether this is a regression task (``num_classes == 0``, real targets)."""
    return self.num_classes == 0

  @property
  def num_train(self) -> int:
    return self.x_train.shape[0]

  @property
  def num_test(self) -> int:
    return self.x_test.shape[0]

  @property
  def num_val(self) -> int:
    """Validation examples (0 without a validation split)."""
    return 0 if self.x_val is None else self.x_val.shape[0]

  @property
  def dim(self) -> int:
    """Input dimension ``D`` (100 for the default 10x10 grayscale images)."""
    return self.x_train.shape[1]

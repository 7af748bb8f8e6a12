"""Preprocessing from raw images to model inputs, as docs/theory.md §2 prescribes.

Pipeline: choose a deterministic class-balanced training subset (and an
optional test subset) -> scale pixels to [0, 1] -> optionally convert colour to
grayscale -> resize -> flatten. Examples are chosen first so that only the
images that are kept get converted and resized.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools

import numpy as np

from featurespring.data._dataset import Dataset, RawData

# Images per block of `resize_images`: its float64 working copies of a block
# of MNIST images take 26 MB, of CIFAR-10 images 100 MB.
_RESIZE_BLOCK = 4096
# ITU-R BT.601 luma weights for R, G, B (what PIL's "L" mode uses).
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def stratified_indices(
    labels: np.ndarray,
    size: int,
    rng: np.random.Generator,
    num_classes: int | None = None,
) -> np.ndarray:
  """Indices of a class-balanced random subset of ``size`` examples.

  Every class gets ``size // num_classes`` examples where it has that many;
  classes short of their share give it up to the others (water-filling), and
  the ``size % num_classes`` leftover examples go to the classes with the most
  examples (ties: the higher class index). So for MNIST and 2560 examples each
  digit gets exactly 256. Within each class the examples are the first ones of
  a seeded permutation, and the returned indices are in seeded random order,
  so minibatches cut in order are mixed.

  Args:
    labels: integer labels ``[N]``.
    size: number of indices, ``0 <= size <= N``.
    rng: the only source of randomness.
    num_classes: number of classes; default ``labels.max() + 1``.

  Returns:
    int64 indices into ``labels``, no repeats.
  """
  labels = np.asarray(labels)
  if not 0 <= size <= len(labels):
    raise ValueError(f"size must lie in 0..{len(labels)}, got {size}")
  if num_classes is None:
    num_classes = int(labels.max()) + 1 if len(labels) else 0
  members = [np.flatnonzero(labels == c) for c in range(num_classes)]
  # Fill the classes from the smallest up, each taking an equal share of what
  # is still to be assigned, so a small class passes its shortfall on.
  order = sorted(range(num_classes), key=lambda c: (len(members[c]), c))
  quota = [0] * num_classes
  remaining = size
  for position, c in enumerate(order):
    quota[c] = min(len(members[c]), remaining // (num_classes - position))
    remaining -= quota[c]
  chosen = [rng.permutation(members[c])[: quota[c]] for c in range(num_classes)]
  return rng.permutation(np.concatenate(chosen + [np.zeros(0, np.int64)]))


def resize_images(images: np.ndarray, size: Sequence[int]) -> np.ndarray:
  """Resizes float images ``[N, H, W, C]`` to ``[N, size[0], size[1], C]``.

  The kernel is `jax.image.resize`'s ``method="linear"`` with
  ``antialias=True``: when shrinking, the triangle kernel is widened to the
  output pixel spacing, so each output pixel averages all input pixels it
  covers (like PIL's bilinear downscale) instead of sampling a few and aliasing
  thin strokes. The kernel weights are non-negative and sum to one, so values
  in [0, 1] stay in [0, 1] (up to rounding, which is clipped).

  It is computed in float64 NumPy with elementwise operations in a fixed order
  and rounded to float32 at the end, so the result is bit-identical on every
  host, and agrees with `jax.image.resize` to float32 rounding. That function
  itself is not host-independent: XLA:CPU sums in an order that depends on the
  CPU's vector instructions, and the same MNIST subset had two digests on two
  hosts (``Dataset.sha256``).
  """
  images = np.asarray(images, np.float32)
  height, width = size
  if images.shape[1:3] == (height, width):
    return images
  out = np.empty((images.shape[0], height, width, images.shape[3]), np.float32)
  # In blocks, so that the float64 copies stay small beside a full training set.
  for start in range(0, len(images), _RESIZE_BLOCK):
    block = images[start : start + _RESIZE_BLOCK].astype(np.float64)
    for axis, out_size in ((1, height), (2, width)):
      block = _resize_axis(block, axis, out_size)
    out[start : start + _RESIZE_BLOCK] = np.clip(block, 0.0, 1.0)
  return out


def _ordered_sum(terms) -> np.ndarray:
  """Sum of equally shaped arrays, added one at a time in the order given.

  NumPy's own reductions (``sum``, ``@``, ``einsum``) may reorder or fuse
  their additions by CPU; elementwise adds and multiplies are IEEE-rounded
  one operation at a time, so this sum is the same bits everywhere.
  """
  return functools.reduce(np.add, terms)


def _linear_weights(in_size: int, out_size: int) -> np.ndarray:
  """Float64 ``[out_size, in_size]`` weights of the antialiased triangle kernel.

  As ``jax._src.image.scale.compute_weight_mat`` for zero translation: output
  pixel ``i`` samples input coordinate ``(i + 0.5) * in / out - 0.5``, with
  the kernel widened by ``in / out`` when shrinking; each row is normalised.
  """
  inv_scale = 1.0 / (out_size / in_size)
  kernel_scale = max(inv_scale, 1.0)
  sample = (np.arange(out_size, dtype=np.float64) + 0.5) * inv_scale - 0.5
  distance = np.abs(sample[:, None] - np.arange(in_size, dtype=np.float64)) / kernel_scale
  weights = np.maximum(0.0, 1.0 - distance)
  total = _ordered_sum(weights.T)
  return weights / total[:, None]


def _resize_axis(images: np.ndarray, axis: int, out_size: int) -> np.ndarray:
  """Resamples float64 ``images`` along ``axis`` to ``out_size`` samples."""
  moved = np.moveaxis(images, axis, -1)
  weights = _linear_weights(moved.shape[-1], out_size)
  resized = _ordered_sum(moved[..., p, None] * weights[:, p] for p in range(moved.shape[-1]))
  return np.moveaxis(resized, -1, axis)


def check_resize(resize) -> tuple[int, int] | None:
  """Validates ``resize``: None or two positive ints ``(height, width)``."""
  if resize is None:
    return None
  try:
    height, width = (int(s) for s in resize)
  except (TypeError, ValueError):
    raise ValueError(f"resize must be None or (height, width), got {resize!r}") from None
  if height < 1 or width < 1 or (height, width) != tuple(resize):
    raise ValueError(f"resize must be two positive integers, got {resize!r}")
  return height, width


def _check_count(parameter: str, value, available: int, what: str) -> int:
  """Validates a subset size (None = all) against the ``available`` examples."""
  if value is None:
    return available
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise ValueError(f"{parameter} must be an int or None, got {value!r}")
  if not 1 <= value <= available:
    raise ValueError(
        f"{parameter}={value} is not available: {what} has "
        f"{available} examples, so {parameter} must lie in "
        f"1..{available} (or be None for all of them)"
    )
  return int(value)


def _to_features(images: np.ndarray, resize, grayscale: bool):
  """uint8 ``[N, H, W, C]`` -> (float32 ``[N, D]`` in [0, 1], image shape)."""
  x = images.astype(np.float32) / 255.0
  if grayscale and x.shape[-1] == 3:
    # Not ``x @ _LUMA_WEIGHTS``: BLAS picks its summation by CPU.
    x = _ordered_sum(x[..., c] * w for c, w in enumerate(_LUMA_WEIGHTS))[..., None]
  if resize is not None:
    x = resize_images(x, resize)
  return x.reshape(x.shape[0], -1), x.shape[1:]


def preprocess(
    raw: RawData,
    *,
    name: str,
    resize: Sequence[int] | None = (10, 10),
    num_train: int | None = 2560,
    num_test: int | None = None,
    seed: int = 0,
    grayscale: bool = False,
    num_val: int = 0,
) -> Dataset:
  """Turns raw images into a `Dataset` (docs/theory.md §2: 10x10, flat, 2560 examples).

  Args:
    raw: images and labels as read from disk.
    name: the dataset's name, stored in the result.
    resize: output ``(height, width)``, or None to keep the stored size.
    num_train: size of the training subset, chosen class-balanced by
      `stratified_indices`; None keeps every training example (not allowed
      when ``raw`` has no test split).
    num_test: size of the test set; None keeps all of it. A smaller test set is
      a class-balanced subset, chosen with randomness independent of the
      training subset's. If ``raw`` has no test split, the test set is taken
      from the training examples the training subset leaves out.
    seed: non-negative int; the same seed gives the same subsets.
    grayscale: convert colour images to one luma channel (BT.601 weights)
      before resizing; a no-op for grayscale images.
    num_val: size of a class-balanced validation set held out from the
      training pool's examples that the training subset leaves out (so
      disjoint from it), chosen with randomness of its own: the training
      subset does not depend on ``num_val``. 0: none. Without a separate test
      split the test set is what training and validation leave.

  Returns:
    A `Dataset`; the training set is in seeded random order, the test and
    validation sets in stored order.

  Raises:
    ValueError: a subset larger than the data, or an invalid argument.
  """
  resize = check_resize(resize)
  if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f"seed must be a non-negative int, got {seed!r}")
  # Separate streams for the subsets, so that num_test does not change the
  # training subset and vice versa. The validation stream is a third child:
  # spawning it later leaves the first two (and every result without a
  # validation split) as they were.
  root = np.random.SeedSequence(int(seed))
  train_seq, test_seq = root.spawn(2)
  (val_seq,) = root.spawn(1)

  num_pool = len(raw.y_train)
  if isinstance(num_val, bool) or not isinstance(num_val, (int, np.integer)) or num_val < 0:
    raise ValueError(f"num_val must be an int >= 0 (0: no validation split), got {num_val!r}")
  # Examples the training subset must leave: the validation set, and without
  # a test split at least one for the test set.
  held_out = int(num_val) + (1 if raw.x_test is None else 0)
  if raw.x_test is None and num_train is None:
    raise ValueError(
        f"num_train=None would use all {num_pool} examples of {name}, which "
        "has no separate test split, leaving no test set; pass num_train "
        f"in 1..{num_pool - held_out}"
    )
  if num_train is None and num_val:
    raise ValueError(
        f"num_train=None would use all {num_pool} training examples of {name}, "
        f"leaving none for num_val={num_val}; pass num_train in "
        f"1..{num_pool - held_out}"
    )
  what = f"{name}'s training split"
  if raw.x_test is None:
    what = f"{name} (keeping at least one for the test set"
    what += f" and num_val={num_val} for validation)" if num_val else ")"
  elif num_val:
    what += f" (keeping num_val={num_val} for validation)"
  num_train = _check_count("num_train", num_train, num_pool - held_out, what)
  train_idx = stratified_indices(
      raw.y_train, num_train, np.random.default_rng(train_seq), raw.num_classes
  )
  unused = np.ones(num_pool, bool)
  unused[train_idx] = False
  val_idx = np.zeros(0, np.int64)
  if num_val:
    pool = np.flatnonzero(unused)
    val_idx = np.sort(
        pool[
            stratified_indices(
                raw.y_train[pool], num_val, np.random.default_rng(val_seq), raw.num_classes
            )
        ]
    )
    unused[val_idx] = False

  if raw.x_test is None:
    test_pool = np.flatnonzero(unused)
    x_test_all, y_test_all = raw.x_train[test_pool], raw.y_train[test_pool]
  else:
    x_test_all, y_test_all = raw.x_test, raw.y_test
  num_test = _check_count("num_test", num_test, len(y_test_all), f"{name}'s test set")
  if num_test < len(y_test_all):
    test_idx = np.sort(
        stratified_indices(
            y_test_all,
            num_test,
            np.random.default_rng(test_seq),
            raw.num_classes,
        )
    )
    x_test_all, y_test_all = x_test_all[test_idx], y_test_all[test_idx]

  x_train, image_shape = _to_features(raw.x_train[train_idx], resize, grayscale)
  x_test, _ = _to_features(x_test_all, resize, grayscale)
  validation = {}
  if num_val:
    x_val, _ = _to_features(raw.x_train[val_idx], resize, grayscale)
    validation = {"x_val": x_val, "y_val": raw.y_train[val_idx]}
  return Dataset(
      x_train=x_train,
      y_train=raw.y_train[train_idx],
      x_test=x_test,
      y_test=y_test_all,
      num_classes=raw.num_classes,
      name=name,
      image_shape=image_shape,
      **validation,
  )

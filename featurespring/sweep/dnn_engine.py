"""Populations of networks as a sweep engine (docs/theory.md §2).

Fields of ``config.dnn``: the dataset (``featurespring.data.load``), the
static training settings (:class:`featurespring.train.Config`: model, depth,
width, batch size, optimiser ...), the per-net hyperparameters
(:class:`featurespring.train.HParams`: ``alpha``, ``dropout``,
``learning_rate``, ``noise``, ``init_scale``; these vary across a compiled
batch) and ``num_epochs``. A unit is one epoch: chunks checkpoint every
``config.checkpoint_every`` epochs and resume exactly.

Results per member, named as everywhere (`featurespring.vocabulary`):
``load_curve`` (train-set separation ``D_l`` after training, ``[L+1]``),
``curvature``, ``spread``, ``accuracy`` (full test set), ``load_curve_test``,
``load_curve_pinv`` / ``_pinv_test``, ``curvature_test``, ``curvature_pinv`` /
``_pinv_test``, ``accuracy_train``, ``stop_epoch``, ``diverged``, and
``history/<name>`` (``[E, ...]``, the epochs 1..E being the snapshot
coordinate) for every per-epoch metric of ``train_epochs``
(``history/load_curve``, ``history/accuracy``, ``history/loss`` ...); with
``eval_every_steps = n > 0`` also ``history/steps/<name>`` (``[E, S, ...]``,
``S`` evaluations per epoch, one after every n-th step) and
``history/steps/step`` (each net's step count at them).

With a validation split (``num_val > 0``, held out of the training pool by
`featurespring.data.load`) also ``accuracy_val`` and ``loss_val`` (final
epoch, eval mode) beside ``history/accuracy_val`` and ``history/loss_val``. With
the load-curve controller on (``control_every > 0``, see
`featurespring.train.controller`) also ``control_final`` (each net's knob
after its last update) and ``control_saturated`` (how many of its updates
left the knob at a bound with the error pushing past it), beside
``history/control/*``.

Regression (``config.dnn.regression`` names a target of
`featurespring.data.regression_targets`; needs ``loss='mse'``):
the load curves are the regression load (`metrics.regression_load`, the RMSE
of the best affine fit from each layer) instead of the separation, there is
no accuracy and no pinv curve, and ``rmse`` is the net's own test RMSE.

Dropout raised mid-training: with ``dropout_switch_epoch = e > 0``
every net trains its first ``e`` epochs with ``dropout``, then continues with
``dropout_switch_rate`` (a per-net field, so a grid over it compares several
raised rates, 0 among them, in one compile). Nets that stopped early before
the switch are woken up: the switch is meant to resume a converged training.
The switch is a function of the epoch count alone, so a run checkpointed and
resumed at any epoch equals an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from featurespring import data as data_lib
from featurespring import metrics
from featurespring import schema
from featurespring import sharding
from featurespring import summaries
from featurespring import vocabulary
from featurespring import train
from featurespring.sweep import engine as engine_lib
from featurespring import grids as grid_lib
from featurespring.sweep import memory
from featurespring.train import step as step_lib


@dataclasses.dataclass(frozen=True)
class DataChoice:
  """The dataset of a network sweep (its other data settings are `data.load`'s).

  Attributes:
    dataset: mnist | fashion_mnist | cifar10 | mnist_embedded | synthetic |
      orthogonal_binary (see `featurespring.data.load`).
  """

  dataset: str = "mnist"


# data.load keyword arguments that a sweep sets (seed named data_seed: the
# sweep's seed axis is the nets' own).
_LOAD_ARGS = (
    "data_dir",
    "source",
    "tfds_data_dir",
    "verify",
    "resize",
    "num_train",
    "num_test",
    "seed",
    "grayscale",
    "regression",
    "num_val",
)
# train.Config fields that follow from the data or the grid, not settings.
_DERIVED_TRAIN_FIELDS = ("image_shape", "regression", "num_classes", "use_dropout", "use_noise")


def settings() -> list[schema.Setting]:
  """Every ``config.dnn`` field, each defined once where the engine uses it:
  the dataset, `data.load`'s arguments, `train.Config`, `train.HParams`
  (the seed is the grid's seed axis) and `train.schedule.Schedule`."""

  return (
      schema.dataclass_settings(DataChoice)
      + schema.signature_settings(data_lib.load, include=_LOAD_ARGS, rename={"seed": "data_seed"})
      + schema.dataclass_settings(train.Config, exclude=_DERIVED_TRAIN_FIELDS)
      + schema.dataclass_settings(train.HParams, exclude=("seed",))
      + schema.dataclass_settings(train.Schedule)
  )


def default_config() -> ml_collections.ConfigDict:
  """``config.dnn`` defaults: the paper's default experiment (docs/theory.md §2, SM S3)."""
  return schema.to_config(settings())


def _field_names(cls, exclude=()) -> tuple[str, ...]:
  return tuple(f.name for f in dataclasses.fields(cls) if f.name not in exclude)


def _train_fields() -> tuple[str, ...]:

  return _field_names(train.Config, _DERIVED_TRAIN_FIELDS)


def hparam_fields() -> tuple[str, ...]:
  """Per-net hyperparameters (``train.HParams``, minus the seed)."""

  return _field_names(train.HParams, ("seed",))


def _per_net_fields() -> tuple[str, ...]:
  """Fields that vary across a compiled batch (the others change the program)."""

  return hparam_fields() + train.schedule.PER_NET_FIELDS


@functools.lru_cache(maxsize=4)
def _load_data(data_settings: tuple):
  """Dataset as host and device arrays; cached so static groups share it."""

  settings = dict(data_settings)
  try:
    dataset = data_lib.load(
        settings["dataset"],
        data_dir=settings["data_dir"] or None,
        source=settings["source"],
        tfds_data_dir=settings["tfds_data_dir"] or None,
        verify=settings["verify"],
        resize=tuple(settings["resize"]) or None,
        num_train=settings["num_train"],
        num_test=settings["num_test"],
        seed=settings["data_seed"],
        grayscale=settings["grayscale"],
        regression=settings["regression"] or None,
        num_val=settings["num_val"],
    )
  except (FileNotFoundError, ValueError) as err:
    # data.load names its keyword arguments; a sweep sets them as config.dnn fields.
    message = re.sub(r"\b(source|data_dir|verify|tfds_data_dir)=", r"--config.dnn.\1=", str(err))
    message = message.replace("Set data_dir", "Set --config.dnn.data_dir")
    raise type(err)(message) from err
  return dataset, train.Data.create(
      dataset.x_train,
      dataset.y_train,
      dataset.x_test,
      dataset.y_test,
      dataset.x_val,
      dataset.y_val,
  )


class DnnEngine(engine_lib.Engine):
  """Networks, one per member, trained together by ``featurespring.train``."""

  name = "dnn"
  unit_name = "epoch"
  member_name = "net"
  # Nets hold activations for the whole training + test set at evaluation.
  default_chunk_size = 128

  @classmethod
  def settings(cls):
    return settings()

  @classmethod
  def output_dims(cls, key, trailing_ndim):
    # Per-epoch histories lead with the epoch, per-step ones then the step
    # within it; what is left of a history is the layer.
    if key.startswith("history/steps/"):
      return ("epoch", "step") + ("layer",) * max(trailing_ndim - 2, 0)
    if key.startswith("history/"):
      return ("epoch",) + ("layer",) * max(trailing_ndim - 1, 0)
    return ("layer",)[:trailing_ndim]

  @classmethod
  def runlocal(cls, config):
    """A 3 x 16 network for 2 epochs on 256 examples; file-backed datasets
    become the embedded MNIST subset (built-in ones are kept); a dropout
    switch moves to epoch 1; a validation split holds at most 128; the
    controller reads every epoch and acts from epoch 1."""
    dnn = config.dnn
    if dnn.dataset == "orthogonal_binary":
      # Its examples are rows of a dim x dim matrix: at most dim of them.
      dnn.num_train, dnn.num_test = min(dnn.num_train, 100), min(dnn.num_test or 100, 100)
    else:
      if dnn.dataset not in ("synthetic", "mnist_embedded"):
        dnn.dataset = "mnist_embedded"  # no files needed
      dnn.num_train = dnn.num_test = 256
    dnn.test_eval_size = None
    dnn.depth, dnn.width, dnn.num_epochs, dnn.eval_every = 3, 16, 2, 1
    dnn.batch_size = min(dnn.batch_size, dnn.num_train)
    if dnn.dropout_switch_epoch:
      dnn.dropout_switch_epoch = 1
    if "batch_size" in config.grid:
      config.grid.batch_size = tuple(
          dict.fromkeys(min(b, dnn.num_train) for b in config.grid.batch_size)
      )
    if dnn.eval_every_steps:
      # At most the steps per epoch of the largest batch.
      largest = max(config.grid.get("batch_size", (dnn.batch_size,)))
      dnn.eval_every_steps = min(dnn.eval_every_steps, dnn.num_train // largest)
    if dnn.num_val:
      dnn.num_val = min(dnn.num_val, 128)
    if dnn.control_every:
      dnn.control_every, dnn.control_warmup = 1, min(dnn.control_warmup, 1)
    dnn.resize = (10, 10)
    dnn.grayscale = False
    config.checkpoint_every = 1
    return config

  @classmethod
  def static_fields_of(cls, config):
    # Everything but the per-net hyperparameters changes the program.
    return tuple(f for f in config.dnn.keys() if f not in _per_net_fields())

  @classmethod
  def num_units(cls, config):
    return int(config.dnn.num_epochs)

  @classmethod
  def validate(cls, config, grid):
    super().validate(config, grid)

    c = config.dnn
    points = grid.points(np.arange(grid.size))
    use = cls._use_flags(c, points)
    for fields in cls.static_groups(config, grid):
      try:
        train_config = cls._train_config(fields, num_classes=10, **use)
        train.hparams.validate_config(train_config, int(fields.num_train))
      except ValueError as err:
        raise ValueError(f"config.dnn: {err}") from err
    try:
      train.hparams.validate_hparams(cls._hparams(c, points), train_config)
    except ValueError as err:
      raise ValueError(f"config.dnn / config.grid: {err}") from err
    try:
      train.schedule.validate(
          c.num_epochs,
          c.eval_every,
          c.dropout_switch_epoch,
          points.get("dropout_switch_rate", c.dropout_switch_rate),
          train_config,
      )
    except ValueError as err:
      raise ValueError(f"config.dnn.{err}") from err
    gains = np.asarray(points.get("control_gain", c.control_gain))
    if c.control_every and np.any(gains > 0) and int(c.control_warmup) >= int(c.num_epochs):
      raise ValueError(
          f"config.dnn.control_warmup must be in [0, num_epochs) = [0, {c.num_epochs}) "
          f"for the controller (control_gain > 0) to act, got {c.control_warmup}"
      )

  @staticmethod
  def _use_flags(c, points) -> dict:
    # Decided once for the whole sweep, not per chunk, so that a net's random
    # draws never depend on which other nets share its chunk.
    value = lambda f: points[f] if f in points else c[f]
    dropout = np.asarray(value("dropout"))
    if int(c.dropout_switch_epoch) > 0:
      dropout = np.append(dropout, value("dropout_switch_rate"))
    return {
        "use_dropout": bool(np.any(dropout > 0)),
        "use_noise": bool(np.any(np.asarray(value("noise")) > 0)),
    }

  @staticmethod
  def _train_config(fields, num_classes, image_shape=None, **use):

    settings = {f: fields[f] for f in _train_fields()}
    settings["regression"] = bool(fields.regression)
    if image_shape is not None:
      settings["image_shape"] = tuple(image_shape)
    return train.Config(num_classes=num_classes, **settings, **use)

  @staticmethod
  def _hparams(c, points):

    return train.HParams.create(
        seed=points[grid_lib.SEED_AXIS],
        **{f: points[f] if f in points else c[f] for f in hparam_fields()},
    )

  def __init__(self, config, static, grid):
    super().__init__(config, static, grid)
    fields = ml_collections.ConfigDict(config.dnn.to_dict())
    fields.update(static)
    self.fields = fields
    use = self._use_flags(config.dnn, grid.points(np.arange(grid.size)))
    data_settings = tuple(
        (f, fields[f]) for f in ("dataset", "data_seed") + _LOAD_ARGS if f != "seed"
    )
    self.dataset, self.data = _load_data(data_settings)
    self._data_identity = {
        "settings": json.loads(json.dumps(dict(data_settings))),  # tuples as JSON lists
        "sha256": self.dataset.sha256,
    }
    self.train_config = self._train_config(
        fields,
        self.dataset.num_classes,
        image_shape=self.dataset.image_shape if fields.model == "cnn" else None,
        **use,
    )

  def data_identity(self):
    return self._data_identity

  def init(self, points: Mapping[str, jax.Array]):

    hparams = train.HParams(
        **{
            f: jnp.asarray(points[f])
            if f in points
            else jnp.full_like(points["seed"], self.fields[f], jnp.float32)
            for f in hparam_fields() + ("seed",)
        }
    )
    nets = train.init(self.train_config, hparams, self.data)
    state = {"nets": nets}
    if self._switch_epoch:
      f = "dropout_switch_rate"
      state[f] = (
          jnp.asarray(points[f], jnp.float32)
          if f in points
          else jnp.full_like(points["seed"], self.fields[f], jnp.float32)
      )
    # Per-epoch metrics go into preallocated [P, num_epochs, ...] arrays so
    # the state keeps one shape for checkpoints.
    shapes = jax.eval_shape(
        functools.partial(train.loop.train_epochs_impl, num_epochs=1), nets, self.data
    )[1]
    num_epochs = self.total_units
    history = {
        k: jnp.full(
            (s.shape[0], num_epochs) + s.shape[2:],
            np.nan if jnp.issubdtype(s.dtype, jnp.floating) else 0,
            s.dtype,
        )
        for k, s in shapes.items()
    }
    return {**state, "history": history, "epoch": jnp.zeros((), jnp.int32)}

  @property
  def _switch_epoch(self) -> int:
    return int(self.fields.dropout_switch_epoch)

  def advance(self, state, num_units):

    nets, segments = train.schedule.train_scheduled(
        state["nets"],
        self.data,
        int(state["epoch"]),
        int(num_units),
        self._switch_epoch,
        state.get("dropout_switch_rate"),
    )
    history = state["history"]
    for start, new in segments:
      history = _write_epochs(history, new, jnp.asarray(start, jnp.int32))
    return {**state, "nets": nets, "history": history, "epoch": state["epoch"] + num_units}

  def member_bytes(self):
    """A network's state (held twice) plus its largest transient step."""

    config, data = self.train_config, self.data
    model = step_lib.make_model(config, step_lib.output_size(config, data.y_train))
    # Shapes only (traced, nothing compiled or allocated): parameters and
    # BatchNorm statistics, the optimiser's state, one example's features.
    example = jax.ShapeDtypeStruct((1,) + data.x_train.shape[1:], data.x_train.dtype)
    variables = jax.eval_shape(model.init, jax.random.key(0), example, 0.0)
    opt_state = jax.eval_shape(step_lib.make_optimizer(config).init, variables["params"])
    _, features = jax.eval_shape(
        lambda v, x: model.apply(v, x, 0.0, train=False), variables, example
    )
    num_test = data.x_test.shape[0]
    if config.test_eval_size is not None:
      num_test = min(num_test, config.test_eval_size)
    transient = memory.activation_bytes(
        config.model,
        evaluated=data.x_train.shape[0] + num_test,
        batch=config.batch_size,
        example_features_bytes=memory.tree_bytes(features),
        example_widest_layer_bytes=max(memory.tree_bytes(f) for f in features),
    )
    # The per-epoch metric history is left out: kilobytes per net.
    return memory.STATE_COPIES * memory.tree_bytes((variables, opt_state)) + transient

  def shared_bytes(self):
    """The dataset and its concatenated evaluation copy."""

    return 2 * memory.tree_bytes(self.data)

  def scalars(self, state, num_members, start, end):
    """Per epoch: quantiles over the nets that have not diverged (evaluated epochs only)."""
    host = lambda key: sharding.to_host(state["history"][key])[:num_members, start:end]
    history = {k: host(k) for k in _SUMMARISED if k in state["history"]}
    diverged = host("diverged").astype(bool)
    out = []
    for i in range(end - start):
      scalars = {
          "diverged/fraction": float(diverged[:, i].mean()),
          "stopped/fraction": float(host("stopped")[:, i].mean()),
      }
      for key, values in history.items():
        values = values[:, i]
        if key.startswith("load_curve"):
          values = np.asarray(metrics.curvature(values))
          key = key.replace("load_curve", "curvature")
        scalars.update(summaries.quantiles(key, values, ~diverged[:, i]))
      out.append((start + i + 1, scalars))
    return out

  def summary(self, state, num_members):
    return _population_summary(state["nets"], state["history"], int(state["epoch"]), num_members)

  def finalize(self, state):

    nets, history = state["nets"], state["history"]
    outputs = {vocabulary.history(k): v for k, v in history.items()}
    outputs.update({"stop_epoch": nets.stop_epoch, "diverged": nets.diverged})
    # The last epoch's metrics are the final ones (an early-stopped net is
    # frozen); only a capped per-epoch test set needs a full evaluation.
    final = {k: v[:, -1] for k, v in history.items()}
    if self.train_config.test_eval_size is not None:
      full = train.evaluate(nets, self.dataset.x_test, self.dataset.y_test)
      final.update({vocabulary.metric_name(k, "test"): v for k, v in full.items()})
    outputs.update(self._extra_outputs(nets, history, final))
    curves = ["load_curve", "load_curve_test"]
    if self.train_config.regression:
      outputs["rmse"] = jnp.sqrt(final["loss_test"])
    else:
      curves += ["load_curve_pinv", "load_curve_pinv_test"]
      outputs.update({"accuracy": final["accuracy"], "accuracy_train": final["accuracy_train"]})
    for name in curves:
      outputs[name] = final[name]
      outputs[name.replace("load_curve", "curvature")] = metrics.curvature(final[name])
    outputs["spread"] = metrics.spread(final["load_curve"])
    return outputs

  def _extra_outputs(self, nets, history, final) -> dict:
    """Validation and controller outputs, where the sweep has them."""
    outputs = {}
    for name in ("loss_val", "accuracy_val"):
      if name in final:
        outputs[name] = final[name]
    if "control/saturated" in history:
      outputs["control_final"] = getattr(nets.hparams, self.train_config.control_knob)
      outputs["control_saturated"] = jnp.sum(history["control/saturated"], axis=1)
    return outputs


# Per-epoch metrics whose quantiles the live summaries carry (load curves as
# their curvature).
_SUMMARISED = ("loss", "loss_test", "accuracy", "accuracy_train", "load_curve", "load_curve_test")


def _population_summary(nets, history, epoch: int, num_members: int) -> str:
  """Loss and accuracy quantiles, nets stopped and diverged (host NumPy)."""

  host = lambda leaf: sharding.to_host(leaf)[:num_members]
  quantiles = lambda v: "/".join(f"{q:.3g}" for q in np.nanquantile(v, (0.1, 0.5, 0.9)))
  diverged, stopped = host(nets.diverged), host(nets.stopped)
  loss = host(nets.last_loss)
  parts = [f"train loss q10/50/90 {quantiles(loss[~diverged]) if (~diverged).any() else '-'}"]
  for key, label in (("accuracy_train", "acc train"), ("accuracy", "acc test")):
    if key in history:
      # The last evaluated epoch (eval_every may skip some; NaN there).
      values = host(history[key])[:, :epoch]
      evaluated = np.flatnonzero(np.isfinite(values).any(axis=0))
      if evaluated.size and (~diverged).any():
        parts.append(f"{label} {quantiles(values[~diverged, evaluated[-1]])}")
  if "control/saturated" in history and epoch:
    # At the controller's latest reading (the last epoch may not be one).
    read = np.flatnonzero(np.isfinite(host(history["control/curvature"])[:, :epoch]).any(axis=0))
    if read.size:
      saturated = host(history["control/saturated"])[:, read[-1]]
      parts.append(f"knob saturated {int(saturated.sum())}/{num_members}")
  parts.append(
      f"stopped {int(stopped.sum())}/{num_members}, "
      f"diverged {int(diverged.sum())}/{num_members}"
  )
  return " | ".join(parts)


@jax.jit
def _write_epochs(history, new, start):
  """Writes ``new`` ``[P, E, ...]`` metrics into ``history`` at epoch ``start``."""
  return {
      k: jax.lax.dynamic_update_slice_in_dim(
          history[k], new[k].astype(history[k].dtype), start, axis=1
      )
      for k in history
  }

"""Populations of networks as a sweep engine (SPEC §2; paper Fig. 1, S4–S11).

Fields of ``config.dnn``: the dataset (``featurespring.data.load``), the
static training settings (:class:`featurespring.train.Config`: model, depth,
width, batch size, optimiser ...), the per-net hyperparameters
(:class:`featurespring.train.HParams`: ``alpha``, ``dropout``,
``learning_rate``, ``noise``, ``init_scale``; these vary across a compiled
batch) and ``num_epochs``. A unit is one epoch: chunks checkpoint every
``config.checkpoint_every`` epochs and resume exactly.

Results per member (names shared with the springs engine where they mean the
same): ``load_curve`` (train-set separation ``D_l`` after training,
``[L+1]``), ``curvature``, ``spread``, ``accuracy`` (full test set),
``load_curve_test``, ``load_curve_pinv`` / ``_pinv_test``, ``curvature_test``,
``curvature_pinv`` / ``_pinv_test``, ``accuracy_train``, ``stop_epoch``,
``diverged``, ``trajectory`` (train load curve after every epoch,
``[E, L+1]``), ``trajectory_test``, ``trajectory_time`` (epochs, ``[E]``), and
``history/<metric>`` for every per-epoch metric of ``train_epochs``; with
``eval_every_steps = n > 0`` also ``history/steps/<metric>`` (``[E, S, ...]``,
``S`` evaluations per epoch, one after every n-th step) and
``history/steps/step`` (each net's step count at them).

Regression (``config.dnn.regression`` names a target of
`featurespring.data.regression_targets`, paper S12; needs ``loss='mse'``):
the load curves are the regression load (`metrics.regression_load`, the RMSE
of the best affine fit from each layer) instead of the separation, there is
no accuracy and no pinv curve, and ``rmse`` is the net's own test RMSE.

Dropout raised mid-training (paper S2): with ``dropout_switch_epoch = e > 0``
every net trains its first ``e`` epochs with ``dropout``, then continues with
``dropout_switch_rate`` (a per-net field, so a grid over it compares several
raised rates, 0 among them, in one compile). Nets that stopped early before
the switch are woken up: the switch is meant to resume a converged training.
The switch is a function of the epoch count alone, so a run checkpointed and
resumed at any epoch equals an uninterrupted one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from featurespring import metrics
from featurespring.sweep import engine as engine_lib
from featurespring.sweep import grid as grid_lib

# config.dnn fields that go to featurespring.data.load.
_DATA_FIELDS = ("dataset", "data_dir", "resize", "num_train", "num_test",
                "data_seed", "grayscale", "regression")
# config.dnn fields that go to featurespring.train.Config.
_TRAIN_FIELDS = ("model", "depth", "width", "batch_norm", "init_scheme", "use_bias",
                 "batch_size", "optimizer", "loss", "early_stop_loss",
                 "early_stop_delta", "divergence_factor", "stop_normalised_gradients",
                 "test_eval_size", "eval_every",
                 "eval_every_steps")
# Per-net hyperparameters (featurespring.train.HParams, minus the seed).
HPARAM_FIELDS = ("alpha", "dropout", "learning_rate", "noise", "init_scale")
# Other per-net fields: held in the engine's state, not in HParams.
_PER_NET_FIELDS = HPARAM_FIELDS + ("dropout_switch_rate",)


def default_config() -> ml_collections.ConfigDict:
  """``config.dnn`` defaults: the paper's default experiment (SPEC §2, SM S3)."""
  c = ml_collections.ConfigDict()
  c.dataset = "mnist"           # mnist | fashion_mnist | cifar10 | mnist_embedded | synthetic
                                # | orthogonal_binary
  c.regression = ""             # '' classification, else a regression target: teacher | digit
  c.data_dir = ""               # '' = $FEATURESPRING_DATA_DIR, else ../shared/data
  c.resize = (10, 10)           # images resized to (height, width), then flattened
  c.num_train = 2560            # class-balanced training subset
  c.num_test = 0                # test examples (0 = the whole test split)
  c.data_seed = 0               # seed of the training subset
  c.grayscale = False           # colour images to luma (CIFAR-10)
  c.model = "mlp"               # mlp | cnn
  c.depth = 7                   # hidden layers (load curve has depth + 1 points)
  c.width = 100                 # hidden units (MLP) or channels (CNN)
  c.batch_norm = True           # BatchNorm (else the variance-preserving constant)
  c.init_scheme = "torch"       # torch | lecun | orthogonal
  c.use_bias = True             # biases in the linear layers
  c.batch_size = 2560           # examples per step (full batch by default)
  c.optimizer = "adam"          # any optax optimiser taking learning_rate
  c.loss = "cross_entropy"      # cross_entropy | mse
  c.early_stop_loss = 1e-4      # a net stops when its epoch's train loss is below...
  c.early_stop_delta = 1e-10    # ... or changes by less than this
  c.divergence_factor = 1e3     # diverged: a step loss above this x the first one (0 = off)
  c.stop_normalised_gradients = True  # no gradient into biases a BatchNorm removes
  c.test_eval_size = 0          # test examples in the per-epoch metrics (0 = all)
  c.eval_every = 1              # metrics after every n-th epoch (NaN between); divides num_epochs
  c.eval_every_steps = 0        # also after every n-th step of each epoch (0 = off): history/steps/
  c.alpha = 0.0                 # LeakyReLU slope (1 - nonlinearity): 0 ReLU, 1 linear
  c.dropout = 0.0               # dropout rate after each hidden activation
  c.learning_rate = 1e-3        # optimiser step size
  c.noise = 0.0                 # label + data noise level n (SPEC §2(a))
  c.init_scale = 1.0            # multiplier on the initial weights
  c.num_epochs = 100            # epochs per net
  c.dropout_switch_epoch = 0    # after this many epochs (0 = never) dropout becomes...
  c.dropout_switch_rate = 0.0   # ... this rate (per net; paper S2)
  return c


@functools.lru_cache(maxsize=4)
def _load_data(data_settings: tuple):
  """Dataset as host and device arrays; cached so static groups share it."""
  from featurespring import data as data_lib  # pylint: disable=g-import-not-at-top
  from featurespring import train  # pylint: disable=g-import-not-at-top
  settings = dict(data_settings)
  dataset = data_lib.load(
      settings["dataset"], data_dir=settings["data_dir"] or None,
      resize=tuple(settings["resize"]) or None, num_train=settings["num_train"],
      num_test=settings["num_test"] or None, seed=settings["data_seed"],
      grayscale=settings["grayscale"], regression=settings["regression"] or None)
  return dataset, train.Data.create(dataset.x_train, dataset.y_train,
                                    dataset.x_test, dataset.y_test)


class DnnEngine(engine_lib.Engine):
  """Networks, one per member, trained together by ``featurespring.train``."""

  name = "dnn"
  unit_name = "epoch"
  # Nets hold activations for the whole training + test set at evaluation.
  default_chunk_size = 128

  @classmethod
  def default_config(cls):
    return default_config()

  @classmethod
  def output_dims(cls, key, trailing_ndim):
    # Per-epoch histories lead with the epoch, per-step ones then the step
    # within it; what is left of a history or trajectory is the layer.
    if key.startswith("history/steps/"):
      return ("epoch", "step") + ("layer",) * max(trailing_ndim - 2, 0)
    if key.startswith(("history/", "trajectory")):
      return ("epoch",) + ("layer",) * max(trailing_ndim - 1, 0)
    return ("layer",)[:trailing_ndim]

  @classmethod
  def runlocal(cls, config):
    """A 3 x 16 network for 2 epochs on 256 examples; file-backed datasets
    become the embedded MNIST subset (built-in ones are kept); a dropout
    switch moves to epoch 1."""
    dnn = config.dnn
    if dnn.dataset == "orthogonal_binary":
      # Its examples are rows of a dim x dim matrix: at most dim of them.
      dnn.num_train, dnn.num_test = min(dnn.num_train, 100), min(dnn.num_test or 100, 100)
    else:
      if dnn.dataset not in ("synthetic", "mnist_embedded"):
        dnn.dataset = "mnist_embedded"  # no files needed
      dnn.num_train = dnn.num_test = 256
    dnn.test_eval_size = 0
    dnn.depth, dnn.width, dnn.num_epochs, dnn.eval_every = 3, 16, 2, 1
    dnn.batch_size = min(dnn.batch_size, dnn.num_train)
    if dnn.dropout_switch_epoch:
      dnn.dropout_switch_epoch = 1
    if "batch_size" in config.grid:
      config.grid.batch_size = tuple(dict.fromkeys(min(b, dnn.num_train)
                                                   for b in config.grid.batch_size))
    if dnn.eval_every_steps:
      # At most the steps per epoch of the largest batch.
      largest = max(config.grid.get("batch_size", (dnn.batch_size,)))
      dnn.eval_every_steps = min(dnn.eval_every_steps, dnn.num_train // largest)
    dnn.resize = (10, 10)
    dnn.grayscale = False
    config.checkpoint_every = 1
    return config

  @classmethod
  def static_fields_of(cls, config):
    # Everything but the per-net hyperparameters changes the program.
    return tuple(f for f in config.dnn.keys() if f not in _PER_NET_FIELDS)

  @classmethod
  def num_units(cls, config):
    return int(config.dnn.num_epochs)

  @classmethod
  def validate(cls, config):
    super().validate(config)
    from featurespring import train  # pylint: disable=g-import-not-at-top
    c = config.dnn
    if int(c.num_epochs) < 1:
      raise ValueError(f"config.dnn.num_epochs must be >= 1, got {c.num_epochs}")
    if int(c.eval_every) < 1 or int(c.num_epochs) % int(c.eval_every):
      raise ValueError(f"config.dnn.eval_every must be >= 1 and divide num_epochs = "
                       f"{c.num_epochs} (the final metrics come from the last epoch), "
                       f"got {c.eval_every}")
    if not 0 <= int(c.dropout_switch_epoch) < int(c.num_epochs):
      raise ValueError(f"config.dnn.dropout_switch_epoch must be in [0, num_epochs) "
                       f"= [0, {c.num_epochs}), got {c.dropout_switch_epoch}")
    grid = grid_lib.Grid.from_config(config)
    points = grid.points(np.arange(grid.size))
    use = cls._use_flags(c, points)
    for fields in cls.static_groups(config):
      try:
        train_config = cls._train_config(fields, num_classes=10, **use)
        train.hparams.validate_config(train_config, int(fields.num_train))
      except ValueError as err:
        raise ValueError(f"config.dnn: {err}") from err
    try:
      train.hparams.validate_hparams(cls._hparams(c, points), train_config)
    except ValueError as err:
      raise ValueError(f"config.dnn / config.grid: {err}") from err
    rates = points.get("dropout_switch_rate", c.dropout_switch_rate)
    if int(c.dropout_switch_epoch) == 0 and np.any(np.asarray(rates) != 0):
      raise ValueError("config.dnn.dropout_switch_rate is set but "
                       "dropout_switch_epoch is 0 (never); set the epoch")
    try:
      # The raised rates obey the same range as any dropout rate.
      train.hparams.validate_hparams(train.HParams.create(dropout=rates), train_config)
    except ValueError as err:
      raise ValueError(f"config.dnn.dropout_switch_rate: {err}") from err

  @staticmethod
  def _use_flags(c, points) -> dict:
    # Decided once for the whole sweep, not per chunk, so that a net's random
    # draws never depend on which other nets share its chunk.
    value = lambda f: points[f] if f in points else c[f]
    dropout = np.asarray(value("dropout"))
    if int(c.dropout_switch_epoch) > 0:
      dropout = np.append(dropout, value("dropout_switch_rate"))
    return {"use_dropout": bool(np.any(dropout > 0)),
            "use_noise": bool(np.any(np.asarray(value("noise")) > 0))}

  @staticmethod
  def _train_config(fields, num_classes, image_shape=None, **use):
    from featurespring import train  # pylint: disable=g-import-not-at-top
    settings = {f: fields[f] for f in _TRAIN_FIELDS}
    settings["test_eval_size"] = settings["test_eval_size"] or None
    settings["regression"] = bool(fields.regression)
    if image_shape is not None:
      settings["image_shape"] = tuple(image_shape)
    return train.Config(num_classes=num_classes, **settings, **use)

  @staticmethod
  def _hparams(c, points):
    from featurespring import train  # pylint: disable=g-import-not-at-top
    return train.HParams.create(seed=points[grid_lib.SEED_AXIS], **{
        f: points[f] if f in points else c[f] for f in HPARAM_FIELDS})

  def __init__(self, config, static):
    super().__init__(config, static)
    fields = ml_collections.ConfigDict(config.dnn.to_dict())
    fields.update(static)
    self.fields = fields
    grid = grid_lib.Grid.from_config(config)
    use = self._use_flags(config.dnn, grid.points(np.arange(grid.size)))
    self.dataset, self.data = _load_data(tuple((f, fields[f]) for f in _DATA_FIELDS))
    self.train_config = self._train_config(
        fields, self.dataset.num_classes,
        image_shape=self.dataset.image_shape if fields.model == "cnn" else None, **use)

  def init(self, points: Mapping[str, jax.Array]):
    from featurespring import train  # pylint: disable=g-import-not-at-top
    hparams = train.HParams(**{f: jnp.asarray(points[f]) if f in points else
                               jnp.full_like(points["seed"], self.fields[f], jnp.float32)
                               for f in HPARAM_FIELDS + ("seed",)})
    nets = train.init(self.train_config, hparams, self.data)
    state = {"nets": nets}
    if self._switch_epoch:
      f = "dropout_switch_rate"
      state[f] = (jnp.asarray(points[f], jnp.float32) if f in points else
                  jnp.full_like(points["seed"], self.fields[f], jnp.float32))
    # Per-epoch metrics go into preallocated [P, num_epochs, ...] arrays so
    # the state keeps one shape for checkpoints.
    shapes = jax.eval_shape(
        functools.partial(train.loop.train_epochs_impl, num_epochs=1), nets, self.data)[1]
    num_epochs = self.num_units(self.config)
    history = {k: jnp.full((s.shape[0], num_epochs) + s.shape[2:],
                           np.nan if jnp.issubdtype(s.dtype, jnp.floating) else 0, s.dtype)
               for k, s in shapes.items()}
    return {**state, "history": history, "epoch": jnp.zeros((), jnp.int32)}

  @property
  def _switch_epoch(self) -> int:
    return int(self.fields.dropout_switch_epoch)

  def advance(self, state, num_units):
    from featurespring import train  # pylint: disable=g-import-not-at-top
    epoch, end = int(state["epoch"]), int(state["epoch"]) + int(num_units)
    switch = self._switch_epoch
    if switch and epoch < switch < end:
      # The switch falls inside this call: train up to it, then past it.
      return self.advance(self.advance(state, switch - epoch), end - switch)
    if switch and epoch == switch:
      # Applied at the start of the first call past the switch, whether or
      # not the run was checkpointed in between; applying it twice is a no-op.
      state = {**state, "nets": _raise_dropout(state["nets"], state["dropout_switch_rate"])}
    nets, new = train.train_epochs(state["nets"], self.data, int(num_units))
    history = _write_epochs(state["history"], new, state["epoch"])
    return {**state, "nets": nets, "history": history, "epoch": state["epoch"] + num_units}

  def summary(self, state, num_members):
    return _population_summary(state["nets"], state["history"], int(state["epoch"]),
                               num_members)

  def finalize(self, state):
    from featurespring import train  # pylint: disable=g-import-not-at-top
    nets, history = state["nets"], state["history"]
    num_members, num_epochs = nets.epoch.shape[0], self.num_units(self.config)
    outputs = {f"history/{k}": v for k, v in history.items()}
    outputs.update({
        "stop_epoch": nets.stop_epoch, "diverged": nets.diverged,
        "trajectory_time": jnp.broadcast_to(jnp.arange(1, num_epochs + 1),
                                            (num_members, num_epochs)),
    })
    # The last epoch's metrics are the final ones (an early-stopped net is
    # frozen); only a capped per-epoch test set needs a full evaluation.
    final = {k: v[:, -1] for k, v in history.items()}
    if self.train_config.test_eval_size is not None:
      full = train.evaluate(nets, self.dataset.x_test, self.dataset.y_test)
      final.update({k.replace("/eval", "/test"): v for k, v in full.items()})
    if self.train_config.regression:
      outputs.update({"load_curve": final["load/train"], "load_curve_test": final["load/test"],
                      "rmse": jnp.sqrt(final["loss/test"]),
                      "trajectory": history["load/train"],
                      "trajectory_test": history["load/test"]})
      for name in ("load_curve", "load_curve_test"):
        outputs[name.replace("load_curve", "curvature")] = metrics.curvature(outputs[name])
      outputs["spread"] = metrics.spread(outputs["load_curve"])
      return outputs
    curves = {"load_curve": final["sep/train"], "load_curve_test": final["sep/test"],
              "load_curve_pinv": final["sep_pinv/train"],
              "load_curve_pinv_test": final["sep_pinv/test"]}
    for name, curve in curves.items():
      outputs[name] = curve
      outputs[name.replace("load_curve", "curvature")] = metrics.curvature(curve)
    outputs.update({
        "spread": metrics.spread(curves["load_curve"]),
        "accuracy": final["acc/test"], "accuracy_train": final["acc/train"],
        "trajectory": history["sep/train"], "trajectory_test": history["sep/test"],
    })
    return outputs


def _population_summary(nets, history, epoch: int, num_members: int) -> str:
  """Loss and accuracy quantiles, nets stopped and diverged (host NumPy)."""
  from featurespring import sharding  # pylint: disable=g-import-not-at-top
  host = lambda leaf: sharding.to_host(leaf)[:num_members]
  quantiles = lambda v: "/".join(f"{q:.3g}" for q in np.nanquantile(v, (0.1, 0.5, 0.9)))
  diverged, stopped = host(nets.diverged), host(nets.stopped)
  loss = host(nets.last_loss)
  parts = [f"train loss q10/50/90 {quantiles(loss[~diverged]) if (~diverged).any() else '-'}"]
  for key in ("acc/train", "acc/test"):
    if key in history:
      # The last evaluated epoch (eval_every may skip some; NaN there).
      values = host(history[key])[:, :epoch]
      evaluated = np.flatnonzero(np.isfinite(values).any(axis=0))
      if evaluated.size and (~diverged).any():
        parts.append(f"{key.replace('/', ' ')} {quantiles(values[~diverged, evaluated[-1]])}")
  parts.append(f"stopped {int(stopped.sum())}/{num_members}, "
               f"diverged {int(diverged.sum())}/{num_members}")
  return " | ".join(parts)


@jax.jit
def _raise_dropout(nets, rate):
  """``nets`` with dropout ``rate`` ``[P]``, early stopping undone (not divergence)."""
  return nets.replace(
      hparams=nets.hparams.replace(dropout=rate.astype(nets.hparams.dropout.dtype)),
      stopped=jnp.zeros_like(nets.stopped), stop_epoch=jnp.full_like(nets.stop_epoch, -1),
      last_loss=jnp.full_like(nets.last_loss, jnp.inf))


@jax.jit
def _write_epochs(history, new, start):
  """Writes ``new`` ``[P, E, ...]`` metrics into ``history`` at epoch ``start``."""
  return {k: jax.lax.dynamic_update_slice_in_dim(history[k], new[k].astype(history[k].dtype),
                                                 start, axis=1)
          for k in history}

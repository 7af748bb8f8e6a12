"""Static training configuration, per-network hyperparameters, validation.

`Config` holds everything that changes shapes or program structure (one
compile per value): model kind, depth, width, batch size, optimiser, loss.
`HParams` holds one array per hyperparameter with the population axis in
front; these vary across a vmapped stack of networks without recompiling.
Both are checked here, in Python, before anything is traced, so a bad value
fails fast with a message that names the parameter and its allowed range.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Optional

import flax.struct
import jax.numpy as jnp
import numpy as np
import optax

from featurespring import grids
from featurespring import models
from featurespring import runtime

MODELS = ("mlp", "cnn")
LOSSES = ("cross_entropy", "mse")
# Hyperparameters the load-curve controller can move (`Config.control_knob`).
CONTROL_KNOBS = ("dropout", "learning_rate", "noise")


@dataclasses.dataclass(frozen=True)
class Config:
  """Static (shape-changing or structural) training settings.

  Defaults are the paper's default experiment (docs/theory.md §2, SM S3). Hashable, so
  it rides along in `TrainState` as static pytree metadata.

  Attributes:
    model: ``'mlp'`` or ``'cnn'``.
    depth: hidden (MLP) or convolutional (CNN) layers.
    width: MLP hidden units, or CNN channels.
    image_shape: CNN input ``(height, width, channels)``.
    batch_norm: BatchNorm layers (else the variance-preserving constant).
    init_scheme: one of `featurespring.models.INITS`.
    use_bias: biases in the MLP's linear layers.
    batch_size: examples per step; each epoch is ``N // batch_size`` steps
      over a fresh permutation per net, dropping the remainder.
    optimizer: an optax optimiser factory name taking ``learning_rate``
      (``'adam'``, ``'sgd'``, ``'adamw'``, ``'rmsprop'`` ...).
    loss: ``'cross_entropy'`` or ``'mse'`` (on one-hot labels, or on the
      targets when ``regression``).
    regression: targets are real ``[N]`` or ``[N, K]`` arrays; the load
      metric is then `featurespring.metrics.regression_load`.
    num_classes: classes of an integer-label task.
    early_stop_loss: a net stops when its epoch's mean train loss falls below.
    early_stop_delta: ... or changes by less than this from the last epoch.
    divergence_factor: a net diverges (and is frozen, see
      `featurespring.train.step`) when a step's training loss is non-finite
      or exceeds this many times the loss of its first step (>= 1); 0 or
      inf checks only for non-finite values. The default bound, 1000 times the
      initial loss (cross-entropy ~log(10) = 2.3 at initialisation for 10
      classes), is a mean loss of ~2300, a logit margin of thousands against
      the true class on average. A net that is learning, however noisy,
      does not come near it. Measured on 2560 MNIST images with the
      default net: Adam at lr 0.05-0.5, full batch, 200 epochs, peaked at
      1.1-4.3 times its initial loss (ReLU) and 1.3-10.7 (linear, lr 0.5
      the most); label and input noise 0.4-0.8 or dropout 0.3 never rose
      above it; batches of 5 (100 epochs) stayed below 10 times it. A
      net whose loss grows to 1e13 at chance accuracy, still finite, is
      caught instead of entering every average over ``~diverged`` nets.
    stop_normalised_gradients: give no gradient to the parameters that a
      BatchNorm removes (the biases before it), whose exact gradient is 0
      (`featurespring.models.stop_normalised_away`): Adam turns their float32
      round-off into steps of the learning rate, which makes a net's numbers
      depend on the population it trains in (5e-3 in the trace separation
      after 5 steps). False keeps that round-off walk, as PyTorch's code
      and this project before 2026-11-30 (experiments/reproduction/README.md) did.
    test_eval_size: examples of the test set (the first ones, a fixed subset)
      used for the per-epoch test metrics; None for all. Evaluating the full
      10000-example MNIST test set every epoch costs about as much as
      training, so sweeps may cap it; `evaluate` takes any set afterwards.
    eval_every: evaluate (separations, accuracies, test loss) only after
      epochs whose count is a multiple of this; the other epochs' entries
      are NaN. The evaluation is skipped by a real branch, not masked, so
      ``eval_every = 10`` roughly halves a full-batch epoch's cost when only
      final load curves are wanted. Training loss, ``stopped`` and
      ``diverged`` are recorded every epoch.
    eval_every_steps: also evaluate the same metrics within every epoch,
      after each n-th optimiser step of the epoch (0: never), whatever
      ``eval_every``; at most the steps per epoch, ``N // batch_size``.
      Reported under ``steps/`` keys (see `featurespring.train.loop`).
    use_dropout: draw dropout masks. Set automatically by `init` when any
      member has a nonzero rate; a False value only saves random-number
      work, since rate 0 is exactly the identity.
    use_noise: draw label and input noise (docs/theory.md §2(a)); like `use_dropout`.
    control_every: run the load-curve controller
      (`featurespring.train.controller`) after every epoch whose count is a
      multiple of this (0: off, no ``control/`` metrics). It reads the
      curvature evaluated at that epoch, so ``eval_every`` must divide it.
      Each net's gain and target are `HParams.control_gain` and
      ``control_target``.
    control_warmup: epochs done before the controller first moves a rate
      (it reads the curvature at earlier control epochs but does not act): a
      net's load curve needs some training before its curvature means much.
    control_max_dropout: the controller's upper bound ``p_max`` on the
      dropout rate, in ``(MIN_CONTROL_LEVEL, 1)``; a rate of 1 would
      drop every unit.
    control_max_noise: the controller's upper bound on the label-and-data
      noise level under ``control_knob='noise'``, in
      ``(MIN_CONTROL_LEVEL, 1)`` (the law moves the level's logit).
    control_knob: the hyperparameter the controller moves: ``'dropout'``
      (in its logit), ``'learning_rate'`` (in its logarithm; the
      optimiser reads it from `HParams` at every step) or ``'noise'``, the
      label-and-data noise level (in its logit; classification only).
    control_learning_rate_range: ``(low, high)`` bounds of the learning rate
      under ``control_knob='learning_rate'``, ``0 < low < high``.
  """

  model: str = "mlp"
  depth: int = 7
  width: int = 100
  image_shape: tuple[int, int, int] = (10, 10, 1)
  batch_norm: bool = True
  init_scheme: str = "torch"
  use_bias: bool = True
  batch_size: int = 2560
  optimizer: str = "adam"
  loss: str = "cross_entropy"
  regression: bool = False
  num_classes: int = 10
  early_stop_loss: float = 1e-4
  early_stop_delta: float = 1e-10
  divergence_factor: float = 1e3
  stop_normalised_gradients: bool = True
  test_eval_size: Optional[int] = None
  eval_every: int = 1
  eval_every_steps: int = 0
  use_dropout: Optional[bool] = None
  use_noise: Optional[bool] = None
  control_every: int = 0
  control_warmup: int = 0
  control_max_dropout: float = 0.9
  control_max_noise: float = 0.9
  control_knob: str = "dropout"
  control_learning_rate_range: tuple[float, float] = (1e-5, 0.1)

  def replace(self, **changes) -> "Config":
    return dataclasses.replace(self, **changes)


# Seeds are stored as int32 and hashed by `jax.random.key` as 32-bit words:
# larger values would wrap (2**40 is seed 0). Negative ones are cut as well:
# the key of -1 is that of 2**32 - 1.
MAX_SEED = grids.MAX_SEED  # one bound for grids, sweeps and populations


def check_integers(name, values, low, high=None):
  """Raises ValueError unless every value is an integer in ``[low, high]``.

  Integral floats (``2.0``) pass; ``2.5``, NaN or a value out of range fail,
  named with ``name`` and the first offending values. A float is not
  truncated or wrapped on its way to an int later, silently.
  """
  values = np.asarray(values)
  if values.dtype.kind not in "iuf":
    raise ValueError(f"{name} must hold integers, got {values.tolist()!r}")
  # Integer dtypes are compared exactly; float64 would round above 2**53.
  as_float = values.astype(np.float64)
  whole = (values.dtype.kind in "iu") | (np.isfinite(as_float) & (np.round(as_float) == as_float))
  ok = whole & (values >= low) & ((values <= high) if high is not None else True)
  if not np.all(ok):
    interval = f"[{low}, {high}]" if high is not None else f">= {low}"
    bad = values[~ok].ravel()
    raise ValueError(
        f"{name} must hold integers {interval}, got "
        f"{bad[:3].tolist()}" + (f" ({bad.size} values)" if bad.size > 3 else "")
    )


@flax.struct.dataclass
class HParams:
  """Per-network hyperparameters, each ``[P]`` over the population axis.

  Attributes:
    seed: integer seed of the net's root key (init, batches, dropout, noise).
    alpha: LeakyReLU negative slope in ``[0, 1]``.
    dropout: dropout rate in ``[0, 1)``.
    learning_rate: optimiser step size, ``>= 0``.
    noise: label-and-data noise level ``n`` in ``[0, 1]`` (docs/theory.md §2(a)).
    init_scale: multiplier on the initial weights, ``> 0``.
    control_gain: the load-curve controller's gain ``>= 0`` (0: the knob,
      ``Config.control_knob``, never moves); see
      `featurespring.train.controller`.
    control_target: the curvature the controller steers the net's
      training-set load curve to (finite).
  """

  # The defaults are the paper's (ReLU, no dropout, Adam lr 1e-3, no noise);
  # `create` broadcasts them to the population.
  seed: jnp.ndarray = 0
  alpha: jnp.ndarray = 0.0
  dropout: jnp.ndarray = 0.0
  learning_rate: jnp.ndarray = 1e-3
  noise: jnp.ndarray = 0.0
  init_scale: jnp.ndarray = 1.0
  control_gain: jnp.ndarray = 0.0
  control_target: jnp.ndarray = 0.0

  @classmethod
  def create(cls, **fields) -> "HParams":
    """Broadcasts scalars or ``[P]`` sequences to one population.

    Missing fields take `HPARAM_DEFAULTS` (the paper's: ReLU, no dropout,
    Adam lr 1e-3, no noise). Seeds must be integers in ``[0, MAX_SEED]``
    (checked here, where they become int32).
    """
    unknown = sorted(set(fields) - set(HPARAM_DEFAULTS))
    if unknown:
      raise ValueError(f"unknown hyperparameters {unknown}; known: " f"{tuple(HPARAM_DEFAULTS)}")
    fields = {**HPARAM_DEFAULTS, **fields}
    check_integers("seed", fields["seed"], 0, MAX_SEED)
    arrays = np.broadcast_arrays(*[np.asarray(v) for v in fields.values()])
    if arrays[0].ndim > 1:
      raise ValueError(
          "HParams.create takes scalars or 1-D sequences, got " f"shape {arrays[0].shape}"
      )
    arrays = [np.atleast_1d(a) for a in arrays]
    # The seed is the one integer field.
    dtypes = [np.int32 if name == "seed" else np.float32 for name in fields]
    return cls(*[jnp.asarray(a, d) for a, d in zip(arrays, dtypes)])

  @property
  def size(self) -> int:
    return self.alpha.shape[0]

  def __getitem__(self, index) -> "HParams":
    return HParams(*[getattr(self, f.name)[index] for f in dataclasses.fields(self)])


HPARAM_NAMES = tuple(f.name for f in dataclasses.fields(HParams))
HPARAM_DEFAULTS = {f.name: f.default for f in dataclasses.fields(HParams)}


def optimizer_factory(name: str):
  """The optax factory called ``name`` (case-insensitive), or ValueError."""
  factory = getattr(optax, name.lower(), None) if isinstance(name, str) else None
  if not callable(factory) or "learning_rate" not in inspect.signature(factory).parameters:
    raise ValueError(
        f"optimizer must name an optax optimiser taking a "
        f"learning_rate (e.g. 'adam', 'sgd'), got {name!r}"
    )
  return factory


def _check_range(name, values, low, high, low_open=False, high_open=False):
  values = np.asarray(values, np.float64)
  above = values > low if low_open else values >= low
  below = values < high if high_open else values <= high
  ok = np.isfinite(values) & above & below
  if not np.all(ok):
    interval = ("(" if low_open else "[") + f"{low}, {high}" + (")" if high_open else "]")
    bad = values[~ok].ravel()[:3]
    raise ValueError(f"{name} must be in {interval}, got {bad.tolist()}")


def validate_config(config: Config, num_train: int) -> None:
  """Raises ValueError for a setting that cannot train; nothing is compiled."""
  runtime.check_float32("training a network")
  if config.model not in MODELS:
    raise ValueError(f"model must be one of {MODELS}, got {config.model!r}")
  if config.init_scheme not in models.INITS:
    raise ValueError(f"init_scheme must be one of {models.INITS}, got " f"{config.init_scheme!r}")
  for name in ("depth", "width"):
    value = getattr(config, name)
    if not isinstance(value, (int, np.integer)) or value < 1:
      raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
  if num_train < 1:
    raise ValueError(f"num_train must be >= 1 (the training set is empty), got {num_train}")
  batch_size = config.batch_size
  if not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= num_train:
    raise ValueError(
        f"batch_size must be an integer in [1, {num_train}] "
        f"(the training set size), got {batch_size!r}"
    )
  optimizer_factory(config.optimizer)
  if config.loss not in LOSSES:
    raise ValueError(f"loss must be one of {LOSSES}, got {config.loss!r}")
  if config.regression and config.loss != "mse":
    raise ValueError(f"loss must be 'mse' when regression=True, got " f"{config.loss!r}")
  if config.num_classes < 2 and not config.regression:
    raise ValueError(f"num_classes must be >= 2, got {config.num_classes}")
  # Below 1 the first step's own loss would count as diverged.
  if not (config.divergence_factor == 0 or config.divergence_factor >= 1):
    raise ValueError(
        f"divergence_factor must be 0 (off) or >= 1 (inf: "
        f"off), got {config.divergence_factor!r}"
    )
  if config.test_eval_size is not None and config.test_eval_size < 1:
    raise ValueError(f"test_eval_size must be None or >= 1, got " f"{config.test_eval_size}")
  if not isinstance(config.eval_every, (int, np.integer)) or config.eval_every < 1:
    raise ValueError(f"eval_every must be an integer >= 1, got " f"{config.eval_every!r}")
  steps_per_epoch = num_train // batch_size
  if (
      not isinstance(config.eval_every_steps, (int, np.integer))
      or not 0 <= config.eval_every_steps <= steps_per_epoch
  ):
    raise ValueError(
        f"eval_every_steps must be an integer in [0, "
        f"{steps_per_epoch}] (0: off; at most the steps per "
        f"epoch, {num_train} // batch_size {batch_size}), got "
        f"{config.eval_every_steps!r}"
    )
  _validate_control(config)
  if config.model == "cnn":
    height, width, _ = config.image_shape
    if height % 2 or width % 2:
      raise ValueError(
          f"image_shape height and width must be even for the " f"CNN, got {config.image_shape}"
      )


# Lowest dropout rate or noise level the load-curve controller sets (its
# logit is finite); see `featurespring.train.controller`.
MIN_CONTROL_LEVEL = 1e-3


def _validate_control(config: Config) -> None:
  """Raises ValueError for controller settings (`Config.control_*`)."""
  for name in ("control_every", "control_warmup"):
    value = getattr(config, name)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
      raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
  if config.control_every and config.control_every % config.eval_every:
    raise ValueError(
        f"control_every must be a multiple of eval_every = {config.eval_every} "
        f"(the controller reads the curvature evaluated at its epochs), got "
        f"{config.control_every}"
    )
  for name in ("control_max_dropout", "control_max_noise"):
    _check_range(name, getattr(config, name), MIN_CONTROL_LEVEL, 1.0, low_open=True, high_open=True)
  if config.control_knob not in CONTROL_KNOBS:
    raise ValueError(f"control_knob must be one of {CONTROL_KNOBS}, got {config.control_knob!r}")
  if config.control_knob == "noise" and config.regression:
    raise ValueError(
        "control_knob='noise' needs a classification task (regression=False): "
        "the knob's label noise resets labels, which real targets do not have"
    )
  bounds = config.control_learning_rate_range
  try:
    low, high = (float(b) for b in bounds)
  except (TypeError, ValueError):
    raise ValueError(
        f"control_learning_rate_range must be two numbers (low, high), got {bounds!r}"
    ) from None
  if not 0 < low < high < np.inf:
    raise ValueError(
        f"control_learning_rate_range must satisfy 0 < low < high < inf, got {bounds!r}"
    )


def validate_hparams(hparams: HParams, config: Config) -> None:
  """Raises ValueError for an out-of-range hyperparameter of any member."""
  _check_range("alpha", hparams.alpha, 0.0, 1.0)
  _check_range("dropout", hparams.dropout, 0.0, 1.0, high_open=True)
  _check_range("learning_rate", hparams.learning_rate, 0.0, np.inf, high_open=True)
  _check_range("noise", hparams.noise, 0.0, 1.0)
  _check_range("init_scale", hparams.init_scale, 0.0, np.inf, low_open=True, high_open=True)
  _check_range("control_gain", hparams.control_gain, 0.0, np.inf, high_open=True)
  _check_range("control_target", hparams.control_target, -np.inf, np.inf, True, True)
  if not config.control_every and np.any(np.asarray(hparams.control_gain) > 0):
    raise ValueError(
        "control_gain > 0 needs the controller on: set Config.control_every "
        "(0: off) to the epochs between its updates"
    )
  if config.use_dropout is False and np.any(np.asarray(hparams.dropout) > 0):
    raise ValueError(
        "dropout > 0 needs Config.use_dropout=True (it was "
        "switched off when the state was initialised without "
        "dropout); pass use_dropout=True to init"
    )
  if config.use_noise is False and np.any(np.asarray(hparams.noise) > 0):
    raise ValueError("noise > 0 needs Config.use_noise=True; pass " "use_noise=True to init")

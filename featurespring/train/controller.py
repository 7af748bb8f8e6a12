"""Load-curve controller: each net steers its training noise to a target curvature.

Theory (docs/theory.md §1-2): noise makes a load curve more convex, so the curvature
``c = d_0 - d_{L-1}`` (`featurespring.metrics.curvature`) of a net's
training-set load curve rises with its dropout rate ``p``. The controller
closes that loop inside the compiled training program: after every
``Config.control_every``-th epoch (once at least ``Config.control_warmup``
epochs are done) each net reads the curvature of its eval-mode load curve,
the load curve ``load_curve`` (trace separation; regression load for regression) that the
epoch's metrics have just computed, and moves its rate with the law

  ``u = logit(clip(p, p_min, p_max))``
  ``p <- clip(sigmoid(u + gain * (target - c)), p_min, p_max)``

with ``gain = HParams.control_gain``, ``target = HParams.control_target``
(per net, traced: a grid of gains and targets is one compile),
``p_max = Config.control_max_dropout`` and ``p_min = MIN_LEVEL`` (1e-3:
``logit(0)`` is -inf, so a net starting at rate 0 moves to at least p_min
on its first update). The step adds the error to the knob each update, so
it is integral action in the rate's logit: a constant offset in the plant
is removed without a steady-state error. For a plant whose curvature is
locally linear in the logit, ``c = a + b u`` with slope ``b > 0``, the
error contracts by ``1 - gain * b`` per update: monotone convergence, no
overshoot, for ``0 < gain <= 1 / b``; damped oscillation for
``1 / b < gain < 2 / b``; divergence beyond. Nets with gain 0 (the
default) keep their rate exactly (a select, not an arithmetic no-op), as do
nets whose curvature is not finite (a diverged net's) or, between control
epochs and during the warm-up, every net.

The knob (``Config.control_knob``) is the dropout rate by default. The
others are the learning rate (``'learning_rate'``; a larger step is more
noise), moved by the same law in its logarithm,

  ``log lr <- clip(log lr + gain * (target - c), log lr_min, log lr_max)``

with ``(lr_min, lr_max) = Config.control_learning_rate_range``; it costs
nothing extra, since every step already writes the net's traced
``HParams.learning_rate`` into the optimiser's state
(`featurespring.train.step.make_optimizer`); and the label-and-data noise
level (``'noise'``, ``HParams.noise``), moved in its logit
like the dropout rate, within ``[MIN_LEVEL, Config.control_max_noise]``,
for classification only (the level is the fraction of labels reset).

Recorded every epoch (with ``control_every > 0``), ``[P, E]``:
``control/<knob>`` (``control/dropout``, ``control/learning_rate``), the
value the epoch trained with; ``control/curvature``, the curvature read
after it (NaN at epochs that are not control epochs; read but not acted on
during the warm-up); and ``control/saturated`` (bool), set at an update
that left the knob clipped at a bound while the error pushed it further
out: the target is out of the knob's reach there (a convex net at its
lowest rate with a linear target, say). The knob lives in
``TrainState.hparams``, so a run split into calls equals an uninterrupted
one.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from featurespring import metrics as metrics_lib
from featurespring.train import hparams as hparams_lib

MIN_LEVEL = hparams_lib.MIN_CONTROL_LEVEL
KNOBS = hparams_lib.CONTROL_KNOBS

# Rows whose curvature is already >= 0 with no noise at all: the linear net is
# near linear (docs/theory.md §2), and the measured MLP phase diagrams had
# alpha 0.8 slightly convex too. Noise only adds convexity, so it cannot bring
# them to a target <= 0: the dropout or noise knob then sits at its lower
# bound. A prediction from measured diagrams, not a bound: `init` warns rather
# than fails.
CONVEX_WITHOUT_NOISE_ALPHA = 0.8

# Knobs whose random draws a net only makes with a `Config` flag on; the
# controller may raise them from 0, so it needs the flag whatever the start.
_RANDOMNESS_FLAGS = {"dropout": "use_dropout", "noise": "use_noise"}


def _to_knob_space(knob: str):
  """``(forward, inverse)``: the map in which the law adds the error."""
  if knob == "learning_rate":
    return jnp.log, jnp.exp
  return (lambda p: jnp.log(p) - jnp.log1p(-p)), jax.nn.sigmoid


def knob_bounds(config: hparams_lib.Config) -> tuple[float, float]:
  """``(low, high)`` of the knob ``config.control_knob``."""
  if config.control_knob == "learning_rate":
    return tuple(float(b) for b in config.control_learning_rate_range)
  return MIN_LEVEL, float(getattr(config, f"control_max_{config.control_knob}"))


def _law(value, curvature, gain, target, low, high, knob):
  """The law for any knob: ``(new value, saturated)``; see `control_law`."""
  value = jnp.asarray(value)
  forward, inverse = _to_knob_space(knob)
  error = target - curvature
  moved = inverse(forward(jnp.clip(value, low, high)) + gain * error)
  saturated = (gain > 0) & (((moved > high) & (error > 0)) | ((moved < low) & (error < 0)))
  new = jnp.clip(moved, low, high).astype(value.dtype)
  return jnp.where(jnp.asarray(gain) > 0, new, value), saturated


def control_law(dropout, curvature, gain, target, max_dropout):
  """One controller update of the dropout rate (elementwise, vmappable).

  Args:
    dropout: current rate(s) in ``[0, max_dropout]``.
    curvature: the curvature read at that rate.
    gain: ``>= 0``; step of the logit per unit of curvature error.
    target: the curvature aimed at.
    max_dropout: the upper bound ``p_max`` (< 1).

  Returns:
    The new rate, ``clip(sigmoid(logit(p) + gain * (target - c)), p_min,
    p_max)`` with ``p`` first clipped to ``[p_min, p_max]``; the old rate
    exactly where ``gain`` is 0.
  """
  return _law(dropout, curvature, gain, target, MIN_LEVEL, max_dropout, "dropout")[0]


def update(hparams: hparams_lib.HParams, epoch, metrics: dict, config: hparams_lib.Config):
  """The controller's step after an epoch, for the whole population.

  Args:
    hparams: the population's `HParams` (``[P]`` fields).
    epoch: scalar count of epochs done (the same for every member).
    metrics: that epoch's metrics (`featurespring.train.loop`), with the
      load curve ``[P, L]`` (NaN when not evaluated).
    config: static settings; ``config.control_every > 0``.

  Returns:
    ``(hparams, record)``: hparams with the new knob values, and the
    ``control/<knob>`` (the value before the update), ``control/curvature``
    and ``control/saturated`` ``[P]`` entries of the epoch.
  """
  knob = config.control_knob
  value = getattr(hparams, knob)
  curvature = metrics_lib.curvature(metrics["load_curve"])
  read = epoch % config.control_every == 0
  act = read & (epoch >= config.control_warmup) & jnp.isfinite(curvature)
  new, saturated = _law(
      value,
      curvature,
      hparams.control_gain,
      hparams.control_target,
      *knob_bounds(config),
      knob,
  )
  record = {
      f"control/{knob}": value,
      "control/curvature": jnp.where(read, curvature, jnp.nan).astype(jnp.float32),
      "control/saturated": act & saturated,
  }
  return hparams.replace(**{knob: jnp.where(act, new, value)}), record


def needed_flag(hparams: hparams_lib.HParams, config: hparams_lib.Config) -> str | None:
  """The flag (``'use_dropout'``, ``'use_noise'``) the controller needs on, or None.

  Needed when the knob is drawn at random (dropout masks, label and input
  noise) and some net has a gain > 0, so may be raised from 0.
  """
  flag = _RANDOMNESS_FLAGS.get(config.control_knob)
  return flag if flag and bool(np.any(np.asarray(hparams.control_gain) > 0)) else None


def check_flags(hparams: hparams_lib.HParams, config: hparams_lib.Config) -> None:
  """Raises ValueError if a net could be given a knob value it never draws."""
  flag = needed_flag(hparams, config)
  if flag and getattr(config, flag) is False:
    raise ValueError(
        f"control_gain > 0 needs Config.{flag}=True (the controller raises "
        f"the {config.control_knob} knob); leave {flag} as None for init to set it"
    )


def warn_unreachable(hparams: hparams_lib.HParams, config: hparams_lib.Config) -> int:
  """Warns about controlled nets whose target the knob cannot reach.

  Predicted from the phase diagram, before training: a net controlled by
  dropout or noise with ``alpha >= CONVEX_WITHOUT_NOISE_ALPHA`` has a
  linear-to-convex load curve without noise already, and noise only makes it
  more convex, so a target ``<= 0`` leaves its knob at the lower bound
  (``control/saturated`` then records it during training). Returns the
  number of such nets.
  """
  knob = config.control_knob
  if knob not in _RANDOMNESS_FLAGS or not config.control_every:
    return 0
  alpha, gain, target = (
      np.asarray(getattr(hparams, f)) for f in ("alpha", "control_gain", "control_target")
  )
  unreachable = (gain > 0) & (alpha >= CONVEX_WITHOUT_NOISE_ALPHA) & (target <= 0)
  count = int(np.sum(unreachable))
  if count:
    warnings.warn(
        f"control_target <= 0 is likely out of the {knob} knob's reach for "
        f"{count} net(s) with alpha >= {CONVEX_WITHOUT_NOISE_ALPHA} (targets "
        f"{sorted(set(np.round(target[unreachable].astype(float), 6).tolist()))}): their load curves are "
        f"linear to convex without noise and {knob} only adds convexity, so "
        f"their {knob} will sit at its lower bound {MIN_LEVEL} "
        f"(control/saturated records it)",
        stacklevel=3,
    )
  return count

"""Load-curve controller: each net steers its dropout rate to a target curvature.

Theory (SPEC §1-2): noise makes a load curve more convex, so the curvature
``c = d_0 - d_{L-1}`` (`featurespring.metrics.curvature`) of a net's
training-set load curve rises with its dropout rate ``p``. The controller
closes that loop inside the compiled training program: after every
``Config.control_every``-th epoch (once at least ``Config.control_warmup``
epochs are done) each net reads the curvature of its eval-mode load curve,
the trace separation ``sep/train`` (``load/train`` for regression) that the
epoch's metrics have just computed, and moves its rate with the law

  ``u = logit(clip(p, p_min, p_max))``
  ``p <- clip(sigmoid(u + gain * (target - c)), p_min, p_max)``

with ``gain = HParams.control_gain``, ``target = HParams.control_target``
(per net, traced: a grid of gains and targets is one compile),
``p_max = Config.control_max_dropout`` and ``p_min = MIN_DROPOUT`` (1e-3:
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

Recorded every epoch (with ``control_every > 0``), ``[P, E]``:
``control/dropout``, the rate the epoch trained with, and
``control/curvature``, the curvature read after it (NaN at epochs that are
not control epochs; read but not acted on during the warm-up). The rate
lives in ``TrainState.hparams.dropout``, so a run split into calls equals an
uninterrupted one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from featurespring import metrics as metrics_lib
from featurespring.train import hparams as hparams_lib

MIN_DROPOUT = hparams_lib.MIN_CONTROL_DROPOUT


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
  dropout = jnp.asarray(dropout)
  clipped = jnp.clip(dropout, MIN_DROPOUT, max_dropout)
  logit = jnp.log(clipped) - jnp.log1p(-clipped)
  moved = jnp.clip(
      jax.nn.sigmoid(logit + gain * (target - curvature)),
      MIN_DROPOUT,
      max_dropout,
  ).astype(dropout.dtype)
  return jnp.where(jnp.asarray(gain) > 0, moved, dropout)


def load_curve_key(config: hparams_lib.Config) -> str:
  """The per-epoch metric whose curvature the controller reads."""
  return "load/train" if config.regression else "sep/train"


def update(hparams: hparams_lib.HParams, epoch, metrics: dict, config: hparams_lib.Config):
  """The controller's step after an epoch, for the whole population.

  Args:
    hparams: the population's `HParams` (``[P]`` fields).
    epoch: scalar count of epochs done (the same for every member).
    metrics: that epoch's metrics (`featurespring.train.loop`), with the
      load curve ``[P, L]`` (NaN when not evaluated).
    config: static settings; ``config.control_every > 0``.

  Returns:
    ``(hparams, record)``: hparams with the new dropout rates, and the
    ``control/dropout`` (the rate before the update) and
    ``control/curvature`` ``[P]`` entries of the epoch.
  """
  curvature = metrics_lib.curvature(metrics[load_curve_key(config)])
  read = epoch % config.control_every == 0
  act = read & (epoch >= config.control_warmup) & jnp.isfinite(curvature)
  new = control_law(
      hparams.dropout,
      curvature,
      hparams.control_gain,
      hparams.control_target,
      config.control_max_dropout,
  )
  record = {
      "control/dropout": hparams.dropout,
      "control/curvature": jnp.where(read, curvature, jnp.nan).astype(jnp.float32),
  }
  return hparams.replace(dropout=jnp.where(act, new, hparams.dropout)), record


def check_dropout_masks(hparams: hparams_lib.HParams, config: hparams_lib.Config) -> None:
  """Raises ValueError if a net could be given a rate without dropout masks."""
  if config.use_dropout is False and np.any(np.asarray(hparams.control_gain) > 0):
    raise ValueError(
        "control_gain > 0 needs Config.use_dropout=True (the controller "
        "raises dropout rates); leave use_dropout as None for init to set it"
    )

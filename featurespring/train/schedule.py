"""What changes while a population trains: run length and the dropout switch.

A net can be trained to convergence, then its dropout rate raised and
trains on. `Schedule` holds those settings; `train_scheduled` runs any span
of epochs of a schedule, so a run split into calls (checkpointed and resumed
at any epoch) equals an uninterrupted one: the switch is a function of the
epoch count alone. The load-curve controller, which moves each net's rate
during training, is `featurespring.train.controller`; its settings are
`Config` fields (``control_*``), static inside the compiled loop.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from featurespring.train import hparams as hparams_lib
from featurespring.train import loop


@dataclasses.dataclass(frozen=True)
class Schedule:
  """How long the nets train and what changes on the way.

  Attributes:
    num_epochs: epochs per net.
    dropout_switch_epoch: after this many epochs (0 = never) every net's
      dropout rate becomes its dropout_switch_rate ; nets that
      stopped early before the switch are woken up, since the switch is meant
      to resume a converged training.
    dropout_switch_rate: the dropout rate after the switch; per net, so a
      grid over it (0 among the rates) is one compile.
  """

  num_epochs: int = 100
  dropout_switch_epoch: int = 0
  dropout_switch_rate: float = 0.0


# Schedule fields that vary per net (traced arrays, not compile-time values).
PER_NET_FIELDS = ("dropout_switch_rate",)


def validate(
    num_epochs: int, eval_every: int, switch_epoch: int, switch_rates, config: hparams_lib.Config
) -> None:
  """Raises ValueError naming the field for a schedule that cannot run.

  Args:
    num_epochs, switch_epoch: the `Schedule`'s values.
    eval_every: `Config.eval_every` (must divide the run: the final metrics
      come from the last epoch).
    switch_rates: every net's ``dropout_switch_rate``.
    config: the training config the rates are checked against.
  """
  if int(num_epochs) < 1:
    raise ValueError(f"num_epochs must be >= 1, got {num_epochs}")
  if int(eval_every) < 1 or int(num_epochs) % int(eval_every):
    raise ValueError(
        f"eval_every must be >= 1 and divide num_epochs = {num_epochs} (the "
        f"final metrics come from the last epoch), got {eval_every}"
    )
  if not 0 <= int(switch_epoch) < int(num_epochs):
    raise ValueError(
        f"dropout_switch_epoch must be in [0, num_epochs) = [0, {num_epochs}), "
        f"got {switch_epoch}"
    )
  if int(switch_epoch) == 0 and np.any(np.asarray(switch_rates) != 0):
    raise ValueError(
        "dropout_switch_rate is set but dropout_switch_epoch is 0 (never); " "set the epoch"
    )
  try:
    # The raised rates obey the same range as any dropout rate.
    hparams_lib.validate_hparams(hparams_lib.HParams.create(dropout=switch_rates), config)
  except ValueError as err:
    raise ValueError(f"dropout_switch_rate: {err}") from err


def train_scheduled(
    nets: loop.TrainState,
    data: loop.Data,
    epoch: int,
    num_epochs: int,
    switch_epoch: int,
    switch_rate,
) -> tuple[loop.TrainState, list]:
  """Epochs ``epoch .. epoch + num_epochs`` of the schedule.

  Args:
    nets: the population after ``epoch`` epochs.
    data: its data.
    epoch: epochs done so far.
    num_epochs: epochs to run now.
    switch_epoch: `Schedule.dropout_switch_epoch` (0: never).
    switch_rate: ``[P]`` rates after the switch (ignored without one).

  Returns:
    ``(nets, segments)``: the population after the span, and its per-epoch
    metrics as ``(first epoch, metrics)`` pairs, one per compiled call (the
    span is cut at the switch).
  """
  end = epoch + num_epochs
  segments = []
  if switch_epoch and epoch < switch_epoch < end:
    # The switch falls inside this span: train up to it, then past it.
    nets, before = train_scheduled(
        nets, data, epoch, switch_epoch - epoch, switch_epoch, switch_rate
    )
    nets, after = train_scheduled(
        nets, data, switch_epoch, end - switch_epoch, switch_epoch, switch_rate
    )
    return nets, before + after
  if switch_epoch and epoch == switch_epoch:
    # Applied at the start of the first call past the switch, whether or not
    # the run was checkpointed in between; applying it twice is a no-op.
    nets = raise_dropout(nets, switch_rate)
  nets, metrics = loop.train_epochs(nets, data, int(num_epochs))
  segments.append((epoch, metrics))
  return nets, segments


@jax.jit
def raise_dropout(nets: loop.TrainState, rate) -> loop.TrainState:
  """``nets`` with dropout ``rate`` ``[P]``, early stopping undone (not divergence)."""
  return nets.replace(
      hparams=nets.hparams.replace(dropout=rate.astype(nets.hparams.dropout.dtype)),
      stopped=jnp.zeros_like(nets.stopped),
      stop_epoch=jnp.full_like(nets.stop_epoch, -1),
      last_loss=jnp.full_like(nets.last_loss, jnp.inf),
  )

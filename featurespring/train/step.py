"""One network's training epoch, written for a single net and vmapped later.

Randomness (big_vision style): each net has one root key from its seed, split
once into an init key and a loop key. The epoch's batch permutation uses
``fold_in(fold_in(loop_key, 0), epoch)``; each step uses
``fold_in(fold_in(loop_key, 1), step)``, split once per use (dropout, noise).
So a net's random numbers depend only on its config, hyperparameters and
seed, not on which other nets share its population.

Its floating-point results agree with the same net in another population
(or alone) to round-off, not bit for bit: XLA picks the summation order of
a reduction over examples (a mean, a gradient's batch sum) by the shape of
the whole vmapped array, so the population size changes last bits (the
dots and the elementwise work are per member and do not change). Measured
on CPU, a net alone against the same net among 5, depths 1-3, width 16,
5-20 steps of Adam or SGD: trace separations up to 2e-6 apart, pinv
separations up to 3e-5, more where ``S_b`` is ill-conditioned (see
`featurespring.metrics.separation_pinv`; 6e-4 at a smallest kept eigenvalue
of 5e-5 times the largest). The tests hold the first two to 1e-5 and 1e-4.
Longer training amplifies round-off, as any change of summation order
would. Parameters that BatchNorm removes get no gradient
(`featurespring.models.stop_normalised_away`): Adam turned their round-off
gradients into steps of the learning rate, and these gaps into 5e-3
(pinv 5e-2) after 5 to 20 steps.

Freezing: a net that has stopped early or diverged keeps computing (vmap has
no per-member control flow) but every update is discarded with a select, so
its parameters, BatchNorm statistics and optimiser state stay as they were.
A net diverges at a step whose loss is non-finite or above
``Config.divergence_factor`` times its first step's loss, or whose update
is non-finite; it is frozen with the parameters that gave that loss.

Metrics every n steps (``Config.eval_every_steps``): the epoch's step scan is
split into an outer scan over segments of n steps, each followed by the
evaluation the caller passes in, then the remaining steps; still one
program, and the same steps as without it.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import optax

from featurespring import models
from featurespring.train import hparams as hparams_lib

Config = hparams_lib.Config


def make_model(config: Config, num_outputs: int):
  """The Flax module described by ``config``."""
  if config.model == "cnn":
    return models.CNN(
        image_shape=tuple(config.image_shape),
        depth=config.depth,
        channels=config.width,
        num_outputs=num_outputs,
        batch_norm=config.batch_norm,
        init_scheme=config.init_scheme,
    )
  return models.MLP(
      depth=config.depth,
      width=config.width,
      num_outputs=num_outputs,
      batch_norm=config.batch_norm,
      init_scheme=config.init_scheme,
      use_bias=config.use_bias,
  )


def output_size(config: Config, targets) -> int:
  """Read-out size: classes, or the regression targets' components."""
  if config.regression:
    return math.prod(targets.shape[1:])
  return config.num_classes


def make_optimizer(config: Config) -> optax.GradientTransformation:
  """The optimiser with its learning rate held in its (vmappable) state."""
  factory = hparams_lib.optimizer_factory(config.optimizer)
  # The value passed here is a placeholder: every step writes the net's
  # current HParams.learning_rate into the state, so HParams stays the one
  # source of truth even when a sweep edits it between calls.
  return optax.inject_hyperparams(factory)(learning_rate=0.0)


def loss_value(config: Config, outputs, targets):
  """Mean loss of a batch: integer labels, or real targets if regression."""
  if config.regression:
    targets = targets.reshape(outputs.shape)
    return jnp.mean(jnp.square(outputs - targets))
  if config.loss == "mse":
    one_hot = jax.nn.one_hot(targets, outputs.shape[-1], dtype=outputs.dtype)
    return jnp.mean(jnp.square(outputs - one_hot))
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(outputs, targets))


def corrupt_batch(key, x, y, noise, num_classes: int):
  """Label and input noise of level ``noise`` (docs/theory.md §2(a)).

  ``floor(noise * B)`` labels, chosen at random, are reset to uniformly random
  classes (which may equal the old ones), as in the paper's code; Gaussian
  noise of std ``noise * std(x)`` (one std over the whole batch) is added to
  the inputs. Real (regression) targets get only the input noise.
  ``noise = 0`` returns the batch unchanged.
  """
  order_key, label_key, input_key = jax.random.split(key, 3)
  x = x + noise * jnp.std(x) * jax.random.normal(input_key, x.shape, x.dtype)
  if jnp.issubdtype(y.dtype, jnp.floating):
    return x, y
  batch_size = y.shape[0]
  num_reset = jnp.floor(noise * batch_size)
  order = jax.random.permutation(order_key, batch_size)
  reset = jnp.zeros(batch_size, bool).at[order].set(jnp.arange(batch_size) < num_reset)
  random_labels = jax.random.randint(label_key, y.shape, 0, num_classes, y.dtype)
  return x, jnp.where(reset, random_labels, y)


def _all_finite(tree):
  # One sum per leaf: cheaper than an elementwise isfinite pass, and a NaN or
  # Inf anywhere makes the total non-finite.
  total = sum(jnp.sum(leaf) for leaf in jax.tree_util.tree_leaves(tree))
  return jnp.isfinite(total)


def _above_bound(config: Config, loss, initial_loss):
  """Whether ``loss`` exceeds ``Config.divergence_factor`` x ``initial_loss``.

  False where the check is off (factor 0 or inf) or the initial loss is
  NaN; a non-finite loss is caught separately.
  """
  factor = config.divergence_factor
  if not 0 < factor < math.inf:
    return jnp.zeros((), bool)
  return loss > factor * initial_loss


def train_epoch(net, data, config: Config, evaluate=None):
  """Runs one epoch of one net; see `featurespring.train.loop.TrainState`.

  Args:
    net: one member's `TrainState` (no population axis).
    data: `featurespring.train.loop.Data`.
    config: static settings.
    evaluate: ``net -> dict`` of eval-mode metrics of one net, called after
      every ``config.eval_every_steps``-th step of the epoch (needed only
      when that is nonzero).

  Returns:
    ``(net, mean_loss, step_metrics)``: the updated state (epoch not yet
    advanced, early stopping not yet decided), the mean training loss over
    the epoch's applied steps (the previous epoch's value if the net was
    frozen), and ``evaluate``'s metrics with a leading axis of
    ``S = steps // eval_every_steps`` evaluations plus ``step`` ``[S]``, the
    net's step count at each (empty without ``eval_every_steps``).
  """
  num_outputs = output_size(config, data.y_train)
  model = make_model(config, num_outputs)
  optimizer = make_optimizer(config)
  hp = net.hparams
  num_train = data.x_train.shape[0]
  num_steps = num_train // config.batch_size
  epoch_key = jax.random.fold_in(jax.random.fold_in(net.key, 0), net.epoch)
  # Drop the remainder: every step sees a full batch, so shapes stay static.
  # T steps of B examples.
  batches_TxB = jax.random.permutation(epoch_key, num_train)[
      : num_steps * config.batch_size
  ].reshape(num_steps, config.batch_size)
  frozen = net.stopped | net.diverged

  def loss_fn(params, batch_stats, x, y, dropout_key):
    if config.stop_normalised_gradients:
      params = models.stop_normalised_away(model, params)
    variables = {"params": params, "batch_stats": batch_stats}
    (outputs, _), updates = model.apply(
        variables, x, hp.alpha, hp.dropout, dropout_key, train=True, mutable=["batch_stats"]
    )
    return loss_value(config, outputs, y), updates.get("batch_stats", {})

  def step(carry, batch_B):
    params, batch_stats, opt_state, step_count, initial_loss, diverged, loss_sum, count = carry
    step_key = jax.random.fold_in(jax.random.fold_in(net.key, 1), step_count)
    noise_key, dropout_key = jax.random.split(step_key)
    x, y = data.x_train[batch_B], data.y_train[batch_B]
    if config.use_noise:
      x, y = corrupt_batch(noise_key, x, y, hp.noise, num_outputs)
    if not config.use_dropout:
      dropout_key = None
    (loss, new_batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        params, batch_stats, x, y, dropout_key
    )
    opt_state = opt_state._replace(
        hyperparams={**opt_state.hyperparams, "learning_rate": hp.learning_rate}
    )
    updates, new_opt_state = optimizer.update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    active = ~(frozen | diverged)
    initial_loss = jnp.where(active & (step_count == 0), loss, initial_loss)
    healthy = (
        jnp.isfinite(loss) & _all_finite(new_params) & ~_above_bound(config, loss, initial_loss)
    )
    apply = active & healthy
    keep_new = functools.partial(
        jax.tree_util.tree_map, lambda new, old: jnp.where(apply, new, old)
    )
    carry = (
        keep_new(new_params, params),
        keep_new(new_batch_stats, batch_stats),
        keep_new(new_opt_state, opt_state),
        step_count + active.astype(step_count.dtype),
        initial_loss,
        diverged | (active & ~healthy),
        loss_sum + jnp.where(apply, loss, 0.0),
        count + apply.astype(count.dtype),
    )
    return carry, None

  def with_carry(carry):
    params, batch_stats, opt_state, step_count, initial_loss, diverged, _, _ = carry
    return net.replace(
        params=params,
        batch_stats=batch_stats,
        opt_state=opt_state,
        step=step_count,
        initial_loss=initial_loss,
        diverged=diverged,
    )

  def segment(carry, batches_nxB):
    carry, _ = jax.lax.scan(step, carry, batches_nxB)
    mid_epoch = with_carry(carry)
    return carry, {**evaluate(mid_epoch), "step": mid_epoch.step}

  carry = (
      net.params,
      net.batch_stats,
      net.opt_state,
      net.step,
      net.initial_loss,
      net.diverged,
      jnp.zeros((), jnp.float32),
      jnp.zeros((), jnp.int32),
  )
  every = config.eval_every_steps
  step_metrics = {}
  if every:
    num_segments = num_steps // every
    carry, step_metrics = jax.lax.scan(
        segment,
        carry,
        batches_TxB[: num_segments * every].reshape(num_segments, every, config.batch_size),
    )
    batches_TxB = batches_TxB[num_segments * every :]
  if batches_TxB.shape[0]:
    carry, _ = jax.lax.scan(step, carry, batches_TxB)
  net = with_carry(carry)
  loss_sum, count = carry[-2:]
  mean_loss = jnp.where(count > 0, loss_sum / jnp.maximum(count, 1), net.last_loss)
  return net, mean_loss, step_metrics

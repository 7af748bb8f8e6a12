"""The networks of the paper's experiments (SPEC §1–2, SM S2–S3).

Both models return ``(logits, features)``: ``features`` is a tuple with the
input after the input BatchNorm (layer 0) followed by every hidden
postactivation, each flattened to ``[N, D_l]``, so separation metrics can run
inside the same jitted step.

The LeakyReLU slope ``alpha`` and the dropout rate are call arguments, not
module fields: they may be traced arrays that vary across a vmapped
population of networks without recompiling. Only shapes (depth, width,
channels) and structural switches are module fields.

Why Flax linen rather than nnx: linen modules are stateless descriptions
whose parameters are plain pytrees (``{'params': ..., 'batch_stats': ...}``),
so ``jax.vmap(model.init)`` and ``jax.vmap(model.apply)`` stack a population
with no extra machinery; nnx's mutable objects need ``nnx.split``/``merge``
or ``nnx.vmap`` around every transform, which a probe here found harder to
combine with per-member traced hyperparameters and ``lax.scan``.

Initialisation (``init_scheme``): ``'torch'`` (default) reproduces PyTorch's
default ``nn.Linear``/``nn.Conv2d`` initialisation, which the paper used (SM
S3): weights and biases uniform in ``+-1/sqrt(fan_in)``. ``'lecun'`` is
Flax's default (LeCun normal weights, zero biases); ``'orthogonal'`` draws
orthogonal weights with zero biases. A weight-init scale
multiplier is applied to the initialised weights by `scale_kernels`, so it
too can be a traced per-member hyperparameter.

Implementations (``impl``, a static field of both models): the orthogonal
initialiser (`orthogonal_init`) and the CNN's convolution (`conv_same`) are
hand-written in pure JAX for XLA:CPU, whose batched LAPACK calls hung and
whose convolution gradients were slow here. ``impl='auto'`` (default) keeps
them on CPU and uses the library versions, ``nn.initializers.orthogonal``
and ``nn.Conv``, on GPU and TPU; ``'portable'`` and ``'library'`` force one
path (see `featurespring.metrics.resolve_impl`). Both paths have the same
parameter tree, so parameters made on one run on the other. The
convolutions agree to float32 round-off; the orthogonal initialisers are
different (equally Haar-distributed) draws, see `orthogonal_init`.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

# Re-exported beside INITS: the models take ``impl`` too.
from featurespring.metrics import IMPLS  # pylint: disable=unused-import
from featurespring.metrics import resolve_impl

INITS = ("torch", "lecun", "orthogonal")
# PyTorch's BatchNorm defaults (momentum 0.1 on the new statistics), as in the
# paper; Flax's default momentum 0.99 would make the running statistics used
# in eval mode lag far behind a 100-step full-batch run.
BATCH_NORM_MOMENTUM = 0.9
BATCH_NORM_EPSILON = 1e-5


def _mix32(h):
  """murmur3's 32-bit finaliser: a fast bijection with full avalanche."""
  h = h ^ (h >> 16)
  h = h * jnp.uint32(0x85EBCA6B)
  h = h ^ (h >> 13)
  h = h * jnp.uint32(0xC2B2AE35)
  return h ^ (h >> 16)


def hash_bits(key, shape):
  """Uniform uint32 bits from a keyed counter hash, ~10x cheaper than threefry.

  On CPU, ``jax.random.bits`` (threefry) for the dropout masks of a
  population costs several times the training step's matmuls. Dropout needs
  independent-looking fair bits, not cryptographic quality: two rounds of a
  full-avalanche mixer over a counter, keyed by 64 bits drawn from ``key``
  with threefry, give masks without measurable correlation between units or
  steps. Deterministic in ``key`` and identical under vmap and in a loop.

  Args:
    key: PRNG key.
    shape: static output shape.

  Returns:
    A uint32 array of ``shape``.
  """
  key_words = jax.random.bits(key, (2,), jnp.uint32)
  counter = jax.lax.iota(jnp.uint32, math.prod(shape)).reshape(shape)
  return _mix32(_mix32(counter ^ key_words[0]) ^ key_words[1])


def dropout(x, rate, key):
  """Inverted dropout whose ``rate`` may be a traced array.

  Each unit is zeroed with probability ``rate`` (rounded to a multiple of
  ``2^-32`` in float32) and survivors are scaled by ``1 / (1 - rounded
  rate)``, so the mean is preserved in expectation. ``rate = 0`` is exactly
  the identity. Flax's ``nn.Dropout`` cannot be used: it branches on the rate
  in Python. Masks come from `hash_bits` compared against an integer
  threshold, which avoids converting bits to float uniforms.

  Args:
    x: activations.
    rate: scalar drop probability in ``[0, 1)``, possibly traced.
    key: PRNG key.

  Returns:
    An array like ``x``.
  """
  levels = 2.0**32
  # The largest float32 below 2^32 keeps the uint32 cast in range.
  threshold = jnp.clip(jnp.round(jnp.asarray(rate, jnp.float32) * levels), 0.0, levels - 256.0)
  keep = hash_bits(key, x.shape) >= threshold.astype(jnp.uint32)
  scale = levels / (levels - threshold)
  return jnp.where(keep, x * scale.astype(x.dtype), jnp.zeros((), x.dtype))


def variance_preserving_gain(alpha):
  """``sqrt(2 / (1 + alpha^2))``: keeps LeakyReLU outputs at unit variance.

  For symmetric inputs ``E[jax.nn.leaky_relu(z, alpha)^2] = (1 + alpha^2) / 2 E[z^2]``; the
  paper's eq. (1) uses this fixed factor where BatchNorm is switched off.
  """
  return jnp.sqrt(2.0 / (1.0 + jnp.square(alpha)))


def orthogonal_init(key, shape, dtype=jnp.float32):
  """A random matrix with orthonormal columns (or rows, if it is wide).

  The portable path of the ``'orthogonal'`` init scheme (CPU by default; see
  `featurespring.metrics.resolve_impl`); the library path is
  ``nn.initializers.orthogonal()``. Both give orthonormal columns (rows) of
  the same shape and dtype. Take them as different, equally valid draws:
  with Flax 0.12 both orthonormalise the same ``jax.random.normal`` draw
  (Householder QR with the sign fix there, Gram-Schmidt here; that ``Q`` is
  unique), so they agree to float32 round-off, but that is Flax's
  implementation, not a contract. Results across backends are not
  bit-identical anyway.

  Haar-distributed like ``nn.initializers.orthogonal``, but in pure JAX:
  two passes of modified Gram-Schmidt over the columns of a Gaussian matrix
  instead of a LAPACK QR. Batched LAPACK custom calls were seen to wedge
  XLA's CPU runtime here (SVD and eigh inside training loops; a vmapped
  population's orthogonal initialisation froze a sweep of orthogonal-init nets before its
  first epoch), and this runs once per net, so its cost does not matter.
  Gram-Schmidt yields the QR factor whose ``R`` has a positive diagonal,
  which is what makes ``Q`` Haar-distributed; the second pass restores
  orthogonality to float32 round-off.

  A kernel of more than two axes (a convolution's ``[k_h, k_w, C, O]``) is
  drawn as the ``[k_h k_w C, O]`` matrix and reshaped, as
  ``nn.initializers.orthogonal`` does.
  """
  if len(shape) < 2:
    raise ValueError(f"orthogonal_init needs at least 2 axes, got shape {shape}")
  if len(shape) > 2:
    matrix = orthogonal_init(key, (math.prod(shape[:-1]), shape[-1]), dtype)
    return matrix.reshape(shape)
  rows, cols = shape
  tall = rows >= cols
  gaussian = jax.random.normal(key, (rows, cols) if tall else (cols, rows), jnp.float32)

  def orthonormalise_column(j, matrix):
    column = matrix[:, j]
    earlier = (jnp.arange(matrix.shape[1]) < j).astype(matrix.dtype)
    for _ in range(2):
      column = column - matrix @ (earlier * (matrix.T @ column))
    return matrix.at[:, j].set(column / jnp.linalg.norm(column))

  q = jax.lax.fori_loop(0, gaussian.shape[1], orthonormalise_column, gaussian)
  return (q if tall else q.T).astype(dtype)


def _initializers(init_scheme: str, fan_in: int, impl: str):
  """Kernel and bias initialisers for a layer with ``fan_in`` inputs.

  ``impl`` (resolved, ``'library'`` or ``'portable'``) only matters for the
  ``'orthogonal'`` scheme.
  """
  if init_scheme == "torch":
    bound = 1.0 / math.sqrt(fan_in)
    # variance_scaling(1/3, fan_in, uniform) is U(-1/sqrt(fan_in), +...).
    kernel_init = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")

    def bias_init(key, shape, dtype=jnp.float32):
      return jax.random.uniform(key, shape, dtype, -bound, bound)

    return kernel_init, bias_init
  if init_scheme == "lecun":
    return nn.initializers.lecun_normal(), nn.initializers.zeros
  if init_scheme == "orthogonal":
    if impl == "library":
      return nn.initializers.orthogonal(), nn.initializers.zeros
    return orthogonal_init, nn.initializers.zeros
  raise ValueError(f"init_scheme must be one of {INITS}, got {init_scheme!r}")


@jax.checkpoint
def conv_same(x, kernel):
  """Stride-1 ``SAME`` cross-correlation (``nn.Conv``'s) as one matmul.

  The ``k_h k_w`` shifted copies of the zero-padded input are laid side by
  side on the channel axis (im2col) and multiplied by the kernel reshaped to
  ``[k_h k_w C, O]``. Mathematically what ``lax.conv_general_dilated``
  computes, but in the vmapped CNN training step XLA:CPU ran the
  convolutions' gradients so slowly that the paper's CNN took 35 s per
  network-epoch (1.7 s this way). Checkpointed: the backward pass
  rebuilds the patches from ``x`` instead of keeping ``k_h k_w`` times the
  layer's activations alive per layer. This is the portable path, the
  default on CPU; elsewhere `CNN` uses ``nn.Conv`` (its ``impl``).

  Args:
    x: ``[N, H, W, C]`` inputs.
    kernel: ``[k_h, k_w, C, O]`` weights, odd ``k_h`` and ``k_w``.

  Returns:
    ``[N, H, W, O]``.
  """
  k_h, k_w, _, outputs = kernel.shape
  if k_h % 2 == 0 or k_w % 2 == 0:
    raise ValueError(f"conv_same needs an odd kernel size, got {kernel.shape}")
  _, h, w, _ = x.shape
  padded = jnp.pad(x, ((0, 0), (k_h // 2,) * 2, (k_w // 2,) * 2, (0, 0)))
  # Tap-major, channel-minor: the order of kernel.reshape(-1, O)'s rows.
  patches = jnp.concatenate(
      [padded[:, dy : dy + h, dx : dx + w] for dy in range(k_h) for dx in range(k_w)], axis=-1
  )
  return patches @ kernel.reshape(-1, outputs)


class _Conv(nn.Module):
  """``nn.Conv`` (stride 1, ``SAME``) by `conv_same`; same parameters."""

  features: int
  kernel_size: tuple
  kernel_init: Any
  bias_init: Any

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init, (self.features,))
    return conv_same(x, kernel) + bias


def _batch_norm(train: bool):
  return nn.BatchNorm(
      use_running_average=not train, momentum=BATCH_NORM_MOMENTUM, epsilon=BATCH_NORM_EPSILON
  )


class _Block(nn.Module):
  """Normalisation, LeakyReLU and dropout shared by the MLP and CNN layers."""

  batch_norm: bool

  @nn.compact
  def __call__(self, x, alpha, dropout_rate, dropout_key, train):
    if self.batch_norm:
      x = _batch_norm(train)(x)
    else:
      x = x * variance_preserving_gain(alpha)
    x = jax.nn.leaky_relu(x, alpha)  # the slope may be traced (a vmapped grid axis)
    if train and dropout_key is not None:
      x = dropout(x, dropout_rate, dropout_key)
    return x


class MLP(nn.Module):
  """SPEC MLP: ``depth`` hidden layers of ``width`` units and a read-out.

  Attributes:
    depth: number of hidden layers (the paper's "depth 8" net has 7).
    width: hidden units per layer.
    num_outputs: read-out size (classes, or regression targets).
    batch_norm: BatchNorm on the input and after every hidden linear layer;
      if off, the input is used as is and hidden layers are scaled by
      `variance_preserving_gain` instead.
    init_scheme: one of `INITS` (``init`` would shadow ``Module.init``).
    use_bias: biases in every linear layer.
    impl: one of `IMPLS`: the orthogonal initialiser, `orthogonal_init`
      (``'portable'``) or ``nn.initializers.orthogonal`` (``'library'``);
      ``'auto'`` is the first on CPU (`featurespring.metrics.resolve_impl`).
  """

  depth: int = 7
  width: int = 100
  num_outputs: int = 10
  batch_norm: bool = True
  init_scheme: str = "torch"
  use_bias: bool = True
  impl: str = "auto"

  @nn.compact
  def __call__(self, x, alpha, dropout_rate=0.0, dropout_key=None, train: bool = False):
    """Returns ``(logits [N, num_outputs], features)``, see module docstring.

    Args:
      x: ``[N, D]`` inputs.
      alpha: LeakyReLU negative slope (scalar, may be traced).
      dropout_rate: dropout after each hidden activation (may be traced).
      dropout_key: PRNG key for dropout; no dropout when None.
      train: batch statistics and dropout when True; running statistics and
        no dropout when False.
    """
    impl = resolve_impl(self.impl)
    if self.batch_norm:
      x = _batch_norm(train)(x)
    features = [x]
    for layer in range(self.depth):
      kernel_init, bias_init = _initializers(self.init_scheme, x.shape[-1], impl)
      x = nn.Dense(
          self.width, use_bias=self.use_bias, kernel_init=kernel_init, bias_init=bias_init
      )(x)
      layer_key = None if dropout_key is None else jax.random.fold_in(dropout_key, layer)
      x = _Block(self.batch_norm)(x, alpha, dropout_rate, layer_key, train)
      features.append(x)
    kernel_init, bias_init = _initializers(self.init_scheme, x.shape[-1], impl)
    logits = nn.Dense(
        self.num_outputs, use_bias=self.use_bias, kernel_init=kernel_init, bias_init=bias_init
    )(x)
    return logits, tuple(features)

  def normalised_away(self) -> tuple[tuple[str, str], ...]:
    """``(module, parameter)`` names that BatchNorm removes in train mode.

    The input BatchNorm's shift and every hidden bias: each adds a constant
    per unit in front of a hidden BatchNorm. See `stop_normalised_away`.
    """
    if not self.batch_norm:
      return ()
    hidden = tuple((f"Dense_{layer}", "bias") for layer in range(self.depth) if self.use_bias)
    return (("BatchNorm_0", "bias"),) + hidden


class CNN(nn.Module):
  """SPEC CNN (SM S2): same-shape conv layers and a linear read-out.

  Each layer is a 3x3 convolution with ``channels`` outputs, BatchNorm,
  LeakyReLU, then 2x2 max pooling followed by 2x nearest upsampling so every
  intermediate layer has the input's spatial shape, then dropout.

  Attributes:
    image_shape: ``(height, width, channels)`` of one input; inputs may come
      flattened. Height and width must be even.
    depth: number of convolutional layers.
    channels: channels per convolutional layer.
    num_outputs: read-out size.
    batch_norm: as for `MLP`.
    init_scheme: one of `INITS` (``init`` would shadow ``Module.init``).
    impl: one of `IMPLS`. ``'portable'``: convolutions by `conv_same` and
      the orthogonal init by `orthogonal_init`; ``'library'``: ``nn.Conv``
      (``SAME`` padding) and ``nn.initializers.orthogonal``; ``'auto'``:
      portable on CPU, library elsewhere
      (`featurespring.metrics.resolve_impl`). The parameter tree is the
      same either way (``Conv_i`` with ``kernel [3, 3, C, O]`` and ``bias
      [O]``, as ``nn.Conv`` makes), so parameters made on one path run on
      the other.
  """

  image_shape: Sequence[int] = (10, 10, 1)
  depth: int = 7
  channels: int = 16
  num_outputs: int = 10
  batch_norm: bool = True
  init_scheme: str = "torch"
  impl: str = "auto"

  @nn.compact
  def __call__(self, x, alpha, dropout_rate=0.0, dropout_key=None, train: bool = False):
    """Same contract as `MLP.__call__`; features are flattened maps."""
    height, width, _ = self.image_shape
    if height % 2 or width % 2:
      raise ValueError(
          f"image_shape height and width must be even for 2x2 "
          f"pooling + upsampling, got {self.image_shape}"
      )
    impl = resolve_impl(self.impl)
    x = x.reshape((x.shape[0], *self.image_shape))
    if self.batch_norm:
      x = _batch_norm(train)(x)
    features = [x.reshape(x.shape[0], -1)]
    for layer in range(self.depth):
      kernel_init, bias_init = _initializers(self.init_scheme, 9 * x.shape[-1], impl)
      # _Conv is named as nn.Conv would be: the same parameter tree and init
      # keys on both paths.
      if impl == "library":
        conv = nn.Conv(
            self.channels,
            (3, 3),
            padding="SAME",
            kernel_init=kernel_init,
            bias_init=bias_init,
            name=f"Conv_{layer}",
        )
      else:
        conv = _Conv(self.channels, (3, 3), kernel_init, bias_init, name=f"Conv_{layer}")
      x = conv(x)
      layer_key = None if dropout_key is None else jax.random.fold_in(dropout_key, layer)
      # Dropout goes after resampling so that it acts on the layer's output.
      x = _Block(self.batch_norm)(x, alpha, 0.0, None, train)
      x = nn.max_pool(x, (2, 2), strides=(2, 2))
      x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
      if train and layer_key is not None:
        x = dropout(x, dropout_rate, layer_key)
      features.append(x.reshape(x.shape[0], -1))
    flat = x.reshape(x.shape[0], -1)
    kernel_init, bias_init = _initializers(self.init_scheme, flat.shape[-1], impl)
    logits = nn.Dense(self.num_outputs, kernel_init=kernel_init, bias_init=bias_init)(flat)
    return logits, tuple(features)

  def normalised_away(self) -> tuple[tuple[str, str], ...]:
    """``(module, parameter)`` names that BatchNorm removes in train mode.

    Every convolution's bias. Not the input BatchNorm's shift: the first
    convolution's zero padding makes its effect vary across the image.
    See `stop_normalised_away`.
    """
    if not self.batch_norm:
      return ()
    return tuple((f"Conv_{layer}", "bias") for layer in range(self.depth))


def stop_normalised_away(model, params):
  """``params`` with no gradient into ``model.normalised_away()``.

  A BatchNorm subtracts the batch mean in train mode, so a constant added
  per unit just before it (a bias, or a shift two layers up) does not
  change the loss: its exact gradient is 0. In float32 the computed one is
  round-off (~1e-8) whose sign follows the summation order, which XLA sets
  by the shape of the whole vmapped population, and Adam divides it by its
  own root mean square into steps of up to the learning rate. The
  parameter then wanders by noise and moves eval-mode features through the
  lagging running mean: the same net trained alone and in a population of
  5 gave trace separations up to 5e-3 apart (pinv 5e-2) after 5 to 20 Adam
  steps, 2e-6 (3e-5) with this. The parameters keep their initial values,
  as in exact arithmetic, and nothing else changes: the forward pass is
  the same to the bit. (PyTorch's reference code has the same round-off
  walk; it is noise, not part of the model.)

  Args:
    model: an `MLP` or `CNN`.
    params: its ``params`` collection.

  Returns:
    The same tree, those leaves wrapped in `jax.lax.stop_gradient`.
  """
  params = dict(params)
  for module, name in model.normalised_away():
    params[module] = {**params[module], name: jax.lax.stop_gradient(params[module][name])}
  return params


def scale_kernels(params, scale):
  """Multiplies every weight matrix/kernel (not biases) by ``scale``.

  Used after ``init`` to apply the weight-init scale hyperparameter, which
  may be a traced array.
  """

  def scale_leaf(path, leaf):
    is_kernel = getattr(path[-1], "key", None) == "kernel"
    return leaf * scale if is_kernel else leaf

  return jax.tree_util.tree_map_with_path(scale_leaf, params)

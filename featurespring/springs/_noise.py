"""Unit-variance noise for thousands of chains, cheaply and reproducibly.

On CPU the random numbers, not the spring forces, dominate a chain step:
``jax.random`` (threefry) costs ~20-35 ns per 32-bit word on this project's
2-core reference machine, a chain update a few ns. The default generator is
therefore counter based: a chain's noise at (step t, block l) is a keyed
integer hash of (t, l), with no key splitting or state, so any chain can be
re-simulated alone and gives the same numbers as inside a grid.

The hash is Chris Wellons' ``triple32`` (three xorshift-multiply rounds, the
lowest-bias 32-bit integer hash found by his hash prospector), applied twice:
once per (chain, step) to a step word, once per block. Keys are two 32-bit
words per chain drawn with ``jax.random`` from the user's key. The
``threefry`` generator is kept as a reference so that any result can be
checked not to depend on the generator.

Uniform bits become unit-variance noise by inverse transform sampling with
24-bit resolution (the Gaussian tails are cut at ~5.3 std, beyond anything a
run of 10^7 draws per chain would visit with appreciable probability).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

_GOLDEN = 0x9E3779B9


def _triple32(x):
  x = x ^ (x >> 17)
  x = x * jnp.uint32(0xED5AD4BB)
  x = x ^ (x >> 11)
  x = x * jnp.uint32(0xAC4C1B51)
  x = x ^ (x >> 15)
  x = x * jnp.uint32(0x31848BAB)
  x = x ^ (x >> 14)
  return x


def chain_keys(key, batch_shape):
  """Two uint32 words per chain, ``[2, *batch_shape]``, from a key or key array.

  A single key is split over a non-empty batch (so chain i of a grid equals
  a single-chain run with ``jax.random.split(key, n)[i]``); a key array must
  broadcast to the batch shape and gives each chain its own stream.
  """
  key = _as_typed_key(key)
  if key.shape == () and batch_shape:
    n = math.prod(batch_shape)
    keys = jax.random.split(key, n).reshape(batch_shape)
  else:
    keys = jnp.broadcast_to(key, batch_shape)
  words = jax.vmap(lambda k: jax.random.bits(k, (2,), jnp.uint32))(keys.reshape(-1))
  return words.T.reshape((2,) + tuple(batch_shape))


def _as_typed_key(key):
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    return key
  if key.dtype == jnp.uint32 and key.shape[-1:] == (2,):
    return jax.random.wrap_key_data(key)
  raise ValueError(
      "key must be a jax.random.key / PRNGKey or an array of them, "
      f"got dtype {key.dtype} and shape {key.shape}"
  )


def counter_bits(words, step, num_blocks, synchronous):
  """Random uint32 bits for one step: ``[L, B]`` (or ``[1, B]`` if synchronous).

  Args:
    words: ``[2, B]`` uint32 chain keys from :func:`chain_keys`.
    step: scalar int32 step index.
  """
  step_word = _triple32(step.astype(jnp.uint32) * jnp.uint32(_GOLDEN) ^ words[1])
  block_salt = words[0] + jnp.uint32(_GOLDEN)
  if synchronous:
    return _triple32(step_word ^ block_salt)[None]
  blocks = jnp.arange(num_blocks, dtype=jnp.uint32)[:, None] * jnp.uint32(0x85EBCA6B)
  return _triple32(step_word[None] ^ (block_salt[None] + blocks))


def threefry_noise(chain_key_data, step, num_blocks, synchronous, noise_dist, noise_cut):
  """Reference generator: ``jax.random`` noise per chain and step, ``[L, B]``."""
  rows = 1 if synchronous else num_blocks

  def one_chain(key_data, cut):
    key = jax.random.fold_in(jax.random.wrap_key_data(key_data), step)
    if noise_dist == "gaussian":
      return jax.random.normal(key, (rows,))
    if noise_dist == "uniform":
      return jax.random.uniform(key, (rows,), minval=-_SQRT3, maxval=_SQRT3)
    return jax.random.truncated_normal(key, -cut, cut, (rows,)) / truncated_normal_std(cut)

  return jax.vmap(one_chain, out_axes=1)(chain_key_data, noise_cut)


_SQRT3 = math.sqrt(3.0)


def unit_noise(bits, noise_dist, noise_cut):
  """Zero-mean, unit-variance noise from uint32 bits by inverse transform.

  ``noise_cut`` broadcasts against ``bits`` (it may vary per chain).
  """
  # Centred 24-bit uniform: odd integers in (-2^24, 2^24), exact in float32,
  # so the result is symmetric and never +-1 (where erfinv is infinite).
  odd = (bits >> 8).astype(jnp.int32) * 2 - (2**24 - 1)
  signed = odd.astype(jnp.float32) * (2.0**-24)
  if noise_dist == "uniform":
    return _SQRT3 * signed
  if noise_dist == "gaussian":
    return math.sqrt(2.0) * jax.lax.erf_inv(signed)
  # Truncated normal: invert the normal CDF restricted to [-c, c].
  edge = jax.lax.erf(noise_cut * (1.0 / math.sqrt(2.0)))
  return (math.sqrt(2.0) * jax.lax.erf_inv(signed * edge)) / truncated_normal_std(noise_cut)


def truncated_normal_std(cut):
  """Std of a standard normal conditioned on ``|z| <= cut`` (jnp or NumPy)."""
  xp = jnp if isinstance(cut, jax.Array) else np
  cut = xp.asarray(cut)
  mass = _erf(cut / math.sqrt(2.0), xp)
  density = xp.exp(-0.5 * cut * cut) / math.sqrt(2.0 * math.pi)
  return xp.sqrt(1.0 - 2.0 * cut * density / mass)


def _erf(x, xp):
  return jax.lax.erf(x) if xp is jnp else special.erf(x)


def noise_bound(noise_dist, noise_cut):
  """Largest |xi| of the unit-variance law (``inf`` for the Gaussian), NumPy."""
  if noise_dist == "uniform":
    return np.full(np.shape(noise_cut), _SQRT3)
  if noise_dist == "gaussian":
    return np.full(np.shape(noise_cut), np.inf)
  noise_cut = np.asarray(noise_cut, dtype=np.float64)
  return noise_cut / truncated_normal_std(noise_cut)

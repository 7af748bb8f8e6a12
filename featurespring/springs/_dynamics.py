"""One time step of the three chain dynamics of docs/theory.md §3.

Arrays are block-major, ``[L, B]`` for L blocks and B chains, so that every
block's row is a long contiguous vector; per-chain parameters are ``[B]``
rows broadcast over blocks. The step functions are pure and do no
reductions across chains, so a chain's trajectory does not depend on which
other chains are simulated with it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class ChainParams(NamedTuple):
  """Per-chain numeric parameters, each ``[B]`` (already broadcast)."""

  k: jax.Array
  target: jax.Array
  mu_right: jax.Array
  mu_left: jax.Array
  noise: jax.Array
  dt: jax.Array
  gamma: jax.Array
  noise_decay: jax.Array
  noise_cut: jax.Array
  stop_rtol: jax.Array


def elastic_force(x, k, target):
  """``F_l = k (x_{l+1} - 2 x_l + x_{l-1})`` with the wall at 0 and the pull at y."""
  left = jnp.concatenate([jnp.zeros_like(x[:1]), x[:-1]], axis=0)
  right = jnp.concatenate([x[1:], target[None]], axis=0)
  return k * (left + right - 2.0 * x)


def friction_activation(force, mu_right, mu_left):
  """phi(G): G - mu_r above mu_r, G + mu_l below -mu_l, 0 in between.

  Written as a sum of two one-sided ramps, exact because both frictions
  are non-negative, and two ops cheaper than nested selects.
  """
  return jnp.maximum(force - mu_right, 0.0) + jnp.minimum(force + mu_left, 0.0)


def _acceleration_with_friction(net_force, v, mu_right, mu_left):
  """Net force minus friction for a block with velocity v (docs/theory.md §3, SM S6.1).

  Sliding blocks feel -mu_r (moving right) or +mu_l (moving left); a resting
  block feels static friction that cancels the force up to the thresholds,
  leaving exactly phi(net_force).
  """
  static = friction_activation(net_force, mu_right, mu_left)
  return jnp.where(v > 0, net_force - mu_right, jnp.where(v < 0, net_force + mu_left, static))


def _stop_at_reversal(v_old, v_new):
  # Sliding friction decelerates a block to rest but never reverses it: a
  # sign change within one step means the block stopped during that step.
  return jnp.where(
      v_old > 0, jnp.maximum(v_new, 0.0), jnp.where(v_old < 0, jnp.minimum(v_new, 0.0), v_new)
  )


def noise_scale(params: ChainParams, step):
  """eps(t) = eps * exp(-lambda t) at the time of ``step``, per chain ``[B]``."""
  time = step.astype(params.dt.dtype) * params.dt
  return params.noise * jnp.exp(-params.noise_decay * time)


def first_order_step(x, v, xi, params: ChainParams, eps_t):
  """Overdamped chain: ``x <- x + eta phi(F + eps/sqrt(eta) xi)``."""
  force = elastic_force(x, params.k, params.target) + (eps_t * jax.lax.rsqrt(params.dt)) * xi
  return x + params.dt * friction_activation(force, params.mu_right, params.mu_left), v


def second_order_step(x, v, xi, params: ChainParams, eps_t):
  """Unit masses, damping gamma, friction acting on the noisy force.

  Semi-implicit (symplectic) Euler: velocity first, then position with the
  new velocity, which keeps the undamped oscillation bounded.
  """
  net = (
      elastic_force(x, params.k, params.target)
      + (eps_t * jax.lax.rsqrt(params.dt)) * xi
      - params.gamma * v
  )
  accel = _acceleration_with_friction(net, v, params.mu_right, params.mu_left)
  v_new = _stop_at_reversal(v, v + params.dt * accel)
  return x + params.dt * v_new, v_new


def langevin_step(x, v, xi, params: ChainParams, eps_t):
  """Friction from the velocity before the noise; noise ``eps dW`` into v."""
  net = elastic_force(x, params.k, params.target) - params.gamma * v
  accel = _acceleration_with_friction(net, v, params.mu_right, params.mu_left)
  v_det = _stop_at_reversal(v, v + params.dt * accel)
  v_new = v_det + (eps_t * jnp.sqrt(params.dt)) * xi
  return x + params.dt * v_new, v_new


STEP_FUNCTIONS = {
    "first_order": first_order_step,
    "second_order": second_order_step,
    "langevin": langevin_step,
}


def max_stiffness_eigenvalue(num_blocks: int) -> float:
  """Largest eigenvalue of the chain's stiffness matrix over k, ``< 4``.

  The elastic force is ``F = -k A x + const`` with ``A`` the ``L x L``
  tridiagonal ``(-1, 2, -1)`` matrix (wall and pull fixed), whose
  eigenvalues are ``4 sin^2(j pi / (2 (L + 1)))``, ``j = 1..L``.
  """
  # = 4 sin^2(pi L / (2 (L + 1))), in the form exact to rounding (2 for L = 1).
  return 2.0 + 2.0 * math.cos(math.pi / (num_blocks + 1))


# How each step function's stability number grows with k and dt; every
# dynamics needs it below 2 / lambda_max. Friction and noise leave it
# unchanged: phi has slope 0 or 1, so every friction regime sees a principal
# submatrix of A, whose eigenvalues interlace below lambda_max.
#
# first_order: explicit Euler on x' = phi(-k A x + ...); the mode of
#   eigenvalue lambda is multiplied by 1 - k dt lambda per step, stable iff
#   k dt lambda_max < 2. Tight: frictionless chains blow up from 0.25% above
#   (the resolution measured).
# second_order, langevin: semi-implicit Euler. Without the velocity clamp
#   (`_stop_at_reversal`) a mode's amplification matrix would have
#   determinant 1 - gamma dt and trace 2 - gamma dt - k dt^2 lambda, stable
#   iff k dt^2 lambda_max + 2 gamma dt < 4. The clamp changes both terms: it
#   sets a velocity that would reverse within a step to 0, so damping cannot
#   overshoot (any gamma dt is stable), and a block restarting from rest
#   moves by dt^2 * phi(F), an explicit Euler step of size dt^2, stable iff
#   k dt^2 lambda_max < 2: the bound enforced. Measured (30k steps, L = 1..20,
#   gamma = 0.5..100, with and without friction and noise): no chain below it
#   blows up; a single block does from 2% above it; long, strongly damped
#   chains only from k dt^2 ~ 1. Weak damping has a further limit that is not
#   enforced: the clamp feeds energy in at turning points, and chains with
#   gamma below about 0.1 k lambda_max dt can grow slowly (seen within 200k
#   steps, less with friction); the result's `diverged` flag reports it.
STABILITY_NUMBERS = {
    "first_order": ("k*dt", lambda k, dt: k * dt),
    "second_order": ("k*dt^2", lambda k, dt: k * dt * dt),
    "langevin": ("k*dt^2", lambda k, dt: k * dt * dt),
}


def stability_limit(num_blocks: int) -> float:
  """The stability number of every dynamics must stay below ``2 / lambda_max``."""
  return 2.0 / max_stiffness_eigenvalue(num_blocks)


def stability_number(dynamics: str, k, dt) -> np.ndarray:
  """``k dt`` (first order) or ``k dt^2`` (inertial), float64 NumPy."""
  _, number = STABILITY_NUMBERS[dynamics]
  return number(np.asarray(k, np.float64), np.asarray(dt, np.float64))

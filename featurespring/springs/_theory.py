"""Closed-form theory of the chain (docs/theory.md §3), beside the simulator.

Computed in float64 NumPy: these are reference values that tests and plots
compare simulations against, not part of any jitted hot path.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from featurespring.springs import _config
from featurespring.springs import _noise


def equilibrium_load_curve(num_blocks, target, k, mu):
  """Noiseless equilibrium load curve ``[..., L+1]`` of a first-order chain.

  With friction ``mu`` (use ``mu_eff`` for a noisy chain) every block that
  moves stops where its elastic force equals ``mu``:
  ``d_l = (L + 1 - l) * (y / (L + 1) + mu * l / (2k))`` (docs/theory.md §3), concave for
  ``mu > 0``, linear for 0, convex for ``mu < 0``. That needs
  ``y / (L + 1) >= mu L / (2k)``; when it fails, only the deepest ``n`` blocks
  move, ``n`` the largest with ``2 k y >= mu n (n + 1)``: the shallow blocks
  stay at 0 (``d_l = y``) because the force reaching them never exceeds
  ``mu``, and the moving part obeys the same formula with ``n`` blocks
  anchored at the last stuck one.

  Args broadcast against each other; ``num_blocks`` is a Python int.
  """
  if (
      isinstance(num_blocks, bool)
      or not isinstance(num_blocks, (int, np.integer))
      or num_blocks < 1
  ):
    raise ValueError(f"num_blocks must be an integer >= 1, got {num_blocks!r}")
  target, k, mu = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (target, k, mu)))
  if np.any(k <= 0):
    raise ValueError(f"k must be > 0, got {k[k <= 0].ravel()[:3]}")
  blocks = np.arange(num_blocks + 1)
  sizes = np.arange(num_blocks + 1)
  # Largest n <= L with 2ky >= mu n (n+1); n = 0 always qualifies for y >= 0.
  fits = 2.0 * k[..., None] * target[..., None] >= mu[..., None] * sizes * (sizes + 1)
  moving = np.where(fits, sizes, 0).max(axis=-1)
  stuck = num_blocks - moving
  j = blocks - stuck[..., None]  # index within the moving part
  n = moving[..., None]
  moving_part = (n + 1 - j) * (
      target[..., None] / (n + 1) + mu[..., None] * j / (2.0 * k[..., None])
  )
  return np.where(j <= 0, target[..., None], moving_part)


def partial_expectation(threshold, noise_dist, noise_cut=2.0):
  """``E[(xi - t)_+]`` for the unit-variance noise law, vectorised, float64."""
  t = np.asarray(threshold, np.float64)
  if noise_dist == "gaussian":
    return np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi) - t * special.ndtr(-t)
  if noise_dist == "uniform":
    a = np.sqrt(3.0)
    inside = (a - t) ** 2 / (4.0 * a)
    return np.where(t >= a, 0.0, np.where(t <= -a, -t, inside))
  if noise_dist == "truncated_normal":
    cut = np.asarray(noise_cut, np.float64)
    std = _noise.truncated_normal_std(cut)
    z = t * std  # threshold in units of the untruncated normal
    mass = special.erf(cut / np.sqrt(2.0))
    pdf = lambda u: np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
    inside = (pdf(z) - pdf(cut) - z * (special.ndtr(cut) - special.ndtr(z))) / mass / std
    return np.where(z >= cut, 0.0, np.where(z <= -cut, -t, inside))
  raise ValueError(f"noise_dist must be one of {_config.NOISE_DISTS}, got {noise_dist!r}")


def mean_friction_activation(
    force, mu_right, mu_left, noise, dt, noise_dist="truncated_normal", noise_cut=2.0
):
  """``E_xi[phi(F + eps_bar xi)]`` with ``eps_bar = eps / sqrt(dt)``, closed form.

  ``phi(G) = (G - mu_r)_+ - (-mu_l - G)_+``, and by the symmetry of xi each
  ramp's mean is ``eps_bar * E[(xi - t)_+]`` at the matching threshold.
  """
  force, mu_right, mu_left, noise, dt = np.broadcast_arrays(
      *(np.asarray(a, np.float64) for a in (force, mu_right, mu_left, noise, dt))
  )
  scale = noise / np.sqrt(dt)
  noiseless = np.maximum(force - mu_right, 0.0) + np.minimum(force + mu_left, 0.0)
  safe = np.where(scale > 0, scale, 1.0)
  noisy = safe * (
      partial_expectation((mu_right - force) / safe, noise_dist, noise_cut)
      - partial_expectation((mu_left + force) / safe, noise_dist, noise_cut)
  )
  return np.where(scale > 0, noisy, noiseless)


def effective_friction(
    mu_right, mu_left, noise, dt, noise_dist="truncated_normal", noise_cut=2.0, horizon=None
):
  """``mu_eff``: the largest root ``F*`` of ``E[phi(F + eps_bar xi)] = 0`` (docs/theory.md §3).

  For symmetric noise bounded by ``b`` (in units of its std), the mean
  activation is exactly zero on ``[-mu_l + b eps_bar, mu_r - b eps_bar]`` and
  increasing above it, and ``(mu_r - mu_l) / 2`` is always a root, so the
  largest root is exact in closed form:
  ``mu_eff = max(mu_r - b eps_bar, (mu_r - mu_l) / 2)``.
  It equals ``mu_r`` without noise, falls linearly with the noise, and
  saturates at ``(mu_r - mu_l) / 2`` (``mean_friction_activation`` checks
  this root numerically in the tests).

  Gaussian noise is unbounded, so every ``eps > 0`` gives the single root
  ``(mu_r - mu_l) / 2``, reached only after a time exponential in ``1/eps``.
  Pass ``horizon`` (number of noise draws a block sees, e.g. the number of
  steps) for the finite-horizon theory instead: the Gaussian is treated as
  bounded at the level it exceeds once per ``horizon`` draws,
  ``b = Phi^{-1}(1 - 1/horizon)``. This is a heuristic, not a forecast: a
  single kick beyond the bound does not move the curve much, and simulated
  chains turn linear far later than it says (measured in
  ``experiments/reproduction/README.md``, "SM S6.2").

  Args broadcast against each other; returns float64 NumPy.
  """
  if noise_dist not in _config.NOISE_DISTS:
    raise ValueError(f"noise_dist must be one of {_config.NOISE_DISTS}, got {noise_dist!r}")
  mu_right, mu_left, noise, dt, noise_cut = np.broadcast_arrays(
      *(np.asarray(a, np.float64) for a in (mu_right, mu_left, noise, dt, noise_cut))
  )
  for name, value in (("mu_right", mu_right), ("mu_left", mu_left), ("noise", noise)):
    if np.any(value < 0):
      raise ValueError(f"{name} must be >= 0")
  if np.any(dt <= 0):
    raise ValueError("dt must be > 0")
  if horizon is not None and horizon <= 1:
    raise ValueError(f"horizon must be > 1 noise draws, got {horizon}")
  bound = _noise.noise_bound(noise_dist, noise_cut)
  if noise_dist == "gaussian" and horizon is not None:
    bound = np.full_like(bound, special.ndtri(1.0 - 1.0 / horizon))
  scale = noise / np.sqrt(dt)
  # inf * 0 would be nan for the Gaussian without noise: no noise, no shift.
  shift = np.where(scale > 0, bound * np.where(scale > 0, scale, 1.0), 0.0)
  return np.maximum(mu_right - shift, 0.5 * (mu_right - mu_left))


def critical_noise(
    mu_right, dt, noise_dist="truncated_normal", noise_cut=2.0, horizon=None, *, mu_left=None
):
  """Noise level at which ``mu_eff = 0`` (linear load curve) when ``mu_l > mu_r``.

  The theory's zero-curvature line ``eps* = mu_r sqrt(dt) / b`` of the spring
  phase diagram; 0 for unbounded Gaussian noise without a horizon.

  A zero crossing needs ``mu_l > mu_r``: ``mu_eff`` falls with the noise to
  ``(mu_r - mu_l) / 2``, which is >= 0 otherwise, so the curve never turns
  convex. Pass ``mu_left`` and such entries are NaN (per entry, so a grid
  keeps its other values). Without ``mu_left`` the crossing cannot be checked
  and ``mu_l > mu_r`` is assumed, with a warning.

  Args broadcast against each other; returns float64 NumPy.
  """
  if mu_left is None:
    warnings.warn(
        "critical_noise without mu_left assumes mu_left > mu_right; pass mu_left= to get "
        "NaN where no zero crossing exists",
        stacklevel=2,
    )
    mu_left = np.inf
  mu_right, mu_left, dt, noise_cut = np.broadcast_arrays(
      *(np.asarray(a, np.float64) for a in (mu_right, mu_left, dt, noise_cut))
  )
  bound = _noise.noise_bound(noise_dist, noise_cut)
  if noise_dist == "gaussian" and horizon is not None:
    bound = np.full_like(bound, special.ndtri(1.0 - 1.0 / horizon))
  return np.where(mu_left > mu_right, mu_right * np.sqrt(dt) / bound, np.nan)

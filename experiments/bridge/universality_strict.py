"""The strictest universality: one chain per network, one noise map per knob.

:func:`experiments.bridge.universality.fit_joint` shares ``(mu_r, mu_l)`` across the
grids of a row but lets every (knob, row) pair have its own scale ``s``. The
theory's strongest form (issue 12, point 4) says more: a knob reaches every
network's chain through the *same* map ``eps = s_k g_k(knob)``, so the scale
belongs to the knob alone. That model has ``2 R + G`` parameters for ``R``
rows and ``G`` grids (against ``R (2 + G)`` for ``fit_joint`` and ``3 R G``
for separate fits):

    mu_eff[r, k, n] = mu_r[r] - min(m_k z_kn, d_r),   d_r = mu_r - floor_r,

with ``m_k = s_k b / sqrt(dt)`` (:data:`NOISE_SLOPE`), ``mu_r >= 0`` and
``mu_l = 2 d_r - mu_r >= 0``. The rows are coupled through the ``m_k``, so
there is no per-row closed form; the least squares is solved by Adam from
many random starts at once (one vmapped, jitted call; the best start wins),
on frictions and knob coordinates normalised to unit range so that one
learning rate serves every grid.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from featurespring.bridge import _noise_map as nm

NUM_STARTS = 256
NUM_STEPS = 1500
LEARNING_RATE = 0.05


@dataclasses.dataclass(frozen=True)
class UniversalFit:
  """Result of :func:`fit_universal`.

  Attributes:
    mu_right, mu_left: ``[R]`` frictions per row (``mu_left`` of a row whose
      floor lies beyond every grid's range is only bounded below; see
      ``saturated``).
    scale: ``[G]`` knob-to-noise scale ``s_k`` per grid, in the reference
      chain's units (:data:`featurespring.bridge.REFERENCE_CHAIN`).
    saturated: ``[R]`` whether some cell of the row sits on its floor.
    rss: residual sum of squares over every used cell; ``num_cells``,
      ``num_params`` (``2 R + G``) for information criteria.
    params: what :func:`refit_universal` starts bootstrap refits from.
  """

  mu_right: np.ndarray
  mu_left: np.ndarray
  scale: np.ndarray
  saturated: np.ndarray
  rss: float
  num_cells: int
  num_params: int
  params: tuple = None  # (normalised parameters, y scale, z scales): for refit_universal


def _unpack(params):
  a = jax.nn.softplus(params["a"])
  d = a / 2 + jax.nn.softplus(params["d"])  # mu_l = 2 d - a >= 0
  return a, d, jnp.exp(params["log_m"])


def _predict(params, z):
  """``[R, G, N]`` frictions from unconstrained parameters; ``z``: ``[G, N]``."""
  a, d, m = _unpack(params)
  return a[:, None, None] - jnp.minimum(m[None, :, None] * z[None], d[:, None, None])


def _adam(params, z, y, w, num_steps):
  """``num_steps`` of Adam on the weighted least squares from ``params``; (params, loss)."""
  optimizer = optax.adam(LEARNING_RATE)

  def loss(p):
    return jnp.sum(w * (y - _predict(p, z)) ** 2)

  def step(carry, _):
    p, state = carry
    grads = jax.grad(loss)(p)
    updates, state = optimizer.update(grads, state)
    return (optax.apply_updates(p, updates), state), None

  (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), None, length=num_steps)
  return params, loss(params)


@functools.partial(jax.jit, static_argnums=(3, 4))
def _solve(z, y, w, num_starts, num_steps, key):
  """Best of ``num_starts`` Adam runs; ``z`` ``[G, N]``, ``y``/``w`` ``[R, G, N]`` (normalised)."""
  num_rows, num_grids = y.shape[0], y.shape[1]
  ka, kd, km = jax.random.split(key, 3)
  inv_softplus = lambda v: jnp.log(jnp.expm1(jnp.maximum(v, 1e-4)))
  top = jnp.max(jnp.where(w > 0, y, -jnp.inf), (1, 2))
  top = jnp.maximum(jnp.where(jnp.isfinite(top), top, 1.0), 0.05)
  starts = {
      "a": inv_softplus(
          top[None] * jax.random.uniform(ka, (num_starts, num_rows), minval=0.8, maxval=1.5)
      ),
      "d": jax.random.normal(kd, (num_starts, num_rows)),
      # Slopes from a tenth to ten times "the whole range falls over the whole knob range".
      "log_m": jax.random.uniform(
          km, (num_starts, num_grids), minval=np.log(0.1), maxval=np.log(10.0)
      ),
  }
  params, losses = jax.vmap(lambda p: _adam(p, z, y, w, num_steps))(starts)
  losses = jnp.where(jnp.isfinite(losses), losses, jnp.inf)
  best = jnp.argmin(losses)
  return jax.tree_util.tree_map(lambda p: p[best], params), losses[best]


@functools.partial(jax.jit, static_argnums=(4,))
def _refit(params, z, ys, ws, num_steps):
  """Warm-started refits of replicates ``ys`` ``[B, R, G, N]`` (a seed bootstrap), vmapped."""
  return jax.vmap(lambda y, w: _adam(params, z, y, w, num_steps)[0])(ys, ws)


def fit_universal(
    knob_values,
    friction,
    knob_maps,
    *,
    weights=None,
    num_starts: int = NUM_STARTS,
    num_steps: int = NUM_STEPS,
    seed: int = 0,
) -> UniversalFit:
  """Fits one ``(mu_r, mu_l)`` per row and one noise scale per grid to several grids.

  Args:
    knob_values: sequence (one per grid) of ``[N_k]`` knob values.
    friction: sequence of ``[R, N_k]`` fitted frictions (rows in the same
      order in every grid; NaN cells are masked).
    knob_maps: sequence of map names (:data:`KNOB_MAPS`), one per grid.
    weights: optional sequence of ``[R, N_k]`` non-negative weights.
    num_starts, num_steps: random starts and Adam steps per start.
    seed: of the random starts (the fit is deterministic given it).

  Returns:
    A :class:`UniversalFit`.

  Raises:
    ValueError: mismatched sequences or rows, a bad knob value (naming the
      argument), or fewer used cells than parameters.
  """
  if not (len(knob_values) == len(friction) == len(knob_maps)) or not knob_values:
    raise ValueError(
        "knob_values, friction and knob_maps must be sequences of one entry per grid, got "
        f"lengths {len(knob_values)}, {len(friction)}, {len(knob_maps)}"
    )
  for name, value in (("num_starts", num_starts), ("num_steps", num_steps)):
    if not isinstance(value, (int, np.integer)) or value < 1:
      raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
  ys = [
      np.asarray(nm._check_friction(f, f"friction[{i}]"), np.float64)
      for i, f in enumerate(friction)
  ]
  if any(y.ndim != 2 for y in ys) or len({y.shape[0] for y in ys}) != 1:
    raise ValueError(
        f"friction must be [R, N_k] arrays with the same R, got {[y.shape for y in ys]}"
    )
  z, y, w = _stack(knob_values, ys, knob_maps, weights)
  num_rows, num_grids = ys[0].shape[0], len(ys)
  num_cells = int((w > 0).sum())
  num_params = 2 * num_rows + num_grids
  if num_cells < num_params:
    raise ValueError(
        f"friction has {num_cells} used cells, fewer than the {num_params} parameters "
        f"(2 per row + 1 per grid)"
    )
  # Unit ranges: frictions by their largest magnitude, each knob by its largest coordinate.
  y_scale = max(float(np.max(np.abs(y[w > 0]))), 1e-12)
  z_scale = np.maximum(np.max(np.abs(z), 1), 1e-12)
  params, rss = _solve(
      jnp.asarray(z / z_scale[:, None], jnp.float32),
      jnp.asarray(y / y_scale, jnp.float32),
      jnp.asarray(w, jnp.float32),
      int(num_starts),
      int(num_steps),
      jax.random.key(seed),
  )
  fit = _from_params(params, z, w, y_scale, z_scale)
  return dataclasses.replace(
      fit,
      rss=float(rss) * y_scale**2,
      num_cells=num_cells,
      num_params=num_params,
      params=(params, y_scale, z_scale),
  )


def _stack(knob_values, friction, knob_maps, weights):
  """``z`` ``[G, N]``, ``y`` ``[..., R, G, N]`` and ``w`` (0 where unused), padded to the widest grid."""
  ys = [np.asarray(f, np.float64) for f in friction]
  zs = [np.asarray(nm.knob_coordinate(k, m), np.float64) for k, m in zip(knob_values, knob_maps)]
  lead, num_rows, num_grids = ys[0].shape[:-2], ys[0].shape[-2], len(ys)
  width = max(y.shape[-1] for y in ys)
  z = np.zeros((num_grids, width))
  y = np.zeros(lead + (num_rows, num_grids, width))
  w = np.zeros(lead + (num_rows, num_grids, width))
  for k, (zk, yk) in enumerate(zip(zs, ys)):
    wk = (
        np.ones_like(yk)
        if weights is None
        else np.broadcast_to(np.asarray(weights[k], np.float64), yk.shape)
    )
    used = np.isfinite(yk) & (wk > 0) & np.isfinite(zk)
    z[k, : zk.size] = np.where(np.isfinite(zk), zk, 0.0)
    y[..., k, : zk.size] = np.where(used, yk, 0.0)
    w[..., k, : zk.size] = np.where(used, wk, 0.0)
  return z, y, w


def _from_params(params, z, w, y_scale, z_scale):
  a, d, m = (np.asarray(v, np.float64) for v in _unpack(params))
  mu_right, reach = a * y_scale, d * y_scale
  slope = m * y_scale / z_scale  # friction per unit knob coordinate
  saturated = np.any(
      (w > 0) & (slope[..., None, :, None] * z >= reach[..., :, None, None]), (-2, -1)
  )
  return UniversalFit(
      mu_right=mu_right,
      mu_left=2 * reach - mu_right,
      scale=slope / nm.NOISE_SLOPE,
      saturated=saturated,
      rss=np.nan,
      num_cells=int((w > 0).sum()),
      num_params=int(mu_right.shape[-1] * 2 + slope.shape[-1]),
  )


def refit_universal(fit_params, knob_values, friction_replicates, knob_maps, *, num_steps=500):
  """:func:`fit_universal` of every replicate ``[B, R, N_k]`` (a seed bootstrap) at once.

  Each replicate starts from ``fit_params`` (the full-data fit's
  :attr:`UniversalFit.params`): replicates differ little from the data, so
  one warm start replaces the random ones. Returns a :class:`UniversalFit`
  whose fields lead with ``B`` (``rss`` left NaN).
  """
  params, y_scale, z_scale = fit_params
  z, y, w = _stack(knob_values, friction_replicates, knob_maps, None)
  replicated = _refit(
      params,
      jnp.asarray(z / z_scale[:, None], jnp.float32),
      jnp.asarray(y / y_scale, jnp.float32),
      jnp.asarray(w, jnp.float32),
      int(num_steps),
  )
  return _from_params(replicated, z, w, y_scale, z_scale)


def predict_universal(fit: UniversalFit, knob_values, knob_map, grid: int):
  """``[..., R, N]`` frictions that ``fit`` predicts for grid ``grid`` at ``knob_values``."""
  z = np.asarray(nm.knob_coordinate(knob_values, knob_map), np.float64)
  slope = np.asarray(fit.scale)[..., grid, None, None] * nm.NOISE_SLOPE
  reach = (np.asarray(fit.mu_right) + np.asarray(fit.mu_left)) / 2
  return np.asarray(fit.mu_right)[..., None] - np.minimum(slope * z, reach[..., None])

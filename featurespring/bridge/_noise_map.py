"""Fit the chain's effective-friction law along the noise axis of a grid.

A row of a phase diagram (one network, one knob swept over ``N`` levels)
gives one fitted friction ``mu_eff`` per cell (:func:`fit_shape`). The chain
of docs/theory.md §3 with bounded noise predicts how it falls with the noise ``eps``:

    mu_eff(eps) = max(mu_r - b eps / sqrt(dt), (mu_r - mu_l) / 2)

(``springs.effective_friction``): a linear fall from ``mu_r`` that stops at
the floor ``(mu_r - mu_l) / 2``. Bounded noise is used because it is the law
whose settled state depends on ``eps``; with Gaussian noise every ``eps > 0``
has the single root ``(mu_r - mu_l) / 2`` (docs/theory.md §3), which cannot describe a
friction that changes along the row.

The knob (dropout rate, learning rate, ...) reaches the chain through a map
``eps = s * g(knob)``: ``g`` is one of :data:`KNOB_MAPS`, ``s > 0`` is
fitted. Only the product ``s * b / sqrt(dt)`` is identifiable, so the
reference chain is fixed: truncated-normal noise cut at ``c = 2`` std and the
default ``ChainConfig.dt = 0.05`` (:data:`REFERENCE_CHAIN`); ``s`` is in the
noise units of that chain, and ``fitted_chain``-style chains built from a fit
must use it.

With ``z = g(knob)`` and ``m = s b / sqrt(dt)`` the law is a hinge,
``mu_eff = mu_r - m * min(z, tau)``, ``tau = (mu_r - floor) / m`` the knob
coordinate where the floor is reached. For a fixed breakpoint ``tau`` it is
linear in ``(mu_r, m)``, so the fit is exhaustive over a grid of ``tau``
with a closed-form constrained least squares for the rest: every row of a
grid, every candidate, at once.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from featurespring.springs import _config
from featurespring.springs import _noise

# The chain the noise scale ``s`` refers to (see the module docstring).
REFERENCE_CHAIN = {"dt": _config.ChainConfig.dt, "noise_dist": "truncated_normal", "noise_cut": 2.0}
# b / sqrt(dt) of the reference chain: mu_eff falls by this times eps.
NOISE_SLOPE = float(
    _noise.noise_bound(REFERENCE_CHAIN["noise_dist"], REFERENCE_CHAIN["noise_cut"])
    / np.sqrt(REFERENCE_CHAIN["dt"])
)
# Parameters of one row's law: mu_r, mu_l, s.
NUM_PARAMS = 3
# Breakpoint candidates per row; the fitted tau is within (range / this) of
# the exact least-squares hinge.
NUM_CANDIDATES = 128

# Why a row is not fit; ``NoiseMapFit.reason`` holds the index.
NOISE_REASONS = ("ok", "too_few_levels", "degenerate", "not_falling")
OK, TOO_FEW, DEGENERATE, NOT_FALLING = range(len(NOISE_REASONS))


@dataclasses.dataclass(frozen=True)
class KnobMap:
  """A map ``z = g(knob)`` from a swept knob to the chain's noise, up to the scale ``s``.

  Attributes:
    name: registry key.
    formula: ``g`` as text, for tables and titles.
    forward: ``g``, elementwise on JAX arrays, ``g >= 0`` on the valid range.
    inverse: ``g^{-1}``, to report the critical knob value.
    low, high: the valid knob range.
    low_open, high_open: whether the range excludes that end.
  """

  name: str
  formula: str
  forward: Callable
  inverse: Callable
  low: float
  high: float
  low_open: bool = False
  high_open: bool = True

  def range_text(self) -> str:
    return f"{'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"

  def contains(self, knob) -> np.ndarray:
    knob = np.asarray(knob, np.float64)
    above = knob > self.low if self.low_open else knob >= self.low
    below = knob < self.high if self.high_open else knob <= self.high
    return np.isfinite(knob) & above & below


def _safe_inverse_power(power):
  # 1/z^power with z = 0 -> inf (an infinitely large batch has no noise).
  return lambda z: jnp.where(z > 0, 1.0 / jnp.where(z > 0, z, 1.0) ** power, jnp.inf)


KNOB_MAPS = {
    m.name: m
    for m in (
        KnobMap("identity", "g = knob", lambda x: x, lambda z: z, 0.0, np.inf),
        KnobMap("sqrt", "g = sqrt(knob)", jnp.sqrt, lambda z: z * z, 0.0, np.inf),
        KnobMap(
            "dropout_std",
            "g = sqrt(p / (1 - p))",
            lambda p: jnp.sqrt(p / (1.0 - p)),
            lambda z: z * z / (1.0 + z * z),
            0.0,
            1.0,
        ),
        KnobMap(
            "inverse_sqrt",
            "g = 1 / sqrt(B)",
            lambda b: 1.0 / jnp.sqrt(b),
            _safe_inverse_power(2),
            0.0,
            np.inf,
            low_open=True,
        ),
        KnobMap(
            "inverse",
            "g = 1 / B",
            lambda b: 1.0 / b,
            _safe_inverse_power(1),
            0.0,
            np.inf,
            low_open=True,
        ),
    )
}

# Candidate maps per sweep axis (the training-noise knobs), first the default.
KNOB_CANDIDATES = {
    "noise": ("identity", "sqrt"),  # label + data noise level
    "learning_rate": ("sqrt", "identity"),  # SGD noise ~ sqrt(lr) per step
    "dropout": ("dropout_std", "identity"),  # std of the multiplicative mask
    "batch_size": ("inverse_sqrt", "inverse"),  # gradient noise std ~ 1/sqrt(B)
}


def get_knob_map(name_or_map) -> KnobMap:
  """The :class:`KnobMap` for a registry name (or the map itself)."""
  if isinstance(name_or_map, KnobMap):
    return name_or_map
  if name_or_map not in KNOB_MAPS:
    raise ValueError(f"knob_map must be one of {sorted(KNOB_MAPS)}, got {name_or_map!r}")
  return KNOB_MAPS[name_or_map]


@dataclasses.dataclass(frozen=True)
class NoiseMapFit:
  """Per-row result of :func:`fit_noise_map`; every array field has the rows' shape.

  Frictions are in the units of :func:`fit_shape` (``k = 1``, ``y = 1``),
  noise in those of :data:`REFERENCE_CHAIN`.

  Attributes:
    mu_right: ``mu_r >= 0``, the friction without noise.
    mu_left: ``mu_l >= 0``; ``inf`` where the row does not reach the floor
      (``saturated`` False): the floor lies below the lowest fitted value and
      predictions keep falling linearly.
    scale: ``s > 0`` of ``eps = s * g(knob)``.
    critical_noise: ``eps* = mu_r sqrt(dt) / b`` where ``mu_eff`` crosses 0;
      NaN when ``mu_l <= mu_r`` (no crossing).
    critical_knob: the knob value at ``eps*`` (``g^{-1}(eps* / s)``); NaN
      when there is no crossing.
    saturation_knob: knob value where the floor is reached; NaN without a
      floor (``mu_l = inf``). It may lie beyond the fitted range in a joint
      fit, whose floor is shared between grids.
    residual: weighted RMS of ``friction - fit`` over the row's valid levels.
    num_levels: int32, the row's valid levels.
    saturated: bool, the row reaches the floor inside its fitted knob range.
    valid: bool, the row was fit; the float fields are NaN where not.
    reason: int32 index into ``NOISE_REASONS``.
    knob_map: name of the map ``g`` (static).
  """

  mu_right: jax.Array
  mu_left: jax.Array
  scale: jax.Array
  critical_noise: jax.Array
  critical_knob: jax.Array
  saturation_knob: jax.Array
  residual: jax.Array
  num_levels: jax.Array
  saturated: jax.Array
  valid: jax.Array
  reason: jax.Array
  knob_map: str = "identity"

  @property
  def floor(self):
    """``(mu_r - mu_l) / 2``, the friction at large noise (``-inf`` if not saturated)."""
    return 0.5 * (self.mu_right - self.mu_left)


_FIELDS = [f.name for f in dataclasses.fields(NoiseMapFit) if f.name != "knob_map"]
jax.tree_util.register_dataclass(NoiseMapFit, data_fields=_FIELDS, meta_fields=["knob_map"])


def _is_concrete(x) -> bool:
  return not isinstance(x, jax.core.Tracer)


def _check_friction(friction, name="friction"):
  if isinstance(friction, (str, bytes)):
    raise ValueError(f"{name} must be a real array [..., N], got {friction!r}")
  try:
    y = jnp.asarray(friction)
  except (TypeError, ValueError) as err:
    raise ValueError(f"{name} must be a real array [..., N] ({err})") from err
  if y.dtype == jnp.bool_ or not (
      jnp.issubdtype(y.dtype, jnp.floating) or jnp.issubdtype(y.dtype, jnp.integer)
  ):
    raise ValueError(f"{name} must be a real array [..., N], got dtype {y.dtype}")
  if y.ndim == 0 or y.shape[-1] < NUM_PARAMS:
    raise ValueError(
        f"{name} needs at least {NUM_PARAMS} noise levels along its last axis (the law has "
        f"{NUM_PARAMS} parameters: mu_r, mu_l, s), got shape {y.shape}"
    )
  return y if jnp.issubdtype(y.dtype, jnp.floating) else y.astype(jnp.float32)


def knob_coordinate(knob_values, knob_map_name):
  """``z = g(knob)``; ValueError naming ``knob_values`` outside the map's valid range.

  The range is checked on concrete values only (inside ``jit`` or ``vmap``
  the caller checks first).
  """
  kmap = get_knob_map(knob_map_name)
  if isinstance(knob_values, (str, bytes)):
    raise ValueError(f"knob_values must be a real array, got {knob_values!r}")
  try:
    knob = jnp.asarray(knob_values)
  except (TypeError, ValueError) as err:
    raise ValueError(f"knob_values must be a real array ({err})") from err
  if knob.dtype == jnp.bool_ or not (
      jnp.issubdtype(knob.dtype, jnp.floating) or jnp.issubdtype(knob.dtype, jnp.integer)
  ):
    raise ValueError(f"knob_values must be a real array, got dtype {knob.dtype}")
  if _is_concrete(knob):
    inside = kmap.contains(np.asarray(knob))
    if not np.all(inside):
      bad = np.asarray(knob, np.float64)[~inside].ravel()[:3]
      raise ValueError(
          f"knob_values must lie in {kmap.range_text()} for knob_map {kmap.name!r} "
          f"({kmap.formula}), got {bad.tolist()}"
      )
  knob = knob if jnp.issubdtype(knob.dtype, jnp.floating) else knob.astype(jnp.float32)
  return _forward(knob, kmap)


@functools.partial(jax.jit, static_argnums=1)
def _forward(knob, kmap):
  return kmap.forward(knob)


def fit_noise_map(
    knob_values,
    friction,
    *,
    knob_map="identity",
    weights=None,
    num_candidates: int = NUM_CANDIDATES,
) -> NoiseMapFit:
  """Fits ``mu_r``, ``mu_l`` and ``s`` of the effective-friction law to every row at once.

  Model (module docstring): ``mu_eff = max(mu_r - NOISE_SLOPE * s * g(knob),
  (mu_r - mu_l) / 2)`` under ``mu_r >= 0``, ``mu_l >= 0``, ``s > 0``, by
  weighted least squares. The breakpoint is searched over ``num_candidates``
  values between the second-smallest and the largest valid ``g(knob)`` of
  the row (so at least two levels lie on the linear fall), plus "no floor in
  range" (``saturated`` False, ``mu_l = inf``), which wins ties. For each
  candidate the two remaining parameters are the exact constrained least
  squares (the unconstrained solution, or the best on an edge of the cone
  ``0 <= mu_r <= 2 m tau``). Runs inside ``jit`` and ``vmap``.

  A level is used where ``friction`` is finite and its weight is > 0; NaN
  cells (invalid shape fits, diverged nets) are masked, never dropped: the
  row keeps its shape and ``num_levels`` counts what was used.

  A row is valid unless (``reason``): it has fewer than 3 usable levels
  (``too_few_levels``); its usable knob coordinates do not spread
  (``degenerate``); the best fit has ``s = 0`` (``not_falling``: the
  friction does not fall with the knob).

  Args:
    knob_values: ``[N]`` or ``[..., N]`` knob values broadcasting against
      ``friction``, inside the map's valid range.
    friction: ``[..., N]`` fitted ``mu_eff`` per cell (e.g. seed means of
      ``fit_shape(...).friction``), NaN where invalid.
    knob_map: a name in :data:`KNOB_MAPS` or a :class:`KnobMap`.
    weights: optional ``[..., N]`` non-negative weights (e.g. valid seeds).
    num_candidates: breakpoint candidates per row (static).

  Returns:
    A :class:`NoiseMapFit` with fields of shape ``[...]``.

  Raises:
    ValueError: naming ``friction`` if it is not a real array with at least
      3 levels, ``knob_values`` if outside the map's range or not
      broadcastable, ``weights`` if negative, ``knob_map`` if unknown,
      ``num_candidates`` if < 1.
  """
  kmap = get_knob_map(knob_map)
  y = _check_friction(friction)
  z = knob_coordinate(knob_values, kmap)
  if isinstance(num_candidates, bool) or not isinstance(num_candidates, int) or num_candidates < 1:
    raise ValueError(f"num_candidates must be an integer >= 1, got {num_candidates!r}")
  try:
    shape = jnp.broadcast_shapes(z.shape, y.shape)
  except ValueError as err:
    raise ValueError(
        f"knob_values of shape {z.shape} must broadcast against friction {y.shape}"
    ) from err
  if shape != y.shape:
    raise ValueError(f"knob_values of shape {z.shape} must broadcast to friction's {y.shape}")
  if weights is None:
    w = jnp.ones(y.shape, y.dtype)
  else:
    w = jnp.asarray(weights, y.dtype)
    if _is_concrete(w) and np.any(np.asarray(w) < 0):
      raise ValueError("weights must be >= 0 (0 masks a cell)")
    w = jnp.broadcast_to(w, y.shape)
  coef = _fit_rows(jnp.broadcast_to(z.astype(y.dtype), y.shape), y, w, num_candidates)
  return _finish(coef, kmap)


@jax.jit
def _constrained_hinge(x, y, w, tau, saturated):
  """Constrained LSQ of ``y ~ a - m x`` (``a >= 0``, ``m >= 0``, saturated: ``a <= 2 m tau``).

  ``x = min(z, tau)``; all arrays broadcast, the level axis last. Returns
  ``(a, m, sse)``; ``sse`` is inf where ``x`` does not spread.
  """
  total = jnp.sum(w, -1)
  safe_total = jnp.where(total > 0, total, 1.0)
  xbar = jnp.sum(w * x, -1) / safe_total
  ybar = jnp.sum(w * y, -1) / safe_total
  dx, dy = x - xbar[..., None], y - ybar[..., None]
  sxx = jnp.sum(w * dx * dx, -1)
  spread = sxx > 1e-10 * jnp.maximum(jnp.sum(w * x * x, -1), 1e-30)
  safe_sxx = jnp.where(spread, sxx, 1.0)
  m_free = -jnp.sum(w * dx * dy, -1) / safe_sxx
  a_free = ybar + m_free * xbar
  feasible = (m_free >= 0) & (a_free >= 0) & (~saturated | (a_free <= 2 * m_free * tau))

  def through_origin(h):  # y ~ m h, m >= 0
    hh = jnp.sum(w * h * h, -1)
    return jnp.maximum(jnp.sum(w * h * y, -1) / jnp.where(hh > 0, hh, 1.0), 0.0)

  m_edge1 = through_origin(-x)  # mu_r = 0
  m_edge2 = through_origin(2 * tau[..., None] - x)  # mu_l = 0
  a_edge2 = 2 * m_edge2 * tau

  def sse(a, m):
    return jnp.sum(w * (y - (a[..., None] - m[..., None] * x)) ** 2, -1)

  # The cone's second edge: mu_l = 0 with a floor, m = 0 (a flat row) without.
  a_edge2 = jnp.where(saturated, a_edge2, jnp.maximum(ybar, 0.0))
  m_edge2 = jnp.where(saturated, m_edge2, 0.0)
  sse1 = sse(jnp.zeros_like(m_edge1), m_edge1)
  sse2 = sse(a_edge2, m_edge2)
  use1 = sse1 <= sse2
  a = jnp.where(feasible, a_free, jnp.where(use1, 0.0, a_edge2))
  m = jnp.where(feasible, m_free, jnp.where(use1, m_edge1, m_edge2))
  best = jnp.where(feasible, sse(a_free, m_free), jnp.minimum(sse1, sse2))
  return a, m, jnp.where(spread, best, jnp.inf)


@functools.partial(jax.jit, static_argnames="num_candidates")
def _fit_rows(z, y, w, num_candidates):
  """The hinge fit of every row; returns raw coefficients in the input's units."""
  dtype = y.dtype
  used = jnp.isfinite(y) & jnp.isfinite(z) & (w > 0)
  w = jnp.where(used, w, 0).astype(dtype)
  y = jnp.where(used, y, 0)
  z = jnp.where(used, z, 0)
  count = jnp.sum(used, -1).astype(jnp.int32)
  # Normalise rows to O(1) so the float32 normal equations lose only rounding.
  z_scale = jnp.max(jnp.where(used, jnp.abs(z), 0), -1)
  y_scale = jnp.max(jnp.where(used, jnp.abs(y), 0), -1)
  z_scale = jnp.where(z_scale > 0, z_scale, 1.0)
  y_scale = jnp.where(y_scale > 0, y_scale, 1.0)
  zn, yn = z / z_scale[..., None], y / y_scale[..., None]
  # Breakpoints from the second-smallest used coordinate up to (not including) the largest.
  big = jnp.asarray(jnp.inf, dtype)
  ordered = jnp.sort(jnp.where(used, zn, big), -1)
  z_second = ordered[..., 1] if ordered.shape[-1] > 1 else ordered[..., 0]
  z_top = jnp.max(jnp.where(used, zn, -big), -1)
  z_second = jnp.where(jnp.isfinite(z_second), z_second, 0)
  frac = jnp.arange(num_candidates, dtype=dtype) / num_candidates
  taus = z_second[..., None] + (z_top - z_second)[..., None] * frac  # [..., K]
  x = jnp.minimum(zn[..., None, :], taus[..., None])  # [..., K, N]
  wk, yk = w[..., None, :], yn[..., None, :]
  a_s, m_s, sse_s = _constrained_hinge(x, yk, wk, taus, jnp.asarray(True))
  a_u, m_u, sse_u = _constrained_hinge(zn, yn, w, jnp.zeros_like(z_top), jnp.asarray(False))
  # "No floor in range" first, so it wins exact ties.
  sse = jnp.concatenate([sse_u[..., None], sse_s], -1)
  best = jnp.argmin(sse, -1)
  pick = lambda u, s: jnp.where(
      best == 0, u, jnp.take_along_axis(s, jnp.maximum(best - 1, 0)[..., None], -1)[..., 0]
  )
  a, m = pick(a_u, a_s), pick(m_u, m_s)
  tau = jnp.where(best == 0, jnp.inf, pick(a_u, taus))
  best_sse = jnp.take_along_axis(sse, best[..., None], -1)[..., 0]
  spread = z_top > (jnp.where(jnp.isfinite(ordered[..., 0]), ordered[..., 0], z_top))
  reason = jnp.select(
      [count < NUM_PARAMS, ~spread | ~jnp.isfinite(best_sse), m <= 0],
      [jnp.int32(TOO_FEW), jnp.int32(DEGENERATE), jnp.int32(NOT_FALLING)],
      jnp.int32(OK),
  )
  total = jnp.sum(w, -1)
  saturated = best > 0
  return {
      "mu_right": a * y_scale,
      "slope": m * y_scale / z_scale,  # -d mu_eff / d z on the fall
      "floor": jnp.where(saturated, (a - m * jnp.where(saturated, tau, 0)) * y_scale, -jnp.inf),
      "saturated": saturated,
      "residual": jnp.sqrt(best_sse / jnp.where(total > 0, total, 1.0)) * y_scale,
      "num_levels": count,
      "reason": reason,
  }


def _finish(coef, kmap: KnobMap) -> NoiseMapFit:
  """The :class:`NoiseMapFit` of raw hinge coefficients (NaN where not valid).

  ``coef``: ``mu_right``, ``slope`` (``-d mu_eff / d z``), ``floor`` (``-inf``
  for none), ``saturated`` (floor reached inside the fitted range),
  ``residual``, ``num_levels``, ``reason``.
  """
  reason = coef["reason"]
  valid = reason == OK
  nan = jnp.asarray(jnp.nan, coef["mu_right"].dtype)
  mu_r, slope, floor = coef["mu_right"], coef["slope"], coef["floor"]
  has_floor = jnp.isfinite(floor)
  safe_slope = jnp.where(slope > 0, slope, 1.0)
  safe_floor = jnp.where(has_floor, floor, 0)
  mu_l = jnp.where(has_floor, jnp.maximum(mu_r - 2 * safe_floor, 0), jnp.inf)
  crossing = mu_l > mu_r
  keep = lambda v, ok=valid: jnp.where(ok, v, nan)
  return NoiseMapFit(
      mu_right=keep(mu_r),
      mu_left=keep(mu_l),
      scale=keep(slope / NOISE_SLOPE),
      critical_noise=keep(mu_r / NOISE_SLOPE, valid & crossing),
      critical_knob=keep(kmap.inverse(mu_r / safe_slope), valid & crossing),
      saturation_knob=keep(kmap.inverse((mu_r - safe_floor) / safe_slope), valid & has_floor),
      residual=keep(coef["residual"]),
      num_levels=coef["num_levels"],
      saturated=valid & coef["saturated"],
      valid=valid,
      reason=reason,
      knob_map=kmap.name,
  )


def _fit_map(fit: NoiseMapFit, knob_map_arg):
  if not isinstance(fit, NoiseMapFit):
    raise ValueError(f"fit must be a NoiseMapFit, got {type(fit).__name__}")
  if knob_map_arg is None:
    return get_knob_map(fit.knob_map)
  kmap = get_knob_map(knob_map_arg)
  if kmap.name != fit.knob_map:
    raise ValueError(f"knob_map {kmap.name!r} differs from the fit's {fit.knob_map!r}")
  return kmap


def noise_level(fit: NoiseMapFit, knob_values, knob_map=None):
  """The chain noise ``eps = s * g(knob)`` of every cell, ``[..., N]``."""
  kmap = _fit_map(fit, knob_map)
  z = knob_coordinate(knob_values, kmap)
  return fit.scale[..., None] * z


def predict_friction(fit: NoiseMapFit, knob_values, knob_map=None):
  """``mu_eff`` of the fitted law at ``knob_values`` (``[N]`` or ``[..., N]``): ``[..., N]``.

  ``knob_map`` defaults to the fit's (and must equal it if given). NaN for
  invalid rows.
  """
  return _predict(fit.mu_right, fit.mu_left, noise_level(fit, knob_values, knob_map))


@jax.jit
def _predict(mu_r, mu_l, eps):
  floor = jnp.where(jnp.isposinf(mu_l), -jnp.inf, 0.5 * (mu_r - mu_l))
  return jnp.maximum(mu_r[..., None] - NOISE_SLOPE * eps, floor[..., None])


def collapse_coordinate(fit: NoiseMapFit, knob_values, knob_map=None):
  """``eps / eps*`` of every cell (``[..., N]``): 1 where the fit crosses zero.

  Rows without a crossing (``mu_l <= mu_r``) are NaN; ``mu_r = 0`` gives
  ``inf`` for every noisy cell.
  """
  eps = noise_level(fit, knob_values, knob_map)
  star = fit.mu_right / NOISE_SLOPE
  ratio = eps / jnp.where(star > 0, star, 1.0)[..., None]
  ratio = jnp.where((star > 0)[..., None], ratio, jnp.where(eps > 0, jnp.inf, 0.0))
  return jnp.where(jnp.isfinite(fit.critical_noise)[..., None], ratio, jnp.nan)

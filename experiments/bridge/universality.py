"""Universality: one chain per network, shaken by several knobs.

The same networks (rows: one nonlinearity each) are trained over several
grids, each sweeping another knob (Fig. 1: label noise, learning rate,
dropout, batch size). If the chain picture is right, a row is one chain:
its ``mu_r`` and ``mu_l`` are shared by every grid, and only the map from
the knob to the chain's noise, ``eps = s_k g_k(knob)``, depends on the grid
``k`` (and the row: a knob may shake different networks differently). The
joint model has ``2 + G`` parameters per row against ``3 G`` for separate
fits (:func:`fit_noise_map` per grid).

The joint least squares is solved per row by block coordinate descent from
the separate fits: given ``(mu_r, floor)`` each grid's breakpoint is an
exhaustive search (or "no floor in range" with a free slope), given the
breakpoints ``(mu_r, floor)`` is a 2-parameter constrained least squares;
every step lowers the residual, all rows and bootstrap replicates at once.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from experiments.bridge import heldout as _heldout
from featurespring.bridge import _noise_map as nm
from experiments.bridge import universality_strict as _strict

NUM_ITERATIONS = 40
JOINT_CANDIDATES = 64


@dataclasses.dataclass(frozen=True)
class JointFit:
  """Result of :func:`fit_joint`; array fields have the rows' shape ``[...]``.

  Attributes:
    grids: one :class:`NoiseMapFit` per grid, all with the shared
      ``mu_right`` / ``mu_left`` and the grid's own ``scale``.
    mu_right, mu_left: the shared frictions (``mu_left = inf`` when no grid
      reaches the floor); NaN where not valid.
    rss: residual sum of squares over every used cell of every grid.
    num_cells: used cells; num_params: ``2 + G``.
    valid: every grid has >= 2 used levels and the row >= ``2 + G`` cells.
  """

  grids: tuple
  mu_right: jax.Array
  mu_left: jax.Array
  rss: jax.Array
  num_cells: jax.Array
  num_params: int
  valid: jax.Array


jax.tree_util.register_dataclass(
    JointFit,
    data_fields=["grids", "mu_right", "mu_left", "rss", "num_cells", "valid"],
    meta_fields=["num_params"],
)


def _prepare(knob_values, friction, knob_maps, weights):
  """Stacks the grids as ``[..., G, N_max]`` (z, y, w), short grids padded with weight 0."""
  if not (len(knob_values) == len(friction) == len(knob_maps)) or not knob_values:
    raise ValueError(
        "knob_values, friction and knob_maps must be sequences of one entry per grid, got "
        f"lengths {len(knob_values)}, {len(friction)}, {len(knob_maps)}"
    )
  grids = []
  rows = None
  for i, (knob, y, name) in enumerate(zip(knob_values, friction, knob_maps)):
    y = nm._check_friction(y, f"friction[{i}]")
    z = nm.knob_coordinate(knob, name)
    z = jnp.broadcast_to(z.astype(y.dtype), y.shape)
    rows = y.shape[:-1] if rows is None else rows
    if y.shape[:-1] != rows:
      raise ValueError(f"friction grids must share their rows: {y.shape[:-1]} != {rows}")
    w = (
        jnp.ones(y.shape, y.dtype)
        if weights is None
        else jnp.broadcast_to(jnp.asarray(weights[i], y.dtype), y.shape)
    )
    grids.append((z, y, w))
  width = max(y.shape[-1] for _, y, _ in grids)
  dtype = jnp.result_type(*[y.dtype for _, y, _ in grids])
  pad = lambda a, value: jnp.pad(
      a.astype(dtype), [(0, 0)] * (a.ndim - 1) + [(0, width - a.shape[-1])], constant_values=value
  )
  return tuple(
      jnp.stack([pad(g[i], value) for g in grids], -2)
      for i, value in ((0, 0.0), (1, jnp.nan), (2, 0.0))
  )


def fit_joint(
    knob_values,
    friction,
    knob_maps,
    *,
    weights=None,
    num_iterations: int = NUM_ITERATIONS,
    num_candidates: int = JOINT_CANDIDATES,
) -> JointFit:
  """Fits one ``(mu_r, mu_l)`` per row shared by several grids, a scale per grid and row.

  Args:
    knob_values: sequence (one per grid) of ``[N_k]`` knob values.
    friction: sequence of ``[..., N_k]`` fitted frictions; the leading (row)
      axes must agree; NaN cells are masked.
    knob_maps: sequence of map names, one per grid.
    weights: optional sequence of ``[..., N_k]`` weights.
    num_iterations: coordinate-descent sweeps (static).
    num_candidates: breakpoint candidates per grid and sweep (static).

  Returns:
    A :class:`JointFit`.

  Raises:
    ValueError: naming the argument, as :func:`fit_noise_map` does.
  """
  z, y, w = _prepare(knob_values, friction, knob_maps, weights)
  kmaps = [nm.get_knob_map(name) for name in knob_maps]
  coef, shared = _fit_joint(z, y, w, num_iterations, num_candidates)
  fits = tuple(
      nm._finish({k: v[..., i] for k, v in coef.items()}, kmap) for i, kmap in enumerate(kmaps)
  )
  valid = shared["valid"]
  nan = jnp.asarray(jnp.nan, shared["mu_right"].dtype)
  return JointFit(
      grids=fits,
      mu_right=jnp.where(valid, shared["mu_right"], nan),
      mu_left=jnp.where(valid, fits[0].mu_left, nan),
      rss=jnp.where(valid, shared["rss"], nan),
      num_cells=shared["num_cells"],
      num_params=2 + len(kmaps),
      valid=valid,
  )


def _grid_choice(a, f, z, y, w, taus, num_refine=3):
  """Best breakpoint of every grid for fixed ``(a, f)`` (normalised units).

  ``a``, ``f``: ``[...]``; ``z``, ``y``, ``w``: ``[..., G, N]``; ``taus``:
  ``[..., G, K]`` breakpoints, from each grid's second-smallest used ``z``
  (as in :func:`fit_noise_map`: with one level on the fall any steeper
  slope would fit as well). Returns
  ``(h, offset, m, saturated, sse)``: grid ``k``'s model is
  ``a (1 - h) + f h - offset`` with ``h = min(z / tau, 1)`` (floor reached)
  or ``h = 0``, ``offset = m z`` (no floor in range: a free slope ``m``,
  clipped so the fall stays above the floor). The breakpoint grid is
  refined by a few exact slope fits on the cells still falling, kept only
  where they lower the residual, since the shared ``(a, f)`` make the slope
  ``(a - f) / tau`` as coarse as the grid.
  """
  a, f = a[..., None], f[..., None]  # [..., 1] against the grid axis
  fall = jnp.maximum(a - f, 0)

  def sse_at(tau):
    h = jnp.minimum(z / tau[..., None], 1.0)
    return jnp.sum(w * (y - (a[..., None] - fall[..., None] * h)) ** 2, -1)

  hk = jnp.minimum(z[..., None, :] / taus[..., None], 1.0)  # [..., G, K, N]
  pred = a[..., None, None] - fall[..., None, None] * hk
  sse_k = jnp.sum(w[..., None, :] * (y[..., None, :] - pred) ** 2, -1)
  tau = jnp.take_along_axis(taus, jnp.argmin(sse_k, -1)[..., None], -1)[..., 0]
  sse_s = jnp.min(sse_k, -1)
  for _ in range(num_refine):
    falling = (z < tau[..., None]) & (w > 0)
    zz = jnp.sum(jnp.where(falling, w * z * z, 0), -1)
    m = jnp.sum(jnp.where(falling, w * (a[..., None] - y) * z, 0), -1) / jnp.where(zz > 0, zz, 1)
    new_tau = jnp.where((zz > 0) & (m > 0), fall / jnp.where(m > 0, m, 1), tau)
    new_tau = jnp.clip(new_tau, taus[..., 0], 1.0)
    new_sse = sse_at(new_tau)
    better = new_sse < sse_s
    tau, sse_s = jnp.where(better, new_tau, tau), jnp.where(better, new_sse, sse_s)
  zz = jnp.sum(w * z * z, -1)
  m_u = jnp.sum(w * (a[..., None] - y) * z, -1) / jnp.where(zz > 0, zz, 1.0)
  m_u = jnp.clip(m_u, 0.0, fall)
  sse_u = jnp.sum(w * (y - (a[..., None] - m_u[..., None] * z)) ** 2, -1)
  saturated = sse_s < sse_u  # ties: no floor in range
  h = jnp.where(saturated[..., None], jnp.minimum(z / tau[..., None], 1.0), 0.0)
  offset = jnp.where(saturated[..., None], 0.0, m_u[..., None] * z)
  m = jnp.where(saturated, fall / tau, m_u)
  return h, offset, m, saturated, jnp.minimum(sse_s, sse_u)


def _shared_step(a, f, z, y, w, choice):
  """Constrained LSQ of ``(a, f)`` (``a >= 0``, ``f <= a / 2``) given every grid's choice."""
  h, offset = choice[:2]
  p, q, t = 1 - h, h, y + offset
  s = {
      key: jnp.sum(w * u * v, (-2, -1))
      for key, u, v in (("pp", p, p), ("pq", p, q), ("qq", q, q), ("pt", p, t), ("qt", q, t))
  }
  det = s["pp"] * s["qq"] - s["pq"] ** 2
  has_floor = s["qq"] > 1e-12 * jnp.maximum(s["pp"], 1e-30)
  safe = lambda v: jnp.where(jnp.abs(v) > 0, v, 1.0)
  a_free = jnp.where(
      has_floor, (s["qq"] * s["pt"] - s["pq"] * s["qt"]) / safe(det), s["pt"] / safe(s["pp"])
  )
  f_free = jnp.where(has_floor, (s["pp"] * s["qt"] - s["pq"] * s["pt"]) / safe(det), f)
  ok = (a_free >= 0) & (f_free <= a_free / 2) & (jnp.abs(det) > 0)

  def cost(a_, f_):  # SSE up to the constant sum(w t^2)
    return (
        -2 * a_ * s["pt"]
        - 2 * f_ * s["qt"]
        + a_**2 * s["pp"]
        + 2 * a_ * f_ * s["pq"]
        + f_**2 * s["qq"]
    )

  # Edges of the cone: a = 0 (f <= 0), and f = a / 2 (a >= 0).
  f1 = jnp.minimum(s["qt"] / safe(s["qq"]), 0.0)
  gg = s["pp"] + s["pq"] + s["qq"] / 4
  a2 = jnp.maximum((s["pt"] + s["qt"] / 2) / safe(gg), 0.0)
  use1 = cost(0.0, f1) <= cost(a2, a2 / 2)
  a_new = jnp.where(ok, a_free, jnp.where(use1, 0.0, a2))
  f_new = jnp.where(ok, f_free, jnp.where(use1, f1, a2 / 2))
  # Without a floor in any grid f is not identified: keep it, below a / 2.
  a_new = jnp.where(has_floor, a_new, jnp.maximum(a_free, 0.0))
  f_new = jnp.where(has_floor, f_new, jnp.minimum(f, a_new / 2))
  return a_new, f_new


@functools.partial(jax.jit, static_argnums=(3, 4))
def _fit_joint(z, y, w, num_iterations, num_candidates):
  """Joint fit of stacked grids ``[..., G, N]``; coefficients ``[..., G]``, shared ``[...]``."""
  dtype = y.dtype
  used = jnp.isfinite(y) & jnp.isfinite(z) & (w > 0)
  w = jnp.where(used, w, 0).astype(dtype)
  y_scale = jnp.max(jnp.where(used, jnp.abs(y), 0), (-2, -1))
  y_scale = jnp.where(y_scale > 0, y_scale, 1.0)
  z_scale = jnp.max(jnp.where(used, jnp.abs(z), 0), -1)
  z_scale = jnp.where(z_scale > 0, z_scale, 1.0)
  zn = jnp.where(used, z, 0) / z_scale[..., None]
  yn = jnp.where(used, y, 0) / y_scale[..., None, None]
  sep = nm._fit_rows(z, y, w, num_candidates)  # [..., G]
  # Start from the separate fits: mean mu_r, mean floor of those that have one.
  ok = sep["reason"] == nm.OK
  floored = ok & jnp.isfinite(sep["floor"])
  mean = lambda v, o: jnp.sum(jnp.where(o, v, 0), -1) / jnp.maximum(jnp.sum(o, -1), 1)
  a0 = jnp.maximum(mean(sep["mu_right"], ok), 0) / y_scale
  f_sep = mean(jnp.where(floored, sep["floor"], 0), floored) / y_scale
  y_low = jnp.min(jnp.where(used, yn, jnp.inf), (-2, -1))
  y_low = jnp.where(jnp.isfinite(y_low), y_low, 0)
  f0 = jnp.where(jnp.any(floored, -1), f_sep, y_low - 0.25 * jnp.maximum(a0 - y_low, 1e-3))
  f0 = jnp.minimum(f0, a0 / 2)
  ordered = jnp.sort(jnp.where(used, zn, jnp.inf), -1)
  z_second = ordered[..., 1] if ordered.shape[-1] > 1 else ordered[..., 0]
  z_second = jnp.where(jnp.isfinite(z_second), z_second, 0)
  frac = jnp.arange(num_candidates + 1, dtype=dtype) / num_candidates
  taus = z_second[..., None] + (1 - z_second[..., None]) * frac  # [..., G, K + 1]

  def body(_, carry):
    choice = _grid_choice(*carry, zn, yn, w, taus)
    return _shared_step(*carry, zn, yn, w, choice)

  a, f = jax.lax.fori_loop(0, num_iterations, body, (a0, f0))
  _, _, m, saturated, sse = _grid_choice(a, f, zn, yn, w, taus)
  any_sat = jnp.any(saturated, -1)
  floor = jnp.where(any_sat, f, -jnp.inf)
  count = jnp.sum(used, -1)
  num_cells = jnp.sum(count, -1).astype(jnp.int32)
  valid = jnp.all(count >= 2, -1) & (num_cells >= 2 + y.shape[-2])
  spread = jnp.max(jnp.where(used, zn, -1.0), -1) > jnp.min(jnp.where(used, zn, 2.0), -1)
  reason = jnp.select(
      [~valid[..., None], ~spread, m <= 0],
      [jnp.int32(nm.TOO_FEW), jnp.int32(nm.DEGENERATE), jnp.int32(nm.NOT_FALLING)],
      jnp.int32(nm.OK),
  )
  total = jnp.sum(w, -1)
  grow = lambda v: jnp.broadcast_to(v[..., None], m.shape)
  coef = {
      "mu_right": grow(a * y_scale),
      "slope": m * y_scale[..., None] / z_scale,
      "floor": grow(floor * y_scale),
      "saturated": saturated,
      "residual": jnp.sqrt(sse / jnp.where(total > 0, total, 1.0)) * y_scale[..., None],
      "num_levels": count.astype(jnp.int32),
      "reason": reason,
  }
  shared = {
      "mu_right": a * y_scale,
      "rss": jnp.sum(sse, -1) * y_scale**2,
      "num_cells": num_cells,
      "valid": valid,
  }
  return coef, shared


def information_criteria(rss, num_cells, num_params):
  """``(aic, bic)`` of a Gaussian model of the residuals with unknown variance.

  ``-2 log L = n log(RSS / n)`` up to a constant shared by models of the
  same cells; ``AIC = that + 2 k``, ``BIC = that + k log n``.
  """
  rss, n = np.asarray(rss, np.float64), np.asarray(num_cells, np.float64)
  with np.errstate(divide="ignore", invalid="ignore"):
    core = n * np.log(rss / n)
  return core + 2 * num_params, core + num_params * np.log(n)


def separate_fits(knob_values, friction, knob_maps, **kwargs):
  """One :func:`fit_noise_map` per grid (the competitor of :func:`fit_joint`)."""
  return tuple(
      nm.fit_noise_map(k, y, knob_map=m, **kwargs)
      for k, y, m in zip(knob_values, friction, knob_maps)
  )


def _rss(fits, knob_values, friction):
  total, cells = 0.0, 0
  for fit, knob, y in zip(fits, knob_values, friction):
    err = np.asarray(nm.predict_friction(fit, knob), np.float64) - np.asarray(y, np.float64)
    total = total + np.nansum(err**2, -1)
    cells = cells + np.sum(np.isfinite(err), -1)
  return total, cells


def compare_universality(knob_values, friction_seeds, knob_maps, *, num_boot=1000, boot_seed=0):
  """Joint against separate fits of several grids of the same rows.

  Args:
    knob_values: sequence of ``[N_k]`` knob values, one per grid.
    friction_seeds: sequence of ``[R, N_k, seeds_k]`` per-run frictions (the
      rows in the same order in every grid; NaN where invalid).
    knob_maps: sequence of map names, one per grid.
    num_boot, boot_seed: the seed bootstrap (each grid's seeds resampled on
      their own: different grids are different runs).

  Returns:
    A dict: ``joint`` and ``separate``, each with ``rss``, ``num_cells``,
    ``num_params``, ``aic``, ``bic`` (summed over rows whose fits are
    valid in both models) and ``held_out_mae`` (interpolation split of every
    grid, pooled over held-out cells, ``{value, low, high}``);
    ``mae_difference`` (separate minus joint; > 0 favours the joint model);
    ``delta_aic`` / ``delta_bic`` (separate minus joint; > 0 favours the
    joint model); ``joint_fit`` / ``separate_fits`` on all the data, and
    ``collapse``: per grid ``eps / eps*`` of every cell from the joint fit
    and the measured friction, ``[R, N_k]`` each. With at least one row
    valid in both: ``universal`` (the same numbers for
    :func:`fit_universal`, one scale per knob for every row, on those
    rows), ``universal_mae_difference`` (joint minus universal; > 0
    favours the universal model) and ``universal_fit``.
  """
  _heldout._check_boot(num_boot, boot_seed)
  seeds = [_heldout._check_seeds(v, f"friction_seeds[{i}]") for i, v in enumerate(friction_seeds)]
  knobs = [np.asarray(k, np.float64) for k in knob_values]
  means = [
      _heldout.seed_bootstrap_means(v, num_boot, boot_seed + i) for i, v in enumerate(seeds)
  ]  # each [B, R, N_k]
  full = [m[0].astype(np.float32) for m in means]
  joint = fit_joint(knobs, full, knob_maps)
  separate = separate_fits(knobs, full, knob_maps)
  both = np.asarray(joint.valid) & np.all([np.asarray(f.valid) for f in separate], 0)
  rss_sep, n_sep = _rss(separate, knobs, full)
  out = {}
  for name, rss, cells, k in (
      ("joint", np.asarray(joint.rss, np.float64), np.asarray(joint.num_cells), joint.num_params),
      ("separate", rss_sep, n_sep, 3 * len(knobs)),
  ):
    total_rss, total_n = float(np.sum(rss[both])), int(np.sum(cells[both]))
    total_k = int(k * np.sum(both))
    aic, bic = information_criteria(total_rss, total_n, total_k)
    out[name] = {
        "rss": total_rss,
        "num_cells": total_n,
        "num_params": total_k,
        "aic": float(aic),
        "bic": float(bic),
    }
  # The strictest model (one scale per knob for every row) on the same rows.
  universal = None
  if np.sum(both) >= 1:
    universal = _strict.fit_universal(knobs, [f[both] for f in full], knob_maps)
    aic, bic = information_criteria(universal.rss, universal.num_cells, universal.num_params)
    out["universal"] = {
        "rss": universal.rss,
        "num_cells": universal.num_cells,
        "num_params": universal.num_params,
        "aic": float(aic),
        "bic": float(bic),
    }
  out["rows_compared"] = int(np.sum(both))
  out["delta_aic"] = out["separate"]["aic"] - out["joint"]["aic"]
  out["delta_bic"] = out["separate"]["bic"] - out["joint"]["bic"]
  # Held out: every other level of every grid.
  splits = [_heldout.split_levels(k, m, "interpolation") for k, m in zip(knobs, knob_maps)]
  train_knobs = [k[tr] for k, (tr, _) in zip(knobs, splits)]
  train_y = [m[..., tr].astype(np.float32) for m, (tr, _) in zip(means, splits)]
  joint_t = fit_joint(train_knobs, train_y, knob_maps)
  separate_t = separate_fits(train_knobs, train_y, knob_maps)
  errors = {"joint": 0.0, "separate": 0.0}
  count = 0
  for i, (k, m, (_, te)) in enumerate(zip(knobs, means, splits)):
    pj = np.asarray(nm.predict_friction(joint_t.grids[i], k[te]), np.float64)
    ps = np.asarray(nm.predict_friction(separate_t[i], k[te]), np.float64)
    measured = m[..., te]
    mask = np.isfinite(measured) & np.isfinite(pj) & np.isfinite(ps)
    errors["joint"] = errors["joint"] + np.where(mask, np.abs(pj - measured), 0).sum((1, 2))
    errors["separate"] = errors["separate"] + np.where(mask, np.abs(ps - measured), 0).sum((1, 2))
    count = count + mask.sum((1, 2))
  names = ["joint", "separate"]
  if universal is not None:
    # Replicates refit from the training split's fit; its error pooled over
    # the rows compared (the others were left out of the fit).
    start = _strict.fit_universal(train_knobs, [y[0][both] for y in train_y], knob_maps)
    replicates = _strict.refit_universal(
        start.params, train_knobs, [y[:, both] for y in train_y], knob_maps
    )
    err, cnt = 0.0, 0
    for i, (k, m, (_, te)) in enumerate(zip(knobs, means, splits)):
      pu = _strict.predict_universal(replicates, k[te], knob_maps[i], i)
      measured = m[:, both][..., te]
      mask = np.isfinite(measured) & np.isfinite(pu)
      err = err + np.where(mask, np.abs(pu - measured), 0).sum((1, 2))
      cnt = cnt + mask.sum((1, 2))
  with np.errstate(invalid="ignore", divide="ignore"):
    mae = {n: np.where(count > 0, e / np.maximum(count, 1), np.nan) for n, e in errors.items()}
    if universal is not None:
      mae["universal"], names = np.where(cnt > 0, err / np.maximum(cnt, 1), np.nan), names + [
          "universal"
      ]
  for name in names:
    out[name]["held_out_mae"] = _heldout._ci(mae[name])
  if universal is not None:
    out["universal_mae_difference"] = _heldout._ci(mae["joint"] - mae["universal"])
    out["universal_fit"] = universal
  out["mae_difference"] = _heldout._ci(mae["separate"] - mae["joint"])
  out["held_out_cells"] = int(count[0])
  out["joint_fit"] = joint
  out["separate_fits"] = separate
  out["collapse"] = [
      {
          "eps_over_critical": np.asarray(nm.collapse_coordinate(f, k), np.float64),
          "friction": np.asarray(y, np.float64),
          "knob_map": m,
      }
      for f, k, y, m in zip(joint.grids, knobs, full, knob_maps)
  ]
  return out


def verdict(lower, upper):
  """``better`` / ``worse`` / ``tie`` from a CI of a difference where > 0 is better."""
  if not (math.isfinite(lower) and math.isfinite(upper)):
    return "n/a"
  return "better" if lower > 0 else "worse" if upper < 0 else "tie"

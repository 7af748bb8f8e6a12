"""Fit the spring-block chain's equilibrium shape to measured load curves.

A chain with ``k = 1``, ``y = 1`` and effective friction ``mu`` (docs/theory.md §3)
settles at ``d_l = (L + 1 - l) * (1 / (L + 1) + mu * l / 2)``, ``l = 0..L``.
A network's load curve ``D_l`` is compared with it up to an affine map,
``D_l ~ scale * d_l + offset`` with ``scale > 0``, because the separation's
units and zero are arbitrary (log of a trace ratio, trace or pinv, train or
test), while the curve's *shape* is what the theory predicts.

For fixed ``L`` the model is linear in ``(offset, scale, scale * mu)``:

    D_l = a + b * u_l + c * v_l,  u_l = (L + 1 - l) / (L + 1),
                                  v_l = l * (L + 1 - l) / 2,

so ``offset = a``, ``scale = b``, ``mu = c / b``, and the least-squares fit
of every curve is one fixed linear map (the pseudo-inverse of the ``[L+1, 3]``
design matrix, built once in float64): a whole grid is one matrix product.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from featurespring.springs import _config
from featurespring.springs import _noise

# Why a curve is not fit; ``ShapeFit.reason`` holds the index.
REASONS = ("ok", "non_finite", "flat", "rising", "non_monotone")
OK, NON_FINITE, FLAT, RISING, NON_MONOTONE = range(len(REASONS))

# Defaults of the validity tolerances (see fit_shape).
FLAT_TOL = 1e-6
MONOTONE_TOL = 0.1
# A drop below this many float ulps of the curve's magnitude is rounding
# noise, whatever flat_tol says: the fit of such a curve would be noise too.
_FLAT_ULPS = 64


@dataclasses.dataclass(frozen=True)
class ShapeFit:
  """Per-curve result of :func:`fit_shape`; every field has the grid shape.

  Attributes:
    friction: effective friction ``mu`` of the fitted chain (``k = 1``,
      ``y = 1``, units of ``springs.equilibrium_load_curve``): > 0 concave
      (lazy), 0 linear, < 0 convex (active). NaN where not ``valid``.
    scale: ``b > 0`` of ``D_l ~ scale * d_l + offset``. NaN where not valid.
    offset: ``a`` of the same map. NaN where not valid.
    residual: RMS of ``D_l - (scale * d_l + offset)`` over the layers,
      divided by the curve's drop ``D_0 - D_L``. NaN where not valid.
    valid: bool, the curve was fit (see :func:`fit_shape` for the rules).
    reason: int32 index into ``REASONS``: why a curve is not valid (0, "ok",
      where it is).
  """

  friction: jax.Array
  scale: jax.Array
  offset: jax.Array
  residual: jax.Array
  valid: jax.Array
  reason: jax.Array


jax.tree_util.register_dataclass(
    ShapeFit,
    data_fields=["friction", "scale", "offset", "residual", "valid", "reason"],
    meta_fields=[],
)


def shape_basis(num_points: int) -> np.ndarray:
  """Design matrix ``[num_points, 3]`` of columns ``1, u_l, v_l`` (float64).

  ``d_l = u_l + mu * v_l`` is the equilibrium of the chain with ``k = 1``,
  ``y = 1``, ``L = num_points - 1`` blocks (docs/theory.md §3).
  """
  n = num_points
  layer = np.arange(n, dtype=np.float64)
  return np.stack([np.ones(n), (n - layer) / n, layer * (n - layer) / 2.0], axis=-1)


def shape_curve(friction, num_points: int):
  """The chain's equilibrium ``d_l`` (``k = 1``, ``y = 1``) for signed ``friction``.

  The closed form of docs/theory.md §3 without the stuck-block branch of
  ``springs.equilibrium_load_curve`` (which it equals for
  ``friction <= 2 / (L (L + 1))``); vectorised, jit-friendly. Returns
  ``[..., num_points]``.
  """
  basis = shape_basis(num_points)
  friction = jnp.asarray(friction)
  dtype = friction.dtype if jnp.issubdtype(friction.dtype, jnp.floating) else jnp.float32
  u, v = (jnp.asarray(basis[:, i], dtype) for i in (1, 2))
  return u + friction.astype(dtype)[..., None] * v


def fitted_curve(fit: ShapeFit, num_points: int):
  """``scale * d_l(friction) + offset``: the fit in the curves' own units, ``[..., L+1]``."""
  return fit.scale[..., None] * shape_curve(fit.friction, num_points) + fit.offset[..., None]


def _check_curves(load_curves):
  """The curves as a floating JAX array; ValueError naming the argument if unusable."""
  if isinstance(load_curves, (str, bytes)):
    raise ValueError(f"load_curves must be a real array [..., L+1], got {load_curves!r}")
  try:
    curves = jnp.asarray(load_curves)
  except (TypeError, ValueError) as err:
    raise ValueError(f"load_curves must be a real array [..., L+1] ({err})") from err
  if curves.dtype == jnp.bool_ or not (
      jnp.issubdtype(curves.dtype, jnp.floating) or jnp.issubdtype(curves.dtype, jnp.integer)
  ):
    raise ValueError(f"load_curves must be a real array [..., L+1], got dtype {curves.dtype}")
  if curves.ndim == 0 or curves.shape[-1] < 3:
    raise ValueError(
        "load_curves needs at least 3 layers along its last axis (input + 2 hidden layers: the "
        f"chain's shape has 3 parameters), got shape {curves.shape}"
    )
  if not jnp.issubdtype(curves.dtype, jnp.floating):
    curves = curves.astype(jnp.float32)
  return curves


def fit_shape(load_curves, *, flat_tol=FLAT_TOL, monotone_tol=MONOTONE_TOL) -> ShapeFit:
  """Fits the chain's equilibrium shape to every load curve of a grid at once.

  Each curve ``D_l``, ``l = 0..L``, is fit by least squares with
  ``scale * d_l(mu) + offset`` (module docstring); the fit is one linear map
  for all curves, with no iterations, so it runs inside ``jit`` and
  ``vmap`` and costs a matrix product for a whole grid. Curves are first
  shifted and scaled by their own ``D_L`` and drop, so the float32 fit is as
  accurate for large offsets as for small ones: beyond the float32 rounding
  of the curves themselves, errors in ``mu`` are ~1e-6 of its physical range
  ``2 / (L (L + 1))`` (tests compare with a float64 least-squares fit).
  Float64 input is fit in float64 when JAX's x64 mode is on.

  The shape ``d_l(mu)`` is quadratic in ``l``, so ``scale * d_l(mu) + offset``
  spans ``{1, l, l^2}``: this is a quadratic fit with a physical
  parametrisation. A valid fit says the curve falls and is near-monotone,
  not that a chain produced it.

  A curve is valid when, checked in this order (``reason`` says which failed):

  * all its values are finite (else ``non_finite``);
  * its drop ``D_0 - D_L`` is not flat: ``|drop| > flat_tol + 64 ulp *
    max_l |D_l|``, ``flat_tol`` in the curve's own units (the separation is a
    log ratio, so dimensionless) (else ``flat``);
  * it falls: ``drop > 0`` and the fitted ``scale > 0`` (else ``rising``);
  * it is monotone up to ``monotone_tol``: no layer raises the separation
    by more than ``monotone_tol * drop`` (else ``non_monotone``).

  Invalid curves keep their place in the grid with ``valid = False`` and NaN
  ``friction``, ``scale``, ``offset`` and ``residual``. A valid fit may still be
  a poor one: ``residual`` says how well the shape fits.

  Args:
    load_curves: ``[..., L+1]`` separations ``D_0..D_L`` (any leading grid
      axes), e.g. trace or pinv separations of trained networks, or chain
      load curves.
    flat_tol: absolute tolerance on the drop below which a curve is flat.
    monotone_tol: largest rise of one layer, as a fraction of the drop.

  Returns:
    A :class:`ShapeFit` whose fields have the grid shape ``[...]``.

  Raises:
    ValueError: naming ``load_curves`` if it is not a real array or has fewer
      than 3 layers along its last axis.
  """
  curves = _check_curves(load_curves)
  return _fit_shape(curves, flat_tol, monotone_tol)


@jax.jit
def _fit_shape(curves, flat_tol, monotone_tol):
  dtype = curves.dtype
  n = curves.shape[-1]
  basis = shape_basis(n)
  # Built in float64 once per shape; applying it in float32 is accurate since
  # the curves are normalised to O(1) first.
  projection = jnp.asarray(np.linalg.pinv(basis), dtype)  # [3, n]
  basis = jnp.asarray(basis, dtype)
  flat_tol = jnp.asarray(flat_tol, dtype)
  monotone_tol = jnp.asarray(monotone_tol, dtype)

  finite = jnp.all(jnp.isfinite(curves), axis=-1)
  # Non-finite curves are zeroed so that no NaN or inf reaches the arithmetic
  # below (their results are replaced by NaN at the end).
  curves = jnp.where(finite[..., None], curves, 0)
  first, last = curves[..., 0], curves[..., -1]
  drop = first - last
  magnitude = jnp.max(jnp.abs(curves), axis=-1)
  flat = jnp.abs(drop) <= flat_tol + _FLAT_ULPS * jnp.finfo(dtype).eps * magnitude
  # Normalise every curve to z in about [0, 1]; the fit is affine-equivariant,
  # so this changes nothing but the rounding.
  usable = finite & ~flat
  safe_drop = jnp.where(usable, drop, 1)
  z = (curves - last[..., None]) / safe_drop[..., None]
  coef = jnp.einsum("...n,kn->...k", z, projection)
  a, b, c = coef[..., 0], coef[..., 1], coef[..., 2]
  misfit = z - jnp.einsum("...k,nk->...n", coef, basis)
  residual = jnp.sqrt(jnp.mean(misfit**2, axis=-1))

  steps = z[..., :-1] - z[..., 1:]  # in units of the drop: 1 in total
  rising = (drop < 0) | (b <= 0)
  non_monotone = jnp.any(steps < -monotone_tol, axis=-1)
  reason = jnp.select(
      [~finite, flat, rising, non_monotone],
      [jnp.int32(r) for r in (NON_FINITE, FLAT, RISING, NON_MONOTONE)],
      jnp.int32(OK),
  )
  valid = reason == OK
  nan = jnp.asarray(jnp.nan, dtype)
  safe_b = jnp.where(valid, b, 1)
  return ShapeFit(
      friction=jnp.where(valid, c / safe_b, nan),
      scale=jnp.where(valid, b * drop, nan),
      offset=jnp.where(valid, last + a * drop, nan),
      residual=jnp.where(valid, residual, nan),
      valid=valid,
      reason=reason,
  )


def fitted_chain(
    fit: ShapeFit,
    num_blocks: int,
    *,
    dt=0.05,
    noise_dist: str = "truncated_normal",
    noise_cut=2.0,
) -> _config.ChainConfig:
  """A chain (or grid of chains) whose equilibrium has the fitted friction.

  ``k = 1`` and ``target = 1``, so the equilibrium load curve is the fit's
  ``d_l`` itself (``D_l = scale * d_l + offset``).

  * ``mu >= 0`` (concave or linear): ``mu_right = mu``, ``mu_left = 2 mu``,
    no noise. Every block stops where its elastic force is ``mu_right``.
  * ``mu < 0`` (convex): no noiseless chain does it (friction is >= 0, and
    without noise the blocks stop at ``F_l = mu_right >= 0``). Bounded noise
    at the saturation level does: ``mu_right = 0``, ``mu_left = -2 mu``, and
    noise ``eps = -2 mu sqrt(dt) / b`` (``b`` the bound of the unit noise in
    std units, ``noise_bound * eps_bar = 2 |mu|``), so that
    ``springs.effective_friction = max(mu_r - b eps_bar, (mu_r - mu_l) / 2)
    = max(2 mu, mu) = mu``: the root ``(mu_r - mu_l) / 2`` is the only one,
    and the chain's mean state is the closed-form curve with ``mu``; single
    runs fluctuate about it by about ``eps``.

  The closed form holds while every block moves: for
  ``mu <= 2 / (L (L + 1))`` (beyond it the shallow blocks stay stuck, see
  ``springs.equilibrium_load_curve``). A valid fit of a monotone curve lies
  near that range.

  Args:
    fit: from :func:`fit_shape`; every entry must be valid.
    num_blocks: ``L``, one less than the number of layers of the fitted
      curves.
    dt: time step of the chain.
    noise_dist: law of the noise for ``mu < 0``; must be bounded
      (``truncated_normal`` or ``uniform``).
    noise_cut: truncation of ``truncated_normal``, in std units.

  Returns:
    A ``springs.ChainConfig`` with the fit's grid shape.

  Raises:
    ValueError: if ``fit`` has invalid entries, or ``noise_dist`` is
      unbounded.
  """
  if not isinstance(fit, ShapeFit):
    raise ValueError(f"fit must be a ShapeFit from fit_shape, got {type(fit).__name__}")
  if noise_dist not in ("truncated_normal", "uniform"):
    raise ValueError(
        "noise_dist must be a bounded law ('truncated_normal' or 'uniform'): a convex curve "
        f"needs noise at a bounded level, got {noise_dist!r}"
    )
  mu = np.asarray(fit.friction, np.float64)
  valid = np.asarray(fit.valid)
  if not np.all(valid & np.isfinite(mu)):
    raise ValueError(
        f"fit has {int(np.sum(~valid))} invalid entries of {valid.size} (valid False, "
        "friction NaN); select the valid ones (fit.valid) before building chains"
    )
  bound = float(_noise.noise_bound(noise_dist, noise_cut))
  convex = mu < 0
  noise = np.where(convex, -2.0 * mu * np.sqrt(dt) / bound, 0.0)
  return _config.ChainConfig(
      num_blocks=num_blocks,
      k=1.0,
      target=1.0,
      mu_right=np.where(convex, 0.0, mu),
      mu_left=np.abs(2.0 * mu),
      noise=noise,
      dt=dt,
      noise_dist=noise_dist,
      noise_cut=noise_cut,
  )

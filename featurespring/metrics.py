"""Load-curve metrics shared by spring chains and trained networks (SPEC §1).

A load curve is ``c_0 .. c_n`` along the last axis of an array; every function
here reduces that axis and broadcasts over all leading (grid) axes, so one call
handles a whole phase diagram. All functions are jit- and vmap-friendly.

The layer metrics (`separation`, `separation_pinv`, `regression_load`) take
one layer's ``[N, D]`` features and produce one point of a network's load
curve; vmap them over nets and layers (`separations` gives both separations
from one pass). Labels are integer arrays and class sums come from one-hot
products, so ``num_classes`` is the only static argument.

Matmul precision policy: every matmul of the metrics here (class sums, both
separations, the regression load) runs at ``jax.lax.Precision.HIGHEST``
(`METRIC_PRECISION`); training runs at JAX's default precision. On CPU the
two are the same float32 products; on recent NVIDIA GPUs the default lets
XLA run float32 matmuls in TF32 (10-bit mantissa, relative error ~1e-3),
which would cost the separations digits that their float32 error analysis
below counts on (and the pinv separation divides by squared eigenvalues, so
it loses them twice), while the metrics' matmuls are a small part of an
epoch. The features the metrics receive are the network's own, computed at
the training precision: the policy fixes the measurement, not the net.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def layer_contributions(load_curve):
  """First differences ``d_i = c_i - c_{i+1}``: how much each layer (spring) separates."""
  load_curve = jnp.asarray(load_curve)
  return load_curve[..., :-1] - load_curve[..., 1:]


def curvature(load_curve):
  """Curvature ``d_0 - d_{n-1}`` of a load curve (SPEC §1).

  Positive: convex (shallow layers take more load, "active"); negative:
  concave (deep layers take more load, "lazy"); zero: linear (equiseparation).
  The sum of second differences telescopes to the first minus the last
  contribution, which is what is computed.
  """
  d = layer_contributions(load_curve)
  if d.shape[-1] < 1:
    raise ValueError(
        "load_curve needs at least 2 points along its last axis, "
        f"got shape {jnp.shape(load_curve)}"
    )
  return d[..., 0] - d[..., -1]


def mean_layer_drop(load_curve):
  """``|c_0 - c_L| / L``: the mean layer's share of a load curve's total drop.

  The scale against which a curvature is small: a linear curve of the same
  end points has every ``|d_i|`` equal to it. NumPy in, NumPy out (float64
  kept for the reports); JAX arrays stay JAX arrays.
  """
  if not hasattr(load_curve, "shape"):
    load_curve = np.asarray(load_curve, np.float64)
  if load_curve.shape[-1] < 2:
    raise ValueError(
        "load_curve needs at least 2 points along its last axis, " f"got shape {load_curve.shape}"
    )
  return abs(load_curve[..., 0] - load_curve[..., -1]) / (load_curve.shape[-1] - 1)


def spread(load_curve):
  """Standard deviation of the layer contributions ``d_i`` (0 for a linear curve)."""
  return jnp.std(layer_contributions(load_curve), axis=-1)


# Relative cut-off on the eigenvalues of S_b below which a direction counts as
# its null space in `separation_pinv`. 1e-5 is close to what
# `torch.linalg.pinv` uses on a float32 100x100 matrix (max(m, n) * eps =
# 1.2e-5), which is what the paper's reference code applied; it sits far above
# the float32 round-off floor once the exact null direction is projected out,
# and far below the spread of genuine class-mean directions.
PINV_RCOND = 1e-5
# Relative cut-off on the eigenvalues of the feature covariance in
# `regression_load` (collinear or dead features), about 10 float32 epsilons.
LSTSQ_RCOND = 1e-6

# Precision of every matmul below: never TF32 on GPUs (module docstring).
METRIC_PRECISION = jax.lax.Precision.HIGHEST


def _matmul(a, b):
  """``a @ b`` at `METRIC_PRECISION`."""
  return jnp.matmul(a, b, precision=METRIC_PRECISION)


def _finite_or_zero(matrix):
  """``(matrix or zeros, all finite)``.

  LAPACK eigensolvers can hang on Inf/NaN input (observed with batched SVD on
  CPU), and a diverged network's features may be non-finite: decompose zeros
  instead and report NaN.
  """
  finite = jnp.all(jnp.isfinite(matrix))
  return jnp.where(finite, matrix, 0.0), finite


# Which implementation of an operation that has a hand-written pure-JAX
# ("portable") version beside the library one: the eigensolver here, and the
# orthogonal initialiser and the CNN's convolution in `featurespring.models`.
IMPLS = ("auto", "library", "portable")


def resolve_impl(impl: str = "auto") -> str:
  """``'library'`` or ``'portable'``: the implementation ``impl`` stands for.

  The portable versions (`_jacobi_eigh`, `featurespring.models.orthogonal_init`
  and `featurespring.models.conv_same`) exist for XLA:CPU, whose batched
  LAPACK custom calls were seen to hang inside vmapped training scans and
  whose convolution gradients are slow (see their docstrings). Elsewhere the
  library versions (``jnp.linalg.eigh``, ``nn.initializers.orthogonal``,
  ``nn.Conv``) are the better choice: maintained, and tuned for the device.

  ``'auto'`` is ``'portable'`` when ``jax.default_backend()`` is ``'cpu'``,
  ``'library'`` otherwise; ``'library'`` and ``'portable'`` force a path (the
  tests run both on CPU and check that they agree). This is a static Python
  choice, made when the caller is traced, never a traced value. It follows
  the default backend, not where a computation is placed: a computation put
  on ``jax.devices('cpu')`` in a GPU process should pass ``'portable'``.

  Raises:
    ValueError: for an ``impl`` not in `IMPLS`.
  """
  if impl not in IMPLS:
    raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
  if impl == "auto":
    return "portable" if jax.default_backend() == "cpu" else "library"
  return impl


# Cyclic Jacobi sweeps in `_jacobi_eigh`: convergence is quadratic, and 8
# sweeps take a C x C (C <= ~20) matrix to float32 round-off.
JACOBI_SWEEPS = 8


def _jacobi_eigh(matrix, sweeps: int = JACOBI_SWEEPS):
  """Eigenvalues and eigenvectors of a small symmetric matrix, in pure JAX.

  Cyclic Jacobi rotations, each zeroing one off-diagonal pair. Used on CPU
  (see `_eigh`) instead of ``jnp.linalg.eigh`` for the per-layer C x C
  problem because LAPACK custom calls batched over a population inside the
  training scan were seen to deadlock on CPU (SVD and eigh alike); Jacobi is
  also accurate to the matrix's own round-off for small eigenvalues.

  Returns:
    ``(eigenvalues [n], eigenvectors [n, n] as columns)``, unordered.
  """
  size = matrix.shape[-1]
  pairs = np.array([(p, q) for p in range(size) for q in range(p + 1, size)])
  if len(pairs) == 0:
    return jnp.diagonal(matrix), jnp.eye(size, dtype=matrix.dtype)
  rows, cols = jnp.asarray(pairs[:, 0]), jnp.asarray(pairs[:, 1])

  def rotate(i, carry):
    a, v = carry
    p, q = rows[i % len(pairs)], cols[i % len(pairs)]
    a_pq = a[p, q]
    off = a_pq != 0
    tau = (a[q, q] - a[p, p]) / (2.0 * jnp.where(off, a_pq, 1.0))
    t = jnp.where(off, jnp.sign(tau) / (jnp.abs(tau) + jnp.sqrt(1.0 + tau**2)), 0.0)
    t = jnp.where(off & (tau == 0), 1.0, t)
    c = jax.lax.rsqrt(1.0 + t**2)
    s = t * c
    # A <- J^T A J and V <- V J for the rotation J in the (p, q) plane.
    row_p, row_q = a[p], a[q]
    a = a.at[p].set(c * row_p - s * row_q).at[q].set(s * row_p + c * row_q)
    col_p, col_q = a[:, p], a[:, q]
    a = a.at[:, p].set(c * col_p - s * col_q).at[:, q].set(s * col_p + c * col_q)
    vec_p, vec_q = v[:, p], v[:, q]
    v = v.at[:, p].set(c * vec_p - s * vec_q).at[:, q].set(s * vec_p + c * vec_q)
    return a, v

  a, v = jax.lax.fori_loop(
      0, sweeps * len(pairs), rotate, (matrix, jnp.eye(size, dtype=matrix.dtype))
  )
  return jnp.diagonal(a), v


def _eigh(matrix, impl: str = "auto"):
  """Eigenvalues and eigenvectors (columns) of a small symmetric matrix.

  `_jacobi_eigh` on the portable path (CPU, by `resolve_impl`), LAPACK's or
  the accelerator's solver through ``jnp.linalg.eigh`` on the library path.
  The order of the eigenpairs differs (unordered vs ascending); callers must
  not depend on it. Accuracy: Jacobi resolves small eigenvalues to their own
  relative round-off, ``eigh`` to ``~eps * lambda_max`` absolute, so a term
  of `separation_pinv` with eigenvalue ``lambda_k`` may differ by a relative
  ``~eps * lambda_max / lambda_k`` between the paths: within the round-off
  that `separation_pinv` already documents for its inputs (at most
  ``eps / rcond``, about 1e-2, for an eigenvalue at the cut-off; about 1e-5
  where ``S_b`` is well conditioned).
  """
  if resolve_impl(impl) == "library":
    return jnp.linalg.eigh(matrix)
  return _jacobi_eigh(matrix)


class _ClassMoments(NamedTuple):
  """One pass of class statistics, shared by both separations.

  Attributes:
    centred_NxD: the features minus their global mean.
    one_hot_NxC: the labels, one-hot.
    counts_C: class sizes ``n_c``.
    means_CxD: class means of the centred features, ``m_c - m`` (zero for
      an empty class).
    total: ``sum_i |h_i - m|^2 = N tr(S_w + S_b)``.
  """

  centred_NxD: jax.Array
  one_hot_NxC: jax.Array
  counts_C: jax.Array
  means_CxD: jax.Array
  total: jax.Array


def _class_moments(features, labels, num_classes) -> _ClassMoments:
  """Class sums from one one-hot product; no per-example within-class array.

  Args:
    features: ``[N, D]`` features, one row per example.
    labels: ``[N]`` integer class labels in ``[0, num_classes)``.
    num_classes: static number of classes ``C``.
  """
  features = jnp.asarray(features)
  if features.ndim != 2:
    raise ValueError(f"features must be [N, D], got shape {features.shape}")
  one_hot_NxC = jax.nn.one_hot(labels, num_classes, dtype=features.dtype)
  # Centring first keeps float32 class means accurate when the features share
  # a large common offset (e.g. ReLU outputs), which the metrics do not see.
  centred_NxD = features - jnp.mean(features, axis=0)
  counts_C = jnp.sum(one_hot_NxC, axis=0)
  # The one-hot matmul, not a broadcast [N, C, D] product and sum: inside the
  # full vmapped evaluation XLA:CPU materialised that product (10x the
  # features), making a 96-net epoch's evaluation 7x slower (18.4 s vs 2.4 s).
  sums_CxD = _matmul(one_hot_NxC.T, centred_NxD)
  means_CxD = sums_CxD / jnp.maximum(counts_C, 1.0)[:, None]
  total = jnp.sum(jnp.square(centred_NxD))
  return _ClassMoments(centred_NxD, one_hot_NxC, counts_C, means_CxD, total)


# `_trace_separation` takes tr S_w = tr S_t - tr S_b from sums of squares:
# each term carries a float32 rounding error of a few eps times tr S_t (about
# 2 eps measured on CPU for up to 2560 x 100 features; more for a less
# accurate summation order), so the difference has a relative error of about
# c eps tr S_t / tr S_w, c of order 1-10. Where tr S_w / tr S_t falls below
# this floor, so that this error could pass ~1e-4, tr S_w is summed directly
# instead: separations below about log(1e-3) = -6.9 (the MNIST nets trained
# here reach about -4).
WITHIN_FRACTION_FLOOR = 1e-3


def _trace_separation(moments: _ClassMoments, labels, axis_name=None):
  """``log(tr S_w / tr S_b)`` from `_class_moments` (see `separation`)."""
  centred_NxD, _, counts_C, means_CxD, total = moments
  # The common 1/N of S_w and S_b cancels in the ratio.
  between = jnp.sum(counts_C * jnp.sum(jnp.square(means_CxD), axis=1))
  within_moments = total - between
  cancelled = within_moments <= WITHIN_FRACTION_FLOOR * total
  needed = cancelled
  if axis_name is not None:
    # Under vmap a per-member branch becomes a select that always pays for
    # the direct sum; one decision for the whole vmapped axis stays a real
    # branch. Members not cancelled keep their moment value either way, so
    # a member's result does not depend on the rest of the population.
    needed = jax.lax.psum(cancelled.astype(jnp.int32), axis_name) > 0

  def direct():
    # No cancellation: one more pass over the features, gathering each
    # example's class mean.
    within = jnp.sum(jnp.square(centred_NxD - means_CxD[labels]))
    return jnp.where(cancelled, within, within_moments)

  within = jax.lax.cond(needed, direct, lambda: within_moments)
  return jnp.log(within) - jnp.log(between)


def _pinv_separation(moments: _ClassMoments, rcond, impl="auto"):
  """``log tr(S_w S_b^+)`` from `_class_moments` (see `separation_pinv`)."""
  centred_NxD, one_hot_NxC, counts_C, means_CxD, _ = moments
  num_examples = jnp.sum(counts_C)
  weights_C = jnp.sqrt(counts_C / num_examples)
  between_CxD = weights_C[:, None] * means_CxD
  # weights_C is a unit vector (sum n_c / N = 1) with weights_C @ M = 0.
  between_CxD -= jnp.outer(weights_C, _matmul(weights_C, between_CxD))
  gram_CxC, finite = _finite_or_zero(_matmul(between_CxD, between_CxD.T))
  eigen_K, vectors_CxK = _eigh(0.5 * (gram_CxC + gram_CxC.T), impl)
  keep_K = eigen_K > rcond * jnp.max(eigen_K)
  # Column k of Z B is sqrt(lambda_k) Z v_k, Z = centred - one_hot @ means
  # the within-class centred features. Z is never formed: its class-mean
  # part is projected first, a C x K matrix. Each entry still subtracts two
  # projections of one example, so round-off stays relative to |h_i - m|,
  # as when Z is formed, not to a sum over examples.
  directions_DxK = _matmul(between_CxD.T, vectors_CxK)
  projected_NxK = _matmul(centred_NxD, directions_DxK) - _matmul(
      one_hot_NxC, _matmul(means_CxD, directions_DxK)
  )
  scaled_within_K = jnp.sum(jnp.square(projected_NxK), axis=0) / num_examples
  safe_eigen_K = jnp.where(keep_K, eigen_K, 1.0)
  terms_K = jnp.where(keep_K, scaled_within_K / jnp.square(safe_eigen_K), 0.0)
  return jnp.where(finite, jnp.log(jnp.sum(terms_K)), jnp.nan)


def separation(features, labels, num_classes: int):
  """Trace separation ``log(tr S_w / tr S_b)`` of one layer (SPEC §1, eq. 3).

  Lower is better separated. Classes without examples contribute nothing; a
  class with one example contributes only to ``S_b``. Degenerate features
  (``tr S_b = 0``, e.g. a dead layer) give ``+inf`` or NaN.

  ``tr S_w`` is ``tr S_t - tr S_b`` from the class sums (no per-example
  within-class array), unless that difference is below
  `WITHIN_FRACTION_FLOOR` of ``tr S_t`` (very well separated classes), where
  float32 cancellation would cost digits; then it is summed directly. The
  relative error of ``tr S_w``, and so the absolute error of the result, is
  thus at most about ``c eps / WITHIN_FRACTION_FLOOR = c * 6e-5`` (``c`` of
  order 1-10; 6e-5 measured just above the floor). Under vmap the direct sum
  is computed for every member (a select); `separations` with ``axis_name``
  avoids that.

  Args:
    features: ``[N, D]`` features (vmap over leading axes for a stack).
    labels: ``[N]`` integer labels in ``[0, num_classes)``.
    num_classes: static number of classes.

  Returns:
    A scalar.
  """
  return _trace_separation(_class_moments(features, labels, num_classes), labels)


def separation_pinv(
    features, labels, num_classes: int, rcond: float = PINV_RCOND, impl: str = "auto"
):
  """Pseudo-inverse separation ``log tr(S_w S_b^+)`` (SPEC §1, SM S4).

  ``S_b = M^T M`` with the ``[C, D]`` matrix ``M`` of rows
  ``sqrt(n_c / N) (m_c - m)``. With the eigendecomposition of the ``C x C``
  Gram matrix ``M M^T = sum_k lambda_k u_k u_k^T``, the nonzero eigenvalues
  of ``S_b`` are the ``lambda_k`` with eigenvectors
  ``v_k = M^T u_k / sqrt(lambda_k)``, so
  ``tr(S_w S_b^+) = sum_k |Z M^T u_k|^2 / (N lambda_k^2)``, ``Z`` the
  within-class centred features. This needs a ``C x C`` eigenproblem
  (solved by `_eigh`) instead of a ``D x D`` pseudo-inverse: faster,
  and it never forms ``S_b``'s ``D - C`` dimensional null space at all.

  ``S_b`` has rank at most ``C - 1``: the rows of ``M`` weighted by
  ``sqrt(n_c)`` sum to zero. That exact null direction is projected out of
  ``M`` first, so round-off cannot turn it into a tiny spurious eigenvalue;
  then eigenvalues ``<= rcond * lambda_max`` count as zero, as
  ``numpy.linalg.pinv(S_b, rcond)`` would treat them. Empty classes add
  zero rows. Non-finite features give NaN.

  Round-off: the terms divide by ``lambda_k^2``, so a relative change
  ``delta`` of the features (or of a sum's order) moves the result by up to
  about ``delta * lambda_max / lambda_k`` for the smallest kept
  ``lambda_k`` (at most ``delta / rcond``), and an eigenvalue within
  round-off of the cut-off can drop in or out. It is thus the less precise
  of the two separations. Under vmap, XLA sums over examples in an order
  set by the whole population's shape: the same features gave results up
  to 1e-5 apart in populations of 1 and 5 (the trace separation 1e-6); a
  net trained alone and among 5 stays within 1e-4 where ``S_b`` is well
  conditioned (tested; 6e-4 measured at a smallest kept eigenvalue of
  5e-5 times the largest; see `featurespring.train.step`).

  Args:
    features: ``[N, D]`` features.
    labels: ``[N]`` integer labels in ``[0, num_classes)``.
    num_classes: static number of classes.
    rcond: relative cut-off on the eigenvalues of ``S_b``.
    impl: eigensolver, ``'auto'``, ``'library'`` (``jnp.linalg.eigh``) or
      ``'portable'`` (`_jacobi_eigh`); see `resolve_impl` and `_eigh`.

  Returns:
    A scalar.
  """
  return _pinv_separation(_class_moments(features, labels, num_classes), rcond, impl)


def separations(
    features,
    labels,
    num_classes: int,
    rcond: float = PINV_RCOND,
    axis_name=None,
    impl: str = "auto",
):
  """``(separation, separation_pinv)`` of one layer from one pass of class sums.

  Equal to calling `separation` and `separation_pinv`, but the centring, the
  class sums and the total sum of squares are computed once; this is what
  the training loop evaluates per layer.

  Args:
    features: ``[N, D]`` features.
    labels: ``[N]`` integer labels in ``[0, num_classes)``.
    num_classes: static number of classes.
    rcond: relative cut-off on the eigenvalues of ``S_b`` (pinv only).
    axis_name: optional name (or tuple of names) of the vmapped axes this is
      called under. The direct within-class sum of `separation` then runs
      only when some member along those axes needs it, instead of for every
      member; the values are the same.
    impl: eigensolver of the pinv separation, as for `separation_pinv`.

  Returns:
    Two scalars.
  """
  moments = _class_moments(features, labels, num_classes)
  return (
      _trace_separation(moments, labels, axis_name),
      _pinv_separation(moments, rcond, impl),
  )


def regression_load(features, targets, rcond: float = LSTSQ_RCOND):
  """Regression load (SM S5): RMSE of the best affine least-squares fit.

  Fits ``targets ~ features @ W + b`` by least squares and returns the root
  mean squared residual over examples and target components. The residual
  is the part of the centred targets outside the span of the centred
  features, computed by modified Gram-Schmidt in pure JAX: LAPACK custom
  calls (SVD, eigh) batched over a population inside the training scan were
  seen to deadlock on CPU, in up to 4 of 6 regression sweeps. A direction
  whose orthogonalised norm is ``<= sqrt(rcond)`` times the largest feature
  norm counts as collinear and is skipped, the analogue of cutting
  covariance eigenvalues ``<= rcond * max``.

  Args:
    features: ``[N, D]`` features.
    targets: ``[N]`` or ``[N, K]`` real targets.
    rcond: relative cut-off (on the scale of covariance eigenvalues).

  Returns:
    A scalar.
  """
  features = jnp.asarray(features)
  targets = jnp.asarray(targets, features.dtype)
  features, finite = _finite_or_zero(features)
  targets_NxK = targets.reshape(targets.shape[0], -1)
  # Centring both sides absorbs the intercept exactly.
  centred_NxD = features - jnp.mean(features, axis=0)
  centred_NxK = targets_NxK - jnp.mean(targets_NxK, axis=0)
  num_features = centred_NxD.shape[1]
  tolerance = jnp.sqrt(rcond) * jnp.max(jnp.linalg.norm(centred_NxD, axis=0))

  def project_out_column(j, carry):
    remaining_NxD, residual_NxK = carry
    column_N = jax.lax.dynamic_index_in_dim(remaining_NxD, j, axis=1, keepdims=False)
    norm = jnp.linalg.norm(column_N)
    keep = norm > tolerance
    unit_N = jnp.where(keep, column_N / jnp.where(keep, norm, 1.0), 0.0)
    residual_NxK = residual_NxK - jnp.outer(unit_N, _matmul(unit_N, residual_NxK))
    later_D = jnp.arange(num_features) > j
    remaining_NxD = remaining_NxD - jnp.outer(unit_N, _matmul(unit_N, remaining_NxD)) * later_D
    return remaining_NxD, residual_NxK

  _, residual_NxK = jax.lax.fori_loop(
      0, num_features, project_out_column, (centred_NxD, centred_NxK)
  )
  rmse = jnp.sqrt(jnp.mean(jnp.square(residual_NxK)))
  return jnp.where(finite & jnp.all(jnp.isfinite(targets_NxK)), rmse, jnp.nan)

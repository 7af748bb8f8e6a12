"""Load-curve metrics shared by spring chains and trained networks (SPEC §1).

A load curve is ``c_0 .. c_n`` along the last axis of an array; every function
here reduces that axis and broadcasts over all leading (grid) axes, so one call
handles a whole phase diagram. All functions are jit- and vmap-friendly.

The layer metrics (`separation`, `separation_pinv`, `regression_load`) take
one layer's ``[N, D]`` features and produce one point of a network's load
curve; vmap them over nets and layers. Labels are integer arrays and class
statistics come from one-hot matmuls, so ``num_classes`` is the only static
argument.
"""

from __future__ import annotations

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
    raise ValueError("load_curve needs at least 2 points along its last axis, "
                     f"got shape {jnp.shape(load_curve)}")
  return d[..., 0] - d[..., -1]


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


def _finite_or_zero(matrix):
  """``(matrix or zeros, all finite)``.

  LAPACK eigensolvers can hang on Inf/NaN input (observed with batched SVD on
  CPU), and a diverged network's features may be non-finite: decompose zeros
  instead and report NaN.
  """
  finite = jnp.all(jnp.isfinite(matrix))
  return jnp.where(finite, matrix, 0.0), finite


# Cyclic Jacobi sweeps in `_jacobi_eigh`: convergence is quadratic, and 8
# sweeps take a C x C (C <= ~20) matrix to float32 round-off.
JACOBI_SWEEPS = 8


def _jacobi_eigh(matrix, sweeps: int = JACOBI_SWEEPS):
  """Eigenvalues and eigenvectors of a small symmetric matrix, in pure JAX.

  Cyclic Jacobi rotations, each zeroing one off-diagonal pair. Used instead of
  ``jnp.linalg.eigh`` for the per-layer C x C problem because LAPACK custom
  calls batched over a population inside the training scan were seen to
  deadlock on CPU (SVD and eigh alike); Jacobi is also accurate to the
  matrix's own round-off for small eigenvalues.

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
    t = jnp.where(off, jnp.sign(tau) / (jnp.abs(tau) + jnp.sqrt(1.0 + tau**2)),
                  0.0)
    t = jnp.where(off & (tau == 0), 1.0, t)
    c = jax.lax.rsqrt(1.0 + t**2)
    s = t * c
    # A <- J^T A J and V <- V J for the rotation J in the (p, q) plane.
    row_p, row_q = a[p], a[q]
    a = a.at[p].set(c * row_p - s * row_q).at[q].set(s * row_p + c * row_q)
    col_p, col_q = a[:, p], a[:, q]
    a = a.at[:, p].set(c * col_p - s * col_q).at[:, q].set(s * col_p
                                                           + c * col_q)
    vec_p, vec_q = v[:, p], v[:, q]
    v = v.at[:, p].set(c * vec_p - s * vec_q).at[:, q].set(s * vec_p
                                                           + c * vec_q)
    return a, v

  a, v = jax.lax.fori_loop(0, sweeps * len(pairs), rotate,
                           (matrix, jnp.eye(size, dtype=matrix.dtype)))
  return jnp.diagonal(a), v


def _class_statistics(features, labels, num_classes):
  """Quantities shared by both separation metrics.

  Args:
    features: ``[N, D]`` features, one row per example.
    labels: ``[N]`` integer class labels in ``[0, num_classes)``.
    num_classes: static number of classes ``C``.

  Returns:
    ``(within_NxD, means_CxD, counts_C)``: the features minus their class
    mean, the class means of the globally centred features, and the class
    sizes. Empty classes have a zero mean and count.
  """
  features = jnp.asarray(features)
  if features.ndim != 2:
    raise ValueError(f"features must be [N, D], got shape {features.shape}")
  one_hot_NxC = jax.nn.one_hot(labels, num_classes, dtype=features.dtype)
  # Centring first keeps float32 class means accurate when the features share
  # a large common offset (e.g. ReLU outputs), which the metrics do not see.
  centred_NxD = features - jnp.mean(features, axis=0)
  counts_C = jnp.sum(one_hot_NxC, axis=0)
  sums_CxD = one_hot_NxC.T @ centred_NxD
  means_CxD = sums_CxD / jnp.maximum(counts_C, 1.0)[:, None]
  within_NxD = centred_NxD - one_hot_NxC @ means_CxD
  return within_NxD, means_CxD, counts_C


def separation(features, labels, num_classes: int):
  """Trace separation ``log(tr S_w / tr S_b)`` of one layer (SPEC §1, eq. 3).

  Lower is better separated. Classes without examples contribute nothing; a
  class with one example contributes only to ``S_b``. Degenerate features
  (``tr S_b = 0``, e.g. a dead layer) give ``+inf`` or NaN.

  Args:
    features: ``[N, D]`` features (vmap over leading axes for a stack).
    labels: ``[N]`` integer labels in ``[0, num_classes)``.
    num_classes: static number of classes.

  Returns:
    A scalar.
  """
  within_NxD, means_CxD, counts_C = _class_statistics(features, labels,
                                                      num_classes)
  # The common 1/N of S_w and S_b cancels in the ratio.
  trace_within = jnp.sum(jnp.square(within_NxD))
  trace_between = jnp.sum(counts_C * jnp.sum(jnp.square(means_CxD), axis=1))
  return jnp.log(trace_within) - jnp.log(trace_between)


def separation_pinv(features, labels, num_classes: int,
                    rcond: float = PINV_RCOND):
  """Pseudo-inverse separation ``log tr(S_w S_b^+)`` (SPEC §1, SM S4).

  ``S_b = M^T M`` with the ``[C, D]`` matrix ``M`` of rows
  ``sqrt(n_c / N) (m_c - m)``. With the eigendecomposition of the ``C x C``
  Gram matrix ``M M^T = sum_k lambda_k u_k u_k^T``, the nonzero eigenvalues
  of ``S_b`` are the ``lambda_k`` with eigenvectors
  ``v_k = M^T u_k / sqrt(lambda_k)``, so
  ``tr(S_w S_b^+) = sum_k |Z M^T u_k|^2 / (N lambda_k^2)``, ``Z`` the
  within-class centred features. This needs a ``C x C`` eigenproblem
  (solved by `_jacobi_eigh`) instead of a ``D x D`` pseudo-inverse: faster,
  and it never forms ``S_b``'s ``D - C`` dimensional null space at all.

  ``S_b`` has rank at most ``C - 1``: the rows of ``M`` weighted by
  ``sqrt(n_c)`` sum to zero. That exact null direction is projected out of
  ``M`` first, so round-off cannot turn it into a tiny spurious eigenvalue;
  then eigenvalues ``<= rcond * lambda_max`` count as zero, as
  ``numpy.linalg.pinv(S_b, rcond)`` would treat them. Empty classes add
  zero rows. Non-finite features give NaN.

  Args:
    features: ``[N, D]`` features.
    labels: ``[N]`` integer labels in ``[0, num_classes)``.
    num_classes: static number of classes.
    rcond: relative cut-off on the eigenvalues of ``S_b``.

  Returns:
    A scalar.
  """
  within_NxD, means_CxD, counts_C = _class_statistics(features, labels,
                                                      num_classes)
  num_examples = jnp.sum(counts_C)
  weights_C = jnp.sqrt(counts_C / num_examples)
  between_CxD = weights_C[:, None] * means_CxD
  # weights_C is a unit vector (sum n_c / N = 1) with weights_C @ M = 0.
  between_CxD -= jnp.outer(weights_C, weights_C @ between_CxD)
  gram_CxC, finite = _finite_or_zero(between_CxD @ between_CxD.T)
  eigen_K, vectors_CxK = _jacobi_eigh(0.5 * (gram_CxC + gram_CxC.T))
  keep_K = eigen_K > rcond * jnp.max(eigen_K)
  # Column k is sqrt(lambda_k) Z v_k.
  projected_NxK = within_NxD @ (between_CxD.T @ vectors_CxK)
  scaled_within_K = jnp.sum(jnp.square(projected_NxK), axis=0) / num_examples
  safe_eigen_K = jnp.where(keep_K, eigen_K, 1.0)
  terms_K = jnp.where(keep_K, scaled_within_K / jnp.square(safe_eigen_K), 0.0)
  return jnp.where(finite, jnp.log(jnp.sum(terms_K)), jnp.nan)


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
    residual_NxK = residual_NxK - jnp.outer(unit_N, unit_N @ residual_NxK)
    later_D = jnp.arange(num_features) > j
    remaining_NxD = remaining_NxD - jnp.outer(unit_N, unit_N @ remaining_NxD) * later_D
    return remaining_NxD, residual_NxK

  _, residual_NxK = jax.lax.fori_loop(0, num_features, project_out_column,
                                      (centred_NxD, centred_NxK))
  rmse = jnp.sqrt(jnp.mean(jnp.square(residual_NxK)))
  return jnp.where(finite & jnp.all(jnp.isfinite(targets_NxK)), rmse, jnp.nan)

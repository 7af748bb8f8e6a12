"""A competitor of the chain for the load-curve dynamics: a bending shape that relaxes in time.

The chain from rest (``featurespring.bridge._dynamics.fit_dynamics``) uses six
numbers per cell: ``mu_r``, ``mu_l``, ``eps``, the time scale ``s`` and the
affine map ``a + b d``. This generic model, with no physics, has five:

  ``D_l(e) = a + b u_l + (c + d exp(-e / tau)) u_l (1 - u_l)``,  ``u_l = l / L``,

a straight line across the layers plus a parabolic bend whose depth relaxes
exponentially from ``c + d`` to ``c`` over training. For each ``tau`` on a
geometric grid the other four are linear least squares; the ``tau`` with the
smallest error wins. Scored with the chain's ``R2`` and ``R2dyn``
(``trajectory_r2``), so that a chain that does not beat it has shown nothing
a bending, relaxing shape could not.
"""

from __future__ import annotations

import numpy as np

from featurespring.bridge import _dynamics as dynamics

NUM_PARAMS = 5
# tau from a tenth of the first epoch to ten times the last.
TAU_RANGE = (0.1, 10.0)
NUM_TAU = 128


def fit_relaxation(trajectories, epochs, num_tau=NUM_TAU):
  """The relaxing-shape model fit to each cell's ``[E, L+1]`` trajectory.

  Args:
    trajectories: ``[X, E, L+1]`` seed-mean load curves by epoch (NaN entries
      are left out of the fit and the scores).
    epochs: ``[E]`` the epochs.
    num_tau: candidate time constants.

  Returns:
    ``{"r2", "r2_dynamic", "tau", "fitted"}``: ``[X]``, ``[X]``, ``[X]`` and
    ``[X, E, L+1]`` (NaN for a cell with fewer finite entries than parameters).
  """
  traj = np.asarray(trajectories, np.float64)
  epochs = np.asarray(epochs, np.float64)
  num_layers = traj.shape[-1]
  u = np.arange(num_layers) / (num_layers - 1)
  bend = u * (1.0 - u)
  taus = np.geomspace(TAU_RANGE[0] * epochs[0], TAU_RANGE[1] * epochs[-1], num_tau)
  valid = np.isfinite(traj)
  y = np.where(valid, traj, 0.0).reshape(traj.shape[0], -1)  # [X, E*(L+1)]
  w = valid.reshape(traj.shape[0], -1).astype(np.float64)
  best_sse = np.full(traj.shape[0], np.inf)
  best_fit = np.full(traj.shape, np.nan)
  best_tau = np.full(traj.shape[0], np.nan)
  for tau in taus:
    decay = np.exp(-epochs / tau)[:, None]  # [E, 1]
    columns = [
        np.ones((epochs.size, num_layers)),
        np.broadcast_to(u, (epochs.size, num_layers)),
        np.broadcast_to(bend, (epochs.size, num_layers)),
        decay * bend,
    ]
    basis = np.stack([c.reshape(-1) for c in columns], -1)  # [E*(L+1), 4]
    gram = np.einsum("xn,np,nq->xpq", w, basis, basis)
    rhs = np.einsum("xn,np->xp", w * y, basis)
    # Least squares for every cell at once; pinv also covers a cell too short to fix all four.
    coef = np.einsum("xpq,xq->xp", np.linalg.pinv(gram), rhs)
    fitted = coef @ basis.T  # [X, E*(L+1)]
    sse = (w * (fitted - y) ** 2).sum(-1)
    better = sse < best_sse
    best_sse = np.where(better, sse, best_sse)
    best_tau = np.where(better, tau, best_tau)
    best_fit[better] = fitted[better].reshape((-1,) + traj.shape[1:])
  enough = w.sum(-1) >= NUM_PARAMS
  best_fit[~enough] = np.nan
  r2, r2_dynamic = dynamics.trajectory_r2(traj, best_fit)
  return {
      "r2": np.where(enough, np.asarray(r2, np.float64), np.nan),
      "r2_dynamic": np.where(enough, np.asarray(r2_dynamic, np.float64), np.nan),
      "tau": np.where(enough, best_tau, np.nan),
      "fitted": best_fit,
  }

"""Chains with leftward friction only (paper Fig. 5(b)): linear without noise, convex with it.

Reads a merged springs sweep over ``mu_left`` (rows) x ``noise`` (columns) at
``mu = 0`` (``experiments/fig5b_left_friction_only.py``). Without noise the
blocks only slide right and stop at zero force, so every row ends on the
linear curve whatever ``mu_left`` is; noise lets them slide left too, and the
effective friction falls to its large-noise limit ``(mu_r - mu_l) / 2`` (a
convex curve). Per row: the curvature over noise beside that limit's.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from featurespring import metrics
from featurespring.analysis import finished
from featurespring.analysis import fluctuations
from featurespring.analysis import stats


def _limit_curvature(sweep: finished.FinishedSweep, mu_left) -> np.ndarray:
  """Curvature ``[rows]`` of the equilibrium curve at the large-noise ``mu_eff``."""
  from featurespring import springs  # pylint: disable=g-import-not-at-top

  # (mu_r - mu_l) / 2 is the limit of springs.effective_friction; at Fig. 5(b)'s
  # mu_r = 0 it is -mu_l / 2.
  mu_eff = 0.5 * (float(fluctuations.chain_setting(sweep, "mu")) - np.asarray(mu_left))
  curves = springs.equilibrium_load_curve(
      int(sweep.config["springs"]["num_blocks"]),
      fluctuations.chain_setting(sweep, "target"),
      fluctuations.chain_setting(sweep, "k"),
      mu_eff,
  )
  return np.asarray(metrics.curvature(curves), np.float64)


def left_friction_only(sweep: finished.FinishedSweep) -> dict:
  """Curvature over noise per leftward friction in a merged Fig. 5(b) sweep.

  Diverged chains are left out of every statistic; signs follow
  :func:`stats.sign_pattern`.

  Args:
    sweep: a springs sweep with ``mu_left`` and ``noise`` axes (other axes
      held at their first value).

  Returns:
    ``noise`` (the axis) and ``rows``, one per ``mu_left`` ascending:
    ``mu_left``; ``curvature_mean`` / ``curvature_std`` over noise and their
    ``sign`` string; ``noiseless_curvature`` / ``noiseless_std`` (NaN if no
    column has noise 0) and ``noiseless_mean_layer_drop``, ``|D_0 - D_L| / L``
    of the seed-mean noiseless final load curve (the scale a curvature is
    small against); ``max_noise_curvature`` / ``max_noise_std`` /
    ``max_noise_sign`` at the largest noise; ``theory_limit_curvature``, the
    equilibrium curve's at ``mu_eff = (mu_r - mu_l) / 2``.

  Raises:
    ValueError: not a springs sweep over ``mu_left`` and ``noise``.
  """
  if sweep.engine != "springs" or not {"mu_left", "noise"} <= set(sweep.names):
    raise ValueError(f"{sweep.name or 'the sweep'} is not a springs sweep over mu_left x noise")
  if (sweep.x, sweep.y) != ("noise", "mu_left"):
    sweep = dataclasses.replace(sweep, x="noise", y="mu_left")
  noise = np.asarray(sweep.axis("noise"), np.float64)
  mu_left = sweep.raw_y_values(by_value=True)
  order = sweep.row_order()
  mean, std, n = stats.cell_stats(sweep.finite_cells("curvature")[order])  # [mu_left, noise]
  signs = stats.sign_pattern(mean, std, n)
  curves = sweep.finite_cells("load_curve")[order]  # [mu_left, noise, seed, L + 1]
  noiseless = np.flatnonzero(noise == 0.0)
  loudest = int(np.argmax(noise))
  limit = _limit_curvature(sweep, mu_left)
  rows = []
  for i, m in enumerate(mu_left):
    row = {
        "mu_left": float(m),
        "curvature_mean": mean[i],
        "curvature_std": std[i],
        "sign": "".join(signs[i]),
        "noiseless_curvature": np.nan,
        "noiseless_std": np.nan,
        "noiseless_mean_layer_drop": np.nan,
    }
    if noiseless.size:
      j = noiseless[0]
      with stats.quiet():
        curve = np.nanmean(curves[i, j], axis=0)
      row.update(
          noiseless_curvature=float(mean[i, j]),
          noiseless_std=float(std[i, j]),
          noiseless_mean_layer_drop=float(metrics.mean_layer_drop(curve)),
      )
    row.update(
        max_noise_curvature=float(mean[i, loudest]),
        max_noise_std=float(std[i, loudest]),
        max_noise_sign=str(signs[i, loudest]),
        theory_limit_curvature=float(limit[i]),
    )
    rows.append(row)
  return {"noise": noise, "rows": rows}

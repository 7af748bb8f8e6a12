"""The spring-block chain phase diagrams of ``experiments/springs_phase_diagram.py``.

That script leaves one ``<dynamics>_phase.npz`` per dynamics (``mu``,
``noise``, ``load_curves [mu, noise, seed, L+1]``) and a ``summary.json`` of
run times. Per friction row: the curvature signs over noise, whether the
curvature rises with the noise, the measured zero crossings and, for the
first-order chain, the effective-friction theory's critical noise.
"""

from __future__ import annotations

import os

import numpy as np

from featurespring import metrics
from featurespring.analysis import crossings
from featurespring.analysis import stats
from featurespring.sweep import results


def analyse_chain_phases(path, first_order_config):
  """Per dynamics, the chain phase diagram in ``path`` (``status: missing`` if absent).

  Args:
    path: the script's ``--outdir``.
    first_order_config: the config file whose chain constants the
      first-order run used (``experiments/fig3_springs.py``), for the theory.

  Returns:
    ``{dynamics: numbers}``: ``mu``, ``noise``, ``num_seeds``, the mean and
    std curvature ``[mu, noise]``, sign strings per row, the run time, and
    ``rows`` (Spearman of curvature against noise, crossings in noise units,
    the theory's critical noise) with the fraction of rows increasing.
  """
  from featurespring import springs  # pylint: disable=g-import-not-at-top
  from featurespring import sweep as sweep_lib  # pylint: disable=g-import-not-at-top
  summary = {}
  if os.path.exists(os.path.join(path, "summary.json")):
    summary = results.read_json(os.path.join(path, "summary.json"))
  out = {}
  for dynamics in springs.DYNAMICS:
    npz = os.path.join(path, f"{dynamics}_phase.npz")
    if not os.path.exists(npz):
      out[dynamics] = {"status": "missing"}
      continue
    data = np.load(npz)
    mu, noise = np.asarray(data["mu"], np.float64), np.asarray(data["noise"], np.float64)
    curvature = np.asarray(metrics.curvature(np.asarray(data["load_curves"], np.float64)))
    mean, std, n = stats.cell_stats(curvature)  # [mu, noise]
    entry = {"status": "ok", "mu": mu, "noise": noise, "num_seeds": int(curvature.shape[-1]),
             "curvature_mean": mean, "curvature_std": std,
             "sign": ["".join(r) for r in stats.sign_pattern(mean, std, n)],
             "runtime": {k: v for k, v in summary.get(dynamics, {}).items() if k != "figures"}}
    rows = []
    for i, m in enumerate(mu):
      rows.append({"mu": m, "spearman_curvature_vs_noise": float(stats.spearman(noise, mean[i]))
                   if np.isfinite(mean[i]).all() else None,
                   "crossings_noise": [crossings.x_at(c, noise)
                                       for c in crossings.zero_crossings(mean[i])]})
    if dynamics == "first_order":
      # The zero-curvature line of the effective-friction theory, with the
      # constants of the config the script ran (its own horizon if recorded).
      c = sweep_lib.load_config(first_order_config).springs
      horizon = int(summary.get(dynamics, {}).get("num_steps", c.num_steps))
      eps = springs.critical_noise(mu, c.dt, c.noise_dist, c.noise_cut, horizon=horizon,
                                   mu_left=c.mu_ratio * np.asarray(mu))
      for row, e in zip(rows, np.atleast_1d(eps)):
        row["theory_critical_noise"] = float(e)
    entry["rows"] = rows
    rhos = np.array([r["spearman_curvature_vs_noise"] for r in rows if
                     r["spearman_curvature_vs_noise"] is not None], np.float64)
    entry["fraction_rows_increasing"] = (float(np.mean(rhos >= stats.MONOTONE_RHO))
                                         if rhos.size else None)
    out[dynamics] = entry
  return out

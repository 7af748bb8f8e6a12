"""Paper SM S6.2: chains under unbounded Gaussian noise drift towards convex (``s6_2_gaussian_drift.py``).

Reads the Gaussian sweep and its truncated-noise twin (noise over the x axis,
one friction row). Per noise level of the Gaussian chains: the seed-mean
curvature of the recorded load curves over time, the first recorded step at
which it is no longer negative after having been concave (a chain starts from
rest with a flat curve; the step is ``None`` if the curve never turns back
within the run), and the finite-horizon theory's step for it,
``1 / (1 - Phi(mu_r sqrt(dt) / eps))``: the number of draws after which a
kick beyond ``mu_r`` has been seen once (``springs.effective_friction(...,
horizon=)`` is 0 there). Per level of the truncated chains: the final
curvature's sign.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from scipy import special

from experiments.reproduction import figures
from featurespring import metrics
from featurespring import plotting
from featurespring.analysis import finished
from featurespring.analysis import fluctuations
from featurespring.analysis import stats


def theory_turn_step(mu_right, noise, dt) -> float:
  """Steps after which the finite-horizon effective friction of Gaussian noise reaches 0."""
  if noise <= 0:
    return math.inf
  return float(1.0 / special.ndtr(-mu_right * math.sqrt(dt) / noise))


def turn_step(curvature, steps):
  """The first step at which ``curvature [T]`` is >= 0 after having been < 0; None if never.

  A chain starts from rest with a flat curve (curvature 0) and turns concave
  as its blocks slide: the drift's turn is the return to 0 after that.
  """
  concave = np.flatnonzero(np.asarray(curvature) < 0)
  if not concave.size:
    return None
  turned = concave[0] + np.flatnonzero(np.asarray(curvature)[concave[0] :] >= 0)
  return int(steps[turned[0]]) if turned.size else None


def _curvature_over_time(sweep):
  trajectory = sweep.finite_cells("history/load_curve")[0]  # [X, seed, T, L+1]
  curvature = np.asarray(metrics.curvature(trajectory), np.float64)  # [X, seed, T]
  steps = np.asarray(sweep.cells("history/step")[0, 0, 0], np.int64)
  with stats.quiet():
    return np.nanmean(curvature, axis=1), np.nanstd(curvature, axis=1, ddof=1), steps


def gaussian_drift(gaussian_dir, truncated_dir) -> dict:
  """The numbers of the S6.2 claim from the two finished workdirs.

  Returns:
    ``noise`` (the levels), ``mu_right``, ``dt``, ``num_steps``, ``steps``
    (record steps), ``curvature_mean`` ``[X, T]`` (Gaussian, seed mean),
    ``levels`` (per level: ``theory_step``, ``measured_step``, final
    Gaussian curvature mean / std / sign, truncated final sign), and the
    truncated sweep's final ``truncated_sign`` string.
  """
  gauss = finished.FinishedSweep.load(gaussian_dir)
  trunc = finished.FinishedSweep.load(truncated_dir)
  noise = np.asarray(gauss.values("noise"), np.float64)
  mu_right = float(fluctuations.chain_setting(gauss, "mu"))
  dt = float(fluctuations.chain_setting(gauss, "dt"))
  mean, std, steps = _curvature_over_time(gauss)
  final = gauss.masked_cells("curvature")[0]  # [X, seed]
  f_mean, f_std, f_n = stats.cell_stats(final)
  sign = stats.sign_pattern(f_mean, f_std, f_n)
  t_final = trunc.masked_cells("curvature")[0]
  t_sign = stats.sign_pattern(*stats.cell_stats(t_final))
  levels = []
  for i, eps in enumerate(noise):
    levels.append(
        {
            "noise": float(eps),
            "theory_step": theory_turn_step(mu_right, eps, dt),
            "measured_step": turn_step(mean[i], steps),
            "final_mean": float(f_mean[i]),
            "final_std": float(f_std[i]),
            "final_sign": sign[i],
            "truncated_final_sign": t_sign[i],
        }
    )
  return {
      "noise": noise,
      "mu_right": mu_right,
      "dt": dt,
      "num_steps": int(gauss.config["springs"]["num_steps"]),
      "steps": steps,
      "curvature_mean": mean,
      "curvature_std": std,
      "levels": levels,
      "truncated_sign": "".join(t_sign),
  }


def figure(drift, path, dpi):
  """Seed-mean curvature over steps (log axis) per noise level, the theory's turn steps marked."""
  fig, axes = plotting.new_figure(1, 1, width=6.4, height=4.2)
  ax = axes[0, 0]
  colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(drift["levels"])))
  for level, mean, colour in zip(drift["levels"], drift["curvature_mean"], colours):
    ax.plot(drift["steps"], mean, color=colour, label=f"eps {level['noise']:g}")
    if level["theory_step"] <= drift["num_steps"]:
      ax.axvline(level["theory_step"], color=colour, ls=":", lw=1)
  ax.axhline(0.0, color="k", lw=0.6)
  ax.set_xscale("log")
  ax.set_xlabel("step")
  ax.set_ylabel("curvature (seed mean)")
  ax.set_title("Gaussian noise: curvature over time (dotted: finite-horizon theory's turn)")
  ax.legend(fontsize=7)
  return figures.save(fig, path, dpi)

"""Figures of the chain dynamics fitted to training trajectories (cells and a row)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from featurespring import plotting
from featurespring.bridge import _dynamics as dynamics

from experiments.bridge import dynamics_markdown


def plot_cells(path, name, mean, epochs, labels, cells, fits):
  """Each layer's separation over epochs: network (solid) and fitted chain (dashed)."""
  num_layers = mean.shape[-1]
  colours = plt.cm.viridis(np.linspace(0.0, 0.9, num_layers))
  fig, axes = plt.subplots(
      len(dynamics_markdown.MODES),
      len(cells),
      figsize=(3.8 * len(cells), 3.1 * len(dynamics_markdown.MODES)),
      squeeze=False,
  )
  for row, mode in enumerate(dynamics_markdown.MODES):
    fit, fitted = fits[mode]["fit"], fits[mode]["fitted"]
    for col, (cell, kind) in enumerate(cells):
      ax = axes[row, col]
      for layer, colour in enumerate(colours):
        ax.plot(epochs, mean[cell, :, layer], "-", color=colour, lw=1.5)
        ax.plot(epochs, fitted[cell, :, layer], "--", color=colour, lw=1.1)
      ax.set_xscale("log")
      title = kind if labels[cell] == kind else f"{kind}: {labels[cell]}"
      if bool(np.asarray(fit.valid)[cell]):
        numbers = (
            f"R²={float(fit.r2[cell]):.3f}, R²dyn={float(fit.r2_dynamic[cell]):.2f}, "
            f"s={float(fit.time_scale[cell]):.3g}"
        )
      else:
        numbers = f"no fit ({dynamics.REASONS[int(fit.reason[cell])]})"
      ax.set_title(f"{title}\n{mode} noise: {numbers}", fontsize=8)
      ax.set_xlabel("epoch", fontsize=8)
      ax.tick_params(labelsize=7)
      if col == 0:
        ax.set_ylabel("separation D_l (train)", fontsize=8)
  handles = [plt.Line2D([], [], color=c, lw=1.5) for c in colours]
  handles += [
      plt.Line2D([], [], color="k", ls="-", lw=1.5),
      plt.Line2D([], [], color="k", ls="--", lw=1.1),
  ]
  fig.legend(
      handles,
      [f"layer {l}" for l in range(num_layers)] + ["network (seed mean)", "chain from rest (fit)"],
      loc="lower center",
      ncol=num_layers + 2,
      fontsize=7,
      frameon=False,
  )
  fig.suptitle(
      f"{name}: network load curves over training vs a chain from rest at t = s·epoch", fontsize=10
  )
  fig.tight_layout(rect=(0, 0.05, 1, 0.97))
  return save(fig, path)


def plot_row(path, name, sw, fits):
  """R², R²_dynamic and the time scale per cell across the row, both noise modes."""
  x = sw.values(sw.x)
  fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.2))
  for mode, marker in zip(dynamics_markdown.MODES, ("o", "s")):
    fit = fits[mode]["fit"]
    axes[0].plot(x, np.asarray(fit.r2), marker + "-", label=mode, ms=4)
    axes[1].plot(x, np.asarray(fit.r2_dynamic), marker + "-", label=mode, ms=4)
    axes[2].semilogy(x, np.asarray(fit.time_scale), marker + "-", label=mode, ms=4)
  axes[0].axhline(dynamics_markdown.R2_MIN, color="grey", ls=":", lw=1)
  axes[1].axhline(dynamics_markdown.R2_DYNAMIC_MIN, color="grey", ls=":", lw=1)
  axes[1].axhline(0.0, color="k", lw=0.5)
  titles = ("trajectory R²", "R²_dynamic (vs best static curve)", "time scale s (chain time/epoch)")
  for ax, title in zip(axes, titles):
    ax.set_xlabel(sw.x)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
  fig.suptitle(f"{name}: chain-from-rest fit per cell (dotted: verdict thresholds)", fontsize=10)
  fig.tight_layout()
  return save(fig, path)


def save(fig, path):
  written = plotting.save_figure(fig, path, dpi=130)
  plt.close(fig)
  return written

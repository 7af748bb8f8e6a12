"""The pre-registered test's figures: peak against crossing, and each family's rows."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from featurespring import plotting
from featurespring.analysis import crossings

from experiments.central_claim import formatting

COLOURS = plt.get_cmap("tab10")


def knob_at(position, grid, log):
  if not math.isfinite(position):
    return "-"
  return formatting.g(crossings.x_at(position, np.asarray(grid.cells, np.float64), log))


def _clip_ci(ci, low, high):
  return [min(max(v, low), high) if not math.isnan(v) else math.nan for v in ci]


def figure_peak_vs_crossing(out, info, path, dpi):
  """``p`` against ``c``, one point per row, both CIs, the diagonal and the ±1-step band."""
  fig, axes = plotting.new_figure(1, 1, width=6.0, height=5.2)
  ax = axes[0, 0]
  last = max(len(f["grid"].cells) for f in out["families"].values()) - 1
  low, high = -1.0, last + 1.0
  span = np.array([low, high])
  ax.fill_between(span, span - 1, span + 1, color="0.9", label="|p - c| <= 1 step")
  ax.plot(span, span, "k-", linewidth=0.8, label="p = c")
  for k, (name, fam) in enumerate(out["families"].items()):
    colour, d = COLOURS(k % 10), info[name]
    n_cells = len(fam["grid"].cells)
    label = f"{d['label']}: {d['rows']} rows, {d['knob']} ({n_cells} cells), {d['epochs']} epochs"
    for r in fam["rows"]:
      c, p = r["c"], r["p"]
      if math.isnan(c) or math.isnan(p):
        continue
      shown_c = -0.5 if c == -math.inf else n_cells - 0.5 if c == math.inf else c
      c_ci = _clip_ci(r["c_ci"], low, high)
      p_ci = _clip_ci(r["p_ci"], low, high)
      censored = not r["uncensored"]
      marker = "<" if c == -math.inf else ">" if c == math.inf else "s" if censored else "o"
      ax.errorbar(
          shown_c,
          p,
          xerr=None if censored else [[c - c_ci[0]], [c_ci[1] - c]],
          yerr=[[p - p_ci[0]], [p_ci[1] - p]],
          fmt=marker,
          color=colour,
          markerfacecolor="none" if censored else colour,
          markersize=6,
          elinewidth=0.9,
          capsize=2,
          label=label,
      )
      label = None
  if any(not r["uncensored"] for f in out["families"].values() for r in f["rows"]):
    ax.plot(
        [], [], "o", color="0.4", markerfacecolor="none", label="censored (<, >: crossing; □: peak)"
    )
  ax.set_xlim(low, high)
  ax.set_ylim(low, high)
  ax.set_aspect("equal")
  ax.set_xlabel("crossing c (grid steps, least to most noise)")
  ax.set_ylabel("peak p of test accuracy (grid steps)")
  seeds = sorted({d["seeds"] for d in info.values()})
  datasets = sorted({d["dataset"] for d in info.values()})
  ax.set_title(
      f"Peak against crossing per row; {'; '.join(datasets)}; "
      f"{'/'.join(str(s) for s in seeds)} seeds per cell\n"
      f"bars: 95% bootstrap CIs ({out['settings']['num_boot']} shared-seed resamples)",
      fontsize=9,
  )
  ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)
  written = plotting.save_figure(fig, path, dpi=dpi)
  plt.close(fig)
  return written


def figure_rows(name, fam, d, path, dpi):
  """Per row: mean accuracy and curvature across the cells, ``p`` and ``c`` marked."""
  grid = fam["grid"]
  num_rows, num_cells = len(grid.rows), len(grid.cells)
  # A fixed layout: constrained layout of 2 x 6 panels costs seconds per figure.
  fig, axes = plt.subplots(2, num_rows, figsize=(2.7 * num_rows, 5.2), squeeze=False, sharex=True)
  fig.subplots_adjust(left=0.07, right=0.99, bottom=0.14, top=0.8, wspace=0.32, hspace=0.12)
  steps = np.arange(num_cells)
  tick_idx = np.arange(0, num_cells, max(1, int(np.ceil(num_cells / 6))))
  for r, row in enumerate(fam["rows"]):
    for ax, key in zip(axes[:, r], ("accuracy", "curvature")):
      mean, std = fam["curves"][key]["mean"][r], fam["curves"][key]["std"][r]
      ax.plot(steps, mean, "k.-", linewidth=1, markersize=4)
      ax.fill_between(steps, mean - std, mean + std, color="0.6", alpha=0.3, linewidth=0)
      if key == "curvature":
        ax.axhline(0.0, color="0.3", linewidth=0.7, linestyle=":")
      for value, ci, colour, style in (
          (row["p"], row["p_ci"], "C3", "-"),
          (row["c"], row["c_ci"], "C0", "--"),
      ):
        if math.isfinite(value):
          ax.axvline(value, color=colour, linestyle=style, linewidth=1.2)
        lo, hi = _clip_ci(ci, -0.5, num_cells - 0.5)
        if not (math.isnan(lo) or math.isnan(hi)) and hi > lo:
          ax.axvspan(lo, hi, color=colour, alpha=0.12, linewidth=0)
      if key == "curvature" and row["c_censored"]:
        left = row["c_censored"] == "left"
        ax.annotate(
            "c < 0" if left else f"c > {num_cells - 1}",
            xy=(0.03 if left else 0.97, 0.92),
            xycoords="axes fraction",
            ha="left" if left else "right",
            va="top",
            color="C0",
            fontsize=8,
        )
      ax.set_xlim(-0.5, num_cells - 0.5)
      ax.tick_params(labelsize=7)
    value = row["row"]
    p_text = f"p={formatting.position(row['p'], num_cells - 1)}" + (
        " (end)" if row["p_censored"] else ""
    )
    axes[0, r].set_title(
        f"{grid.y}={formatting.g(value)}\n{p_text}, c={formatting.position(row['c'], num_cells - 1)}",
        fontsize=8,
    )
    axes[1, r].set_xticks(
        tick_idx, [formatting.g(v, ".4g") for v in np.asarray(grid.cells)[tick_idx]], rotation=45
    )
    axes[1, r].set_xlabel(d["knob"], fontsize=8)
  axes[0, 0].set_ylabel("test accuracy (mean ± std)", fontsize=8)
  axes[1, 0].set_ylabel("curvature, train trace (mean ± std)", fontsize=8)
  fig.suptitle(
      f"{d['label']} ({name}): {grid.y} rows x {d['knob']}; {d['dataset']}, {d['epochs']} "
      f"epochs, {d['seeds']} seeds per cell\nred solid: peak p; blue dashed: crossing c; "
      "shaded: 95% bootstrap CIs",
      fontsize=9,
  )
  written = plotting.save_figure(fig, path, dpi=dpi)
  plt.close(fig)
  return written

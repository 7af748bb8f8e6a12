"""Figures of load curves and phase diagrams (matplotlib; PNG and PDF).

Every function draws into an ``Axes`` the caller owns and returns what it
drew, so figures compose (the paper's multi-panel layouts) and notebooks can
restyle them; :func:`save_figure` writes the PNG + PDF pair. Inputs are plain
arrays with grid axes in front, as the engines return them.

Non-finite values (diverged runs) never make a function fail: it draws what
is finite (means over the finite seeds), greys and hatches non-finite
phase-diagram cells, and says how many values were left out in the title or
legend.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence
import warnings

import matplotlib.colors as mcolors
import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import numpy as np

from featurespring import metrics

# Importing this module leaves matplotlib's backend alone (a notebook keeps
# its inline one); saving renders with these canvases whatever the backend.
_SAVE_BACKENDS = {".png": "agg", ".pdf": "pdf"}

CURVATURE_CMAP = "RdBu_r"  # red: convex (active), blue: concave (lazy)
NONFINITE_COLOR = "0.8"  # grey under the hatch of non-finite cells


def finite_mean(values, axis, *, with_std=False):
  """Mean (and std) over ``axis`` of the finite entries; NaN where there are none.

  ``np.nanmean`` alone keeps infinities and warns on all-NaN slices; here
  both are expected (a cell whose every run diverged) and its NaN is the
  answer.
  """
  values = np.asarray(values, np.float64)
  values = np.where(np.isfinite(values), values, np.nan)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    mean = np.nanmean(values, axis=axis)
    return (mean, np.nanstd(values, axis=axis)) if with_std else mean


def nonfinite_note(count, total, what) -> str:
  """``"3 of 16 cells non-finite"``, or "" when nothing is."""
  return f"{count} of {total} {what} non-finite" if count else ""


def append_to_title(ax, note):
  """Adds ``note`` to the axes' title (creating one if needed); no-op for ""."""
  if note:
    title = ax.get_title()
    ax.set_title(f"{title}  ({note})" if title else note, fontsize=9)


def save_figure(fig, path: str, *, dpi: int = 150) -> list[str]:
  """Writes ``path.png`` and ``path.pdf`` atomically; returns the two paths."""
  base, ext = os.path.splitext(path)
  if ext in (".png", ".pdf"):
    path = base
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  written = []
  for suffix in (".png", ".pdf"):
    final = path + suffix
    tmp = f"{path}.tmp-{os.getpid()}{suffix}"
    # No creation date in the PDF: the same figure gives the same bytes, so a
    # regenerated report changes only the files whose content changed.
    metadata = {"CreationDate": None} if suffix == ".pdf" else None
    fig.savefig(
        tmp, dpi=dpi, bbox_inches="tight", backend=_SAVE_BACKENDS[suffix], metadata=metadata
    )
    os.replace(tmp, final)
    written.append(final)
  return written


def _cell_edges(n):
  return np.arange(n + 1) - 0.5


def _tick_labels(values, max_ticks=9):
  values = np.asarray(values)
  step = max(1, int(np.ceil(len(values) / max_ticks)))
  idx = np.arange(0, len(values), step)
  return idx, [f"{v:.3g}" for v in values[idx]]


def value_to_index(values, query):
  """Maps axis values to fractional cell indices (piecewise linear).

  Phase-diagram cells are drawn at integer positions so that log-spaced or
  irregular axes (learning rates, batch sizes) get equal-width cells; curves
  in value space (the theory line) are mapped through this.
  """
  values = np.asarray(values, np.float64)
  order = np.argsort(values)
  return np.interp(query, values[order], np.arange(len(values))[order], left=np.nan, right=np.nan)


def plot_phase_diagram(
    ax,
    x_values,
    y_values,
    curvature,
    *,
    accuracy=None,
    theory_line=None,
    theory_label="theory: zero curvature",
    x_label="noise",
    y_label="nonlinearity",
    title=None,
    vmax=None,
    colorbar=True,
    annotate=False,
):
  """Curvature heatmap over (noise x, nonlinearity y), centred on zero.

  Args:
    ax: target axes.
    x_values: ``[X]`` noise-knob values (columns).
    y_values: ``[Y]`` nonlinearity / friction values (rows).
    curvature: ``[Y, X]`` mean load-curve curvature. Non-finite cells are
      grey and hatched, and the title says how many there are.
    accuracy: optional ``[Y, X]`` test accuracy: drawn as contour lines, with
      the best cell marked by a star.
    theory_line: optional ``(x, y)`` value arrays of the theory's
      zero-curvature line, drawn dashed.
    vmax: colour range ``[-vmax, vmax]``; default the largest |curvature|.

  Returns:
    The ``QuadMesh`` of the heatmap.
  """
  curvature = np.asarray(curvature, np.float64)
  x_values, y_values = np.asarray(x_values), np.asarray(y_values)
  if curvature.shape != (len(y_values), len(x_values)):
    raise ValueError(
        f"curvature must have shape [len(y_values), len(x_values)] = "
        f"{(len(y_values), len(x_values))}, got {curvature.shape}"
    )
  if vmax is None:
    finite = np.abs(curvature[np.isfinite(curvature)])
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
  norm = mcolors.TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
  cmap = plt.get_cmap(CURVATURE_CMAP).with_extremes(bad=NONFINITE_COLOR)
  mesh = ax.pcolormesh(
      _cell_edges(len(x_values)),
      _cell_edges(len(y_values)),
      np.ma.masked_invalid(curvature),
      cmap=cmap,
      norm=norm,
  )
  for i, j in zip(*np.nonzero(~np.isfinite(curvature))):
    ax.add_patch(
        mpatches.Rectangle(
            (j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xx", edgecolor="0.5", linewidth=0
        )
    )
  if annotate:
    for (i, j), c in np.ndenumerate(curvature):
      ax.text(j, i, f"{c:.2g}", ha="center", va="center", fontsize=8)
  if accuracy is not None:
    accuracy = np.asarray(accuracy, np.float64)
    xx, yy = np.meshgrid(np.arange(len(x_values)), np.arange(len(y_values)))
    if min(accuracy.shape) > 1 and np.isfinite(accuracy).sum() > 3:
      contours = ax.contour(
          xx, yy, np.ma.masked_invalid(accuracy), colors="k", linewidths=0.7, alpha=0.7, levels=6
      )
      ax.clabel(contours, fontsize=8, fmt="%.3f")
    if np.isfinite(accuracy).any():
      i, j = np.unravel_index(np.nanargmax(accuracy), accuracy.shape)
      ax.plot(
          j,
          i,
          marker="*",
          color="gold",
          markeredgecolor="k",
          markersize=14,
          label=f"best test acc. {accuracy[i, j]:.3f}",
      )
      ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
  if theory_line is not None:
    line_x, line_y = (np.asarray(v, np.float64) for v in theory_line)
    ax.plot(
        value_to_index(x_values, line_x),
        value_to_index(y_values, line_y),
        "k--",
        linewidth=1.5,
        label=theory_label,
    )
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
  xt, xl = _tick_labels(x_values)
  yt, yl = _tick_labels(y_values)
  ax.set_xticks(xt, xl, rotation=45, fontsize=8)
  ax.set_yticks(yt, yl, fontsize=8)
  ax.set_xlim(-0.5, len(x_values) - 0.5)
  ax.set_ylim(-0.5, len(y_values) - 0.5)
  ax.set_xlabel(x_label)
  ax.set_ylabel(y_label)
  if title:
    ax.set_title(title, fontsize=9)
  note = nonfinite_note(int((~np.isfinite(curvature)).sum()), curvature.size, "cells")
  append_to_title(ax, note and note + ", grey and hatched")
  if colorbar:
    cbar = ax.figure.colorbar(mesh, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("curvature  (<0 concave/lazy, >0 convex/active)", fontsize=8)
  return mesh


def plot_load_curves(
    ax,
    load_curves,
    labels: Optional[Sequence[str]] = None,
    *,
    colors=None,
    linestyle="-",
    normalize=False,
    title=None,
    ylabel="separation $D_l$",
):
  """Mean load curves with a seed band (mean +- std).

  Args:
    load_curves: ``[curves, seeds, layers]`` or ``[curves, layers]``. Seeds
      whose curve is not finite everywhere are left out of the mean, and the
      legend (or, without labels, the title) says how many.
    normalize: divide each curve by its first point (compares shapes of
      curves with different scales, e.g. chains against networks).
  """
  curves = np.asarray(load_curves, np.float64)
  if curves.ndim == 2:
    curves = curves[:, None]
  if normalize:
    with np.errstate(divide="ignore", invalid="ignore"):
      curves = curves / curves[..., :1]
  # A curve with any non-finite point (a diverged chain keeps a finite d_0)
  # is left out whole, so that every point averages the same seeds.
  finite = np.isfinite(curves).all(axis=-1)  # [curves, seeds]
  curves = np.where(finite[..., None], curves, np.nan)
  layers = np.arange(curves.shape[-1])
  mean, std = finite_mean(curves, axis=1, with_std=True)
  lines = []
  for i in range(curves.shape[0]):
    color = None if colors is None else colors[i]
    label = None if labels is None else labels[i]
    note = nonfinite_note(int((~finite[i]).sum()), finite.shape[1], "seeds")
    if label is not None and note:
      label = f"{label} ({note})"
    (line,) = ax.plot(
        layers, mean[i], linestyle, marker="o", markersize=3, color=color, label=label
    )
    if curves.shape[1] > 1:
      ax.fill_between(
          layers, mean[i] - std[i], mean[i] + std[i], color=line.get_color(), alpha=0.2, linewidth=0
      )
    lines.append(line)
  ax.set_xlabel("layer / block $l$")
  ax.set_ylabel(ylabel)
  ax.set_xticks(layers)
  if labels is not None:
    ax.legend(fontsize=8)
  if title:
    ax.set_title(title, fontsize=9)
  if labels is None:  # otherwise the legend says it per curve
    append_to_title(ax, nonfinite_note(int((~finite).sum()), finite.size, "curves"))
  return lines


def plot_load_curve_dynamics(
    ax,
    trajectory,
    times,
    *,
    num_curves=12,
    cmap="viridis",
    title=None,
    time_label="time",
    ylabel="separation $D_l$",
):
  """Load curves over time, coloured from early (dark) to late (bright).

  Args:
    trajectory: ``[T, layers]`` (or ``[seeds, T, layers]``, averaged over
      the seeds finite at each time). Non-finite snapshots are not drawn;
      the title says how many.
    times: ``[T]`` times or epochs of the snapshots; negative or non-finite
      entries are padding (a cell that ran fewer epochs than the longest
      cell of its sweep) and are dropped with their snapshots.
  """
  traj = np.asarray(trajectory, np.float64)
  if traj.ndim == 3:
    finite = np.isfinite(traj).all(axis=-1, keepdims=True)
    traj = finite_mean(np.where(finite, traj, np.nan), axis=0)
  times = np.asarray(times)
  recorded = np.isfinite(times) & (times >= 0)
  if not recorded.any():
    raise ValueError("times has no snapshot: every entry is negative or non-finite (padding)")
  traj, times = traj[recorded], times[recorded]
  picks = np.unique(np.linspace(0, len(times) - 1, min(num_curves, len(times))).round().astype(int))
  norm = mcolors.Normalize(vmin=times[picks[0]], vmax=times[picks[-1]])
  colormap = plt.get_cmap(cmap)
  layers = np.arange(traj.shape[-1])
  for t in picks:
    ax.plot(layers, traj[t], color=colormap(norm(times[t])), marker="o", markersize=2, linewidth=1)
  mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
  cbar = ax.figure.colorbar(mappable, ax=ax, fraction=0.046, pad=0.04)
  cbar.set_label(time_label, fontsize=8)
  ax.set_xlabel("layer / block $l$")
  ax.set_ylabel(ylabel)
  ax.set_xticks(layers)
  if title:
    ax.set_title(title, fontsize=9)
  shown = np.isfinite(traj[picks]).all(axis=-1)
  append_to_title(ax, nonfinite_note(int((~shown).sum()), len(picks), "snapshots"))
  return cbar


def plot_curvature_over_time(ax, trajectory, times, *, label=None, time_label="time"):
  """Curvature of the load curve against time (mean +- std over seeds).

  Each time averages the seeds finite then; the label (or the title, without
  one) says how many seeds went non-finite.
  """
  traj = np.asarray(trajectory, np.float64)
  if traj.ndim == 2:
    traj = traj[None]
  curv = np.asarray(metrics.curvature(traj))
  mean, std = finite_mean(curv, axis=0, with_std=True)
  note = nonfinite_note(int((~np.isfinite(curv).all(axis=-1)).sum()), curv.shape[0], "seeds")
  if label is not None and note:
    label = f"{label} ({note})"
  # A run evaluated once or twice (a short cell of a long sweep) is a dot, not an invisible line.
  (line,) = ax.plot(times, mean, label=label, marker="o" if np.size(times) <= 2 else None)
  if traj.shape[0] > 1:
    ax.fill_between(times, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)
  ax.axhline(0.0, color="k", linewidth=0.5)
  ax.set_xlabel(time_label)
  ax.set_ylabel("curvature")
  if label is None:
    append_to_title(ax, note)
  return line


def plot_load_curve_atlas(
    fig,
    spec,
    load_curves,
    curvature,
    *,
    x_labels,
    y_labels,
    x_label="noise",
    y_label="nonlinearity",
    reverse_x=False,
    title=None,
    vmax=None,
):
  """Every cell's load curve, in small panels laid out as the phase diagram.

  A curvature heatmap says *how much* each cell bends; this shows the bend
  itself. Each panel is one cell's seed-mean curve normalised to fall from 1
  (layer 0) to 0 (last layer), against the straight line between its ends
  (dashed), coloured by the cell's curvature on the phase diagram's scale.

  Args:
    fig: the figure; ``spec``: a ``SubplotSpec`` of it to fill.
    load_curves: ``[Y, X, layers]`` seed-mean load curves.
    curvature: ``[Y, X]`` mean curvature (colour).
    x_labels, y_labels: tick text per column / row (row 0 drawn at the bottom).
    reverse_x: draw the columns right to left (knobs whose larger value is
      less noise, so that noise grows to the right).
    vmax: colour range ``[-vmax, vmax]`` (default the largest |curvature|).

  Returns:
    The ``[Y, X]`` array of small axes (row 0 at the bottom).
  """
  curves = np.asarray(load_curves, np.float64)
  curvature = np.asarray(curvature, np.float64)
  ny, nx = curvature.shape
  if curves.shape[:2] != (ny, nx):
    raise ValueError(
        f"load_curves must have shape [{ny}, {nx}, layers] like curvature, got {curves.shape}"
    )
  if vmax is None:
    finite = np.abs(curvature[np.isfinite(curvature)])
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
  norm = mcolors.TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
  cmap = plt.get_cmap(CURVATURE_CMAP)
  with np.errstate(divide="ignore", invalid="ignore"):
    drop = curves[..., :1] - curves[..., -1:]
    shape = (curves - curves[..., -1:]) / drop
  layers = np.linspace(0.0, 1.0, curves.shape[-1])
  # A subfigure of its own, so that the axis names and the title are the
  # layout engine's super-labels: under constrained layout they are placed
  # clear of the cells' rotated column labels and right-aligned row labels.
  sub = fig.add_subfigure(spec)
  grid = sub.add_gridspec(ny, nx, wspace=0.05, hspace=0.05)
  axes = np.empty((ny, nx), object)
  for i in range(ny):
    for j in range(nx):
      col = nx - 1 - j if reverse_x else j
      ax = sub.add_subplot(grid[ny - 1 - i, col])
      axes[i, j] = ax
      ax.plot([0, 1], [1, 0], color="0.6", linewidth=0.6, linestyle="--")
      if np.isfinite(shape[i, j]).all() and np.isfinite(curvature[i, j]):
        # Pushed away from the colormap's white centre, so a near-linear
        # cell's curve stays visible.
        level = float(norm(curvature[i, j])) - 0.5
        level = 0.5 + np.copysign(max(abs(level), 0.2), level)
        ax.plot(layers, shape[i, j], color=cmap(level), linewidth=1.4)
      else:
        ax.set_facecolor(NONFINITE_COLOR)
      ax.set_xlim(-0.05, 1.05)
      ax.set_ylim(-0.15, 1.15)
      ax.set_xticks([])
      ax.set_yticks([])
      if i == 0:
        ax.set_xlabel(x_labels[j], fontsize=8, rotation=45, ha="right", rotation_mode="anchor")
      if col == 0:
        ax.set_ylabel(y_labels[i], fontsize=8, rotation=0, ha="right", va="center")
  if title:
    sub.suptitle(title, fontsize=10)
  if x_label:
    sub.supxlabel(x_label, fontsize=9)
  if y_label:
    sub.supylabel(y_label, fontsize=9)
  return axes


def new_figure(rows=1, cols=1, *, width=4.2, height=3.4, **kwargs):
  """``plt.subplots`` with a per-panel size, squeezed=False for uniform code."""
  return plt.subplots(
      rows,
      cols,
      figsize=(width * cols, height * rows),
      squeeze=False,
      constrained_layout=True,
      **kwargs,
  )

"""The reproduction report's small figures (PNG only), and copies of the sweeps' own.

Each function draws one figure from a :class:`FinishedSweep` or an analysis'
output, writes ``path`` at ``dpi`` and returns it; titles come from the
caller. The phase diagrams themselves are
:func:`featurespring.analysis.figures.phase_diagram`'s, as ``launch.plot``
draws them.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np

from featurespring import plotting
from featurespring.analysis import stats
from featurespring.analysis import figures as sweep_figures


def save(fig, path, dpi):
  """Writes ``fig`` to ``path`` (tight bounding box), closes it, returns ``path``."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=dpi, bbox_inches="tight")
  plt.close(fig)
  return path


def phase_beside_score(sweep, analysis, title, path, dpi):
  """Mean curvature (the project's phase diagram) beside the score and every cell's load curve.

  Three panels: the curvature phase diagram, the test score (best cell per
  row circled on both), and the load curve of every cell
  (:func:`featurespring.analysis.figures.load_curve_atlas`). Noise grows to
  the right on all three (a batch-size axis is drawn reversed).

  Args:
    sweep: the :class:`FinishedSweep`.
    analysis: its :func:`analyse_phase_grid` (``score``, ``rows``).
    title: what the figure shows; the sweep's data, training length and
      seeds (:meth:`FinishedSweep.describe`) are added below it.
    path, dpi: where and how finely to write it.
  """
  score = analysis["score"]
  ny, nx = len(sweep.y_values()), len(sweep.axis(sweep.x))
  atlas = max(1.4, 0.12 * nx)  # wide enough for its labels, square-ish cells
  fig = plt.figure(figsize=(4.6 * (2 + atlas), 4.4), constrained_layout=True)
  outer = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.0, atlas])
  left, right = fig.add_subplot(outer[0]), fig.add_subplot(outer[1])
  sweep_figures.phase_diagram(left, sweep)
  # Table row i (rows by value) is drawn at row row_order[i].
  row_order = sweep.row_order()
  best = [
      (row_order[i], r["best_col"])
      for i, r in enumerate(analysis["rows"])
      if r["best_col"] is not None
  ]
  for ax in (left, right):
    if best:
      ax.plot(
          [b[1] for b in best],
          [b[0] for b in best],
          "o",
          markerfacecolor="none",
          markeredgecolor="k",
          markersize=8,
          label="best per row",
      )
  left.legend(loc="upper right", fontsize=8, framealpha=0.8)
  with stats.quiet():
    values = np.nanmean(sweep.masked_cells(score), axis=2)
  mesh = right.pcolormesh(
      np.arange(nx + 1) - 0.5,
      np.arange(ny + 1) - 0.5,
      np.ma.masked_invalid(values),
      cmap="viridis" if analysis["higher_is_better"] else "viridis_r",
  )
  cbar = fig.colorbar(mesh, ax=right, fraction=0.046, pad=0.04)
  cbar.set_label(f"mean test {score}", fontsize=8)
  right.set_xticks(
      left.get_xticks(), [t.get_text() for t in left.get_xticklabels()], rotation=45, fontsize=8
  )
  right.set_yticks(left.get_yticks(), [t.get_text() for t in left.get_yticklabels()], fontsize=8)
  right.set_xlim(left.get_xlim())  # reversed too, where the left one is
  right.set_ylim(left.get_ylim())
  right.set_xlabel(left.get_xlabel())
  right.set_ylabel(left.get_ylabel())
  right.set_title(f"test {score} (circles: best per row)", fontsize=10)
  right.legend(loc="upper right", fontsize=8, framealpha=0.8)
  if "load_curve" in sweep.arrays:
    sweep_figures.load_curve_atlas(fig, outer[2], sweep)
  fig.suptitle(f"{title}\n{sweep.describe()}", fontsize=11)
  return save(fig, path, dpi)


def trace_vs_pinv(sweep, title, path, dpi):
  """Phase diagrams of one sweep by trace and by pinv curvature (paper S10)."""
  fig, axes = plotting.new_figure(1, 2, width=4.4, height=3.5)
  for ax, metric in zip(axes[0], ("curvature", "curvature_pinv")):
    sweep_figures.phase_diagram(ax, sweep, metric=metric)
    ax.set_title(metric, fontsize=9)
  fig.suptitle(title, fontsize=10)
  return save(fig, path, dpi)


def _group_mean(values, groups):
  _, inverse = np.unique(groups, return_inverse=True)
  sums = np.bincount(inverse, values)
  return (sums / np.bincount(inverse))[inverse]


def curvature_vs_accuracy(scatter, correlation, path, dpi):
  """|mean curvature| against mean test accuracy, every cell of every grid.

  Args:
    scatter: ``{grid: (curvature, accuracy, row)}`` (:func:`pooled_correlations`).
    correlation: its numbers (``pooled``, ``pooled_row_centred``) for the titles.
    path, dpi: where and how finely to write it.
  """
  fig, axes = plotting.new_figure(1, 2, width=4.2, height=3.4)
  colors = plt.get_cmap("tab10")
  for k, (name, (curv, acc, rows)) in enumerate(scatter.items()):
    c, a = stats.cell_stats(curv)[0], stats.cell_stats(acc)[0]
    ok = np.isfinite(c) & np.isfinite(a)
    x, y = np.abs(c[ok]), a[ok]
    axes[0, 0].scatter(x, y, s=9, color=colors(k % 10), label=name, alpha=0.8)
    # Row-centred: what is left after each grid row's (alpha's) own level.
    xr, yr = (v - _group_mean(v, rows[ok]) for v in (x, y))
    axes[0, 1].scatter(xr, yr, s=9, color=colors(k % 10), alpha=0.8)
  raw, centred = correlation["pooled"], correlation["pooled_row_centred"]
  axes[0, 0].set_title(
      f"cell means: Pearson {raw['pearson']:.2f}, Spearman " f"{raw['spearman']:.2f}", fontsize=8
  )
  axes[0, 1].set_title(
      f"centred per grid row: Pearson {centred['pearson']:.2f}, "
      f"Spearman {centred['spearman']:.2f}",
      fontsize=8,
  )
  axes[0, 0].set_xlabel("|mean curvature| (train, trace)")
  axes[0, 0].set_ylabel("mean test accuracy")
  axes[0, 1].set_xlabel("|curvature| - row mean")
  axes[0, 1].set_ylabel("accuracy - row mean")
  axes[0, 0].legend(fontsize=8, ncol=2)
  return save(fig, path, dpi)


def curvature_over_time(series, titles, path, dpi):
  """Curvature over time per case, one panel per sweep (mean +- seed std).

  Args:
    series: ``{name: (trajectory, times, diverged, labels)}``
      (:func:`cases.curvature_over_time`); a name with ``dnn`` counts epochs.
    titles: ``{name: panel title}``.
    path, dpi: where and how finely to write it.
  """
  fig, axes = plotting.new_figure(1, len(series), width=3.8, height=3.0)
  for ax, (name, (trajectory, times, diverged, labels)) in zip(axes[0], series.items()):
    for c, label in enumerate(labels):
      curves = trajectory[c][~diverged[c]]  # [seed, T, L+1]
      if not curves.size:
        continue
      # Only the evaluated times (NaN between with eval_every > 1).
      evaluated = np.isfinite(curves).all(axis=(0, 2))
      plotting.plot_curvature_over_time(
          ax,
          curves[:, evaluated],
          times[c, 0][evaluated],
          label=label.split(" (")[0],
          time_label="epoch" if "dnn" in name else "time",
      )
    ax.set_title(titles.get(name, name), fontsize=8)
    ax.legend(fontsize=8)
  return save(fig, path, dpi)


def final_load_curves(get, labels, path, dpi):
  """Final load curves per case, trace and pinv separation (mean +- seed std).

  ``get`` and ``labels`` as :func:`cases.final_load_curves` returns them.
  """
  fig, axes = plotting.new_figure(1, 2, width=3.8, height=3.0)
  short = [label.split(" (")[0] for label in labels]
  plotting.plot_load_curves(
      axes[0, 0], get("load_curve"), short, title="trace separation", normalize=False
  )
  plotting.plot_load_curves(
      axes[0, 1],
      get("load_curve_pinv"),
      short,
      title="pinv separation",
      ylabel="pinv separation $D'_l$",
  )
  return save(fig, path, dpi)


def one_at_a_time(cases, series, config, title, path, dpi):
  """Per varied field of a ``case`` axis: curvature against it, and its load curves.

  Top row: the seed-mean trace curvature (+- std) against the field's value,
  the other fields at the base case's (:func:`cases.one_at_a_time`), with
  the final train loss on a second axis (has the run converged?). Bottom row: those cases' final
  load curves, normalised to fall from 1 to 0, against the straight line.

  Args:
    cases: ``numbers["cases"]`` of :func:`cases.final_load_curves`.
    series: ``{field: [case, ...]}`` of :func:`cases.one_at_a_time`.
    config: the sweep's config (the case values).
    title: what is shown (dataset, epochs and seeds included by the caller).
  """
  fields = list(series)
  fig, axes = plotting.new_figure(2, len(fields), width=4.2, height=3.2)
  values = config["grid"]["case"]
  for col, field in enumerate(fields):
    top, bottom = axes[0, col], axes[1, col]
    picks = series[field]
    x = np.asarray([values[field][c] for c in picks], np.float64)
    mean = np.asarray([cases[c]["curvature"] for c in picks], np.float64)
    std = np.asarray([cases[c]["curvature_std"] for c in picks], np.float64)
    top.errorbar(x, mean, yerr=std, marker="o", capsize=3)
    top.axhline(0.0, color="k", linewidth=0.6)
    loss = np.asarray([cases[c].get("final_train_loss", np.nan) for c in picks], np.float64)
    if np.isfinite(loss).any() and np.nanmin(loss) > 0:
      twin = top.twinx()
      twin.plot(x, loss, color="0.5", linestyle="--", marker="s", markersize=3)
      twin.set_yscale("log")
      twin.set_ylabel("final train loss (grey, dashed)", fontsize=8, color="0.4")
      twin.tick_params(labelsize=8, colors="0.4")
    label = field.replace("_", " ")
    if field == "learning_rate" and np.all(x > 0):
      top.set_xscale("log")
    top.set_xlabel(label)
    top.set_ylabel("curvature (>0 convex)")
    top.set_title(f"curvature against {label}", fontsize=10)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(picks)))
    for color, xi, c in zip(colors, x, picks):
      curve = np.asarray(cases[c]["load_curve"], np.float64)
      with stats.quiet():
        shape = (curve - curve[-1]) / (curve[0] - curve[-1])
      layers = np.arange(len(curve))
      bottom.plot(layers, shape, marker="o", markersize=3, color=color, label=f"{xi:g}")
    bottom.plot([0, len(curve) - 1], [1, 0], "k--", linewidth=0.8, label="linear")
    bottom.set_xlabel("layer $l$")
    bottom.set_ylabel("normalised separation")
    bottom.set_title(f"final load curves by {label}", fontsize=10)
    bottom.legend(fontsize=7, title=label, title_fontsize=7)
  fig.suptitle(title, fontsize=11)
  return save(fig, path, dpi)


def dropout_switch(series, rates, switch, path, dpi):
  """Mean curvature and test accuracy over epochs per raised dropout rate.

  ``series``, ``rates`` and ``switch`` as :func:`before_and_after_switch` returns them.
  """
  fig, axes = plotting.new_figure(1, 2, width=3.8, height=3.0)
  for ax, key in zip(axes[0], ("curvature", "accuracy")):
    for r, rate in enumerate(rates):
      values = series[key][r]
      ok = np.isfinite(values)
      ax.plot(
          np.flatnonzero(ok) + 1,
          values[ok],
          marker="o",
          markersize=2,
          label=f"rate after switch {rate:g}",
      )
    ax.axvline(switch, color="k", linestyle=":", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("curvature (train, trace)" if key == "curvature" else "test accuracy")
    ax.legend(fontsize=8)
  return save(fig, path, dpi)


def row_load_curves(analysis, title, path, dpi):
  """The chosen cells' load curves: first kind solid, second dashed, seed bands.

  ``analysis`` as :func:`phase.row_load_curves` returns it.
  """
  fig, axes = plotting.new_figure(1, 1, width=4.6, height=3.4)
  ax = axes[0, 0]
  (first, _), (second, _) = analysis["pairs"]
  colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(analysis["cells"])))
  for colour, cell in zip(colours, analysis["cells"]):
    for key, style in ((first, "-"), (second, "--")):
      mean, std = np.asarray(cell[key]), np.asarray(cell[key + "_std"])
      layers = np.arange(len(mean))
      ax.plot(
          layers,
          mean,
          style,
          color=colour,
          marker=".",
          label=f"{analysis['x']}={cell[analysis['x']]:g}" if style == "-" else None,
      )
      ax.fill_between(layers, mean - std, mean + std, color=colour, alpha=0.15)
  ax.set_xlabel("layer $l$")
  ax.set_ylabel("separation")
  ax.set_title(
      f"{title}\nalpha={analysis['alpha']:g}; solid: {first}, dashed: {second}", fontsize=8
  )
  ax.legend(fontsize=8)
  return save(fig, path, dpi)


# Copied figures wider than this (pixels) are scaled down: the sweeps draw
# them full size, the doc shows them at page width.
COPY_MAX_WIDTH = 1300


def copy_figure(source, target):
  """Copies a PNG drawn by a sweep, scaled down to :data:`COPY_MAX_WIDTH` if wider.

  Re-encoded with a 256-colour palette: line plots lose nothing visible and
  the files shrink several times, which keeps the report within its budget.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top  (matplotlib's own dependency)

  with Image.open(source) as image:
    image = image.convert("RGB")
    if image.width > COPY_MAX_WIDTH:
      height = round(image.height * COPY_MAX_WIDTH / image.width)
      image = image.resize((COPY_MAX_WIDTH, height), Image.LANCZOS)
    image.quantize(colors=256).save(target, optimize=True)

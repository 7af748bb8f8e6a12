"""The figures of a finished sweep (drawn with ``featurespring.plotting``).

Each helper takes a :class:`featurespring.analysis.FinishedSweep` (a merged
result as ``[Y, X, seed, ...]`` cells, axes from ``config.plot``), averages
over seeds and draws with the plotting module:

- :func:`phase_diagram`: mean curvature, accuracy contours and best cell
  (networks), the theory's zero-curvature line (first-order chains);
- :func:`load_curves`: the lazy / linear / active cells of the most
  nonlinear row, mean +- seed spread; training (solid) and test (dashed)
  load curves for networks, the closed-form theory dashed for first-order
  chains;
- :func:`dynamics`: load curves over epochs or time for those cells;
- :func:`curvature_over_time`: their curvature over epochs or time;
- :func:`dnn_beside_chain`: networks (left) beside chains (right), one row
  per corner cell;
- :func:`settings_side_by_side`: for an x axis that switches a setting (a
  bool field: ``synchronous``), each setting's dynamics and fluctuations and
  the final load curves of all of them together;
- :func:`curvature_by_row`: for a y axis of a few curves (``mu_left``),
  curvature against x with a line per row, and every row's load curves at
  the first and last x.

Nonlinearity is drawn upwards: a ``alpha`` axis (LeakyReLU slope) is shown as
``1 - alpha``.

Diverged runs (``diverged``, or any non-finite value) are left out of every
mean; figures draw what is finite and their titles say how many runs or
cells are not.
"""

from __future__ import annotations

import os

import numpy as np

from featurespring import plotting
from featurespring.analysis import chains
from featurespring.analysis import finished
from featurespring.analysis import fluctuations

_CORNERS = ("lazy", "linear", "active")
# y axes swept at a few values to compare whole curves rather than to span a
# phase diagram: curvature_by_row draws them (leftward friction only).
_CURVE_ROWS = ("mu_left",)
_LABELS = {
    "noise": "noise",
    "learning_rate": "learning rate",
    "dropout": "dropout rate",
    "batch_size": "batch size",
    "num_epochs": "epochs",
    "dropout_switch_rate": "dropout rate after the switch",
    "mu": r"friction $\mu_r$",
    "mu_left": r"leftward friction $\mu_l$",
    "alpha": r"nonlinearity $1-\alpha$",
}


def _system(sweep):
  """What the sweep runs, for titles: ``dnn``, or the chains and their dynamics."""
  if sweep.engine == "springs":
    return f"{sweep.config['springs']['dynamics'].replace('_', '-')} chains"
  return sweep.engine


def _mu_left(sweep):
  """The chains' fixed ``mu_left``, or None where it is unset or swept.

  Results merged before ``ChainRun.mu_left`` existed lack the key: unset.
  """
  if "mu_left" in sweep.names:
    return None
  return sweep.config["springs"].get("mu_left")


def _y_label(sweep):
  """The y axis; friction also names the other one: ``mu_l`` when it or its
  ratio is fixed, ``mu_r`` on a ``mu_left`` axis."""
  label = _LABELS.get(sweep.y, sweep.y)
  if sweep.engine != "springs":
    return label
  c = sweep.config["springs"]
  if sweep.y == "mu" and _mu_left(sweep) is not None:
    label += f" ($\\mu_l = {_mu_left(sweep):.3g}$)"
  elif sweep.y == "mu" and "mu_ratio" not in sweep.names and "mu_left" not in sweep.names:
    label += f" ($\\mu_l = {c['mu_ratio']:.3g}\\mu_r$)"
  elif sweep.y == "mu_left" and "mu" not in sweep.names:
    label += f" ($\\mu_r = {c['mu']:.3g}$)"
  return label


def _theory_line_applies(sweep):
  """Whether the zero-curvature line fits the diagram: first-order chains over
  (noise, mu) with ``mu_l = mu_ratio * mu`` (``chains.critical_noise`` assumes it)."""
  return (
      chains.theory_applies(sweep)
      and (sweep.x, sweep.y) == ("noise", "mu")
      and "mu_left" not in sweep.names
      and sweep.config["springs"].get("mu_left") is None
  )


def phase_diagram(ax, sweep: finished.FinishedSweep, metric=None):
  """The sweep's phase diagram into ``ax``."""
  metric = metric or sweep.config["plot"]["metric"]
  runs = sweep.finite_cells(metric)  # [Y, X, seed]
  curvature = plotting.finite_mean(runs, axis=2)
  accuracy = (
      plotting.finite_mean(sweep.finite_cells("accuracy"), axis=2)
      if "accuracy" in sweep.arrays
      else None
  )
  unit = "nets" if sweep.engine == "dnn" else "chains"
  left_out = plotting.nonfinite_note(int(np.isnan(runs).sum()), runs.size, unit)
  theory = None
  if _theory_line_applies(sweep):
    mu = np.linspace(sweep.y_values().min(), sweep.y_values().max(), 200)
    theory = (chains.critical_noise(sweep, mu), mu)
  mesh = plotting.plot_phase_diagram(
      ax,
      sweep.axis(sweep.x),
      sweep.y_values(),
      curvature,
      accuracy=accuracy,
      theory_line=theory,
      x_label=x_label(sweep),
      y_label=_y_label(sweep),
      title=f"{_system(sweep)}: mean {metric.replace('_', ' ')}"
      + (f" ({left_out}, left out)" if left_out else ""),
  )
  labels = _zipped_column_labels(sweep)
  if labels:
    ax.set_xticks(range(len(labels)), labels, rotation=45, fontsize=8)
  if sweep.noise_falls_along_x():
    ax.invert_xaxis()
  return mesh


def _zipped_column_labels(sweep):
  """Tick labels of a zipped x axis (its fields' values per column); None for a plain one."""
  zipped = sweep.x_zipped()
  if not zipped:
    return None
  values = list(zipped.values())
  return ["/".join(f"{v[j]:.4g}" for v in values) for j in range(len(values[0]))]


def x_label(sweep):
  """The x axis's label; a knob drawn reversed says so (noise grows to the right)."""
  zipped = sweep.x_zipped()
  if zipped:  # named by the fields each column sets
    label = " / ".join(_LABELS.get(f, f) for f in zipped)
  else:
    label = _LABELS.get(sweep.x, sweep.x)
  return label + " (reversed: noise grows to the right)" if sweep.noise_falls_along_x() else label


def load_curve_atlas(fig, spec, sweep: finished.FinishedSweep, metric=None):
  """Every cell's seed-mean load curve beside (or instead of) the phase diagram.

  See :func:`featurespring.plotting.plot_load_curve_atlas`; the colour is
  the phase diagram's metric (``config.plot.metric``).
  """
  metric = metric or sweep.config["plot"]["metric"]
  curves = plotting.finite_mean(sweep.finite_cells("load_curve"), axis=2)
  curvature = plotting.finite_mean(sweep.finite_cells(metric), axis=2)
  return plotting.plot_load_curve_atlas(
      fig,
      spec,
      curves,
      curvature,
      x_labels=_zipped_column_labels(sweep) or [f"{v:.3g}" for v in sweep.axis(sweep.x)],
      y_labels=[f"{v:.3g}" for v in sweep.y_values()],
      x_label=x_label(sweep),
      y_label=_y_label(sweep),
      reverse_x=sweep.noise_falls_along_x(),
      title="load curve per cell (normalised; dashed: linear)",
  )


def _cell_label(sweep, name, cell):
  _, col = cell
  zipped = sweep.x_zipped()
  if zipped:  # the fields a zipped column sets, not its index
    setting = ", ".join(f"{f}={v[col]:.3g}" for f, v in zipped.items())
  else:
    setting = f"{sweep.x}={sweep.axis(sweep.x)[col]:.3g}"
  return f"{name}: {setting}"


def _distinct_corners(sweep):
  """The corner cells and their names, each cell once.

  A row whose curvature does not cross zero has its linear cell at an end
  (a noiseless chain with leftward friction only is linear already); that cell is
  drawn once, named linear, what it is measured to be.
  """
  corners = list(zip(_CORNERS, sweep.corner_cells()))
  linear = corners[1][1]
  named = {}
  for name, cell in corners:
    named[cell] = "linear" if cell == linear else name
  return list(named), list(named.values())


def load_curves(ax, sweep: finished.FinishedSweep):
  """Load curves of the corner cells, with their mean curvature.

  Dashed: the test set's curves (networks), or the closed-form theory
  (first-order chains, for which it is derived).
  """
  cells, names = _distinct_corners(sweep)
  curves = sweep.finite_cells("load_curve")
  curvature = plotting.finite_mean(sweep.finite_cells("curvature"), axis=2)
  ylabel = "separation $D_l$" if sweep.engine == "dnn" else "distance to target $d_l$"
  dashed = next((k for k in ("load_curve_test", "theory/load_curve") if k in sweep.arrays), None)
  if dashed == "theory/load_curve" and not chains.theory_applies(sweep):
    dashed = None
  lines = plotting.plot_load_curves(
      ax,
      np.stack([curves[c] for c in cells]),
      [f"{_cell_label(sweep, n, c)}, curv={curvature[c]:+.3f}" for n, c in zip(names, cells)],
      ylabel=ylabel,
      title=f"{_system(sweep)}, {_LABELS.get(sweep.y, sweep.y)} = "
      f"{sweep.y_values()[cells[0][0]]:.3g}"
      + {
          "load_curve_test": "  (solid: train, dashed: test)",
          "theory/load_curve": "  (dashed: theory)",
          None: "",
      }[dashed],
  )
  if dashed:
    # The theory holds whether or not a chain diverged; test curves do not.
    curves = (sweep.finite_cells if dashed == "load_curve_test" else sweep.cells)(dashed)
    plotting.plot_load_curves(
        ax,
        np.stack([curves[c] for c in cells]),
        colors=[line.get_color() for line in lines],
        linestyle="--",
        ylabel=ylabel,
    )
  return lines


def transient(trajectory, tolerance=0.01):
  """Snapshots up to twice the time the curve needs to come within
  ``tolerance`` of its final change: chains settle long before a run ends,
  and evenly spaced snapshots of the whole run would all look final."""
  trajectory = np.asarray(trajectory, np.float64)
  if not np.isfinite(trajectory).all():  # no final state to settle to: show all
    return slice(0, len(trajectory))
  distance = np.max(np.abs(trajectory - trajectory[-1]), axis=-1)
  settled = np.flatnonzero(distance <= tolerance * max(distance[0], 1e-12))
  end = len(trajectory) if settled.size == 0 else min(len(trajectory), 2 * settled[0] + 2)
  return slice(0, max(end, 2))


def _time_label(sweep):
  return "epoch" if sweep.engine == "dnn" else "time (step x dt)"


def dynamics(axes, sweep: finished.FinishedSweep):
  """Load-curve dynamics of the corner cells, one panel each.

  Shows the first seed whose run stayed finite (the first seed if none did;
  the title says which).
  """
  trajectory, times = sweep.finite_cells("history/load_curve"), sweep.snapshot_times()
  for ax, name, cell in zip(axes, _CORNERS, sweep.corner_cells()):
    # Networks record every eval_every epochs and a cell that ran fewer epochs
    # than the sweep's longest is padded: only recorded snapshots count. A
    # diverged run is all NaN here (finite_cells), so it is never chosen.
    recorded = np.isfinite(trajectory[cell]).all(axis=-1)  # [seed, T]
    finite = np.flatnonzero(recorded.any(axis=-1))
    seed = int(finite[0]) if finite.size else 0
    keep = recorded[seed] if finite.size else np.ones(recorded.shape[-1], bool)
    snapshots, snapshot_times = trajectory[cell][seed][keep], times[cell][seed][keep]
    window = transient(snapshots)
    note = (
        ""
        if seed == 0 and finite.size
        else f"seed {seed}, seeds before it non-finite"
        if finite.size
        else "every seed non-finite"
    )
    plotting.plot_load_curve_dynamics(
        ax,
        snapshots[window],
        snapshot_times[window],
        time_label=_time_label(sweep),
        title=f"{_system(sweep)}, {_cell_label(sweep, name, cell)}"
        + (f" ({note})" if note else ""),
        ylabel="separation $D_l$" if sweep.engine == "dnn" else "distance to target $d_l$",
    )


def curvature_over_time(ax, sweep: finished.FinishedSweep):
  """Curvature of the corner cells' load curves over time, mean +- seed std."""
  trajectory, times = sweep.finite_cells("history/load_curve"), sweep.snapshot_times()
  for name, cell in zip(_CORNERS, sweep.corner_cells()):
    # Only evaluated times: networks record their load curves every eval_every epochs.
    evaluated = np.isfinite(trajectory[cell]).all(axis=-1).any(axis=0)
    plotting.plot_curvature_over_time(
        ax,
        trajectory[cell][:, evaluated],
        times[cell][0][evaluated],
        label=name,
        time_label=_time_label(sweep),
    )
  ax.legend(fontsize=8)
  ax.set_title(f"{_system(sweep)}: curvature over time (mean +- std)", fontsize=9)


def is_switch(sweep: finished.FinishedSweep) -> bool:
  """Whether the x axis switches a setting (a bool field such as ``synchronous``).

  Such an axis has no lazy / linear / active ends: figures show each
  setting instead (:func:`settings_side_by_side`).
  """
  return sweep.values(sweep.x).dtype == bool


def _setting_label(sweep, col):
  value = sweep.values(sweep.x)[col]
  if sweep.x == "synchronous":
    return "synchronous noise" if value else "independent noise"
  return f"{sweep.x}={value}"


def _fluctuations(ax, trajectory, times, title):
  """Each block's ``d_l(t)`` minus its mean over the stationary half."""
  traj, times = fluctuations.stationary_half(trajectory)[:, 1:], fluctuations.stationary_half(
      np.asarray(times)[:, None]
  )
  for block in range(traj.shape[-1]):
    ax.plot(
        times[:, 0],
        traj[:, block] - np.nanmean(traj[:, block]),
        linewidth=0.8,
        label=f"$l={block + 1}$",
    )
  ax.axhline(0.0, color="k", linewidth=0.5)
  ax.set_xlabel("time (step x dt)")
  ax.set_ylabel(r"$d_l(t) - \langle d_l \rangle$")
  ax.set_title(title, fontsize=9)
  ax.legend(fontsize=8, ncol=2)


def _final_curves(ax, sweep, row=0):
  """The seed-mean final load curves of every setting together, theory dashed."""
  curves = sweep.finite_cells("load_curve")[row]  # [X, seed, layers]
  curvature = plotting.finite_mean(sweep.finite_cells("curvature"), axis=2)[row]
  theory = "theory/load_curve" in sweep.arrays and chains.theory_applies(sweep)
  lines = plotting.plot_load_curves(
      ax,
      curves,
      [
          f"{_setting_label(sweep, col)}, curv={curvature[col]:+.3f}"
          for col in range(curves.shape[0])
      ],
      ylabel="distance to target $d_l$",
      title=f"{_system(sweep)}: final load curves (mean +- seed std)"
      + ("\n(dashed: theory)" if theory else ""),
  )
  if theory:
    plotting.plot_load_curves(
        ax,
        sweep.cells("theory/load_curve")[row, :, 0],
        colors=[line.get_color() for line in lines],
        linestyle="--",
        ylabel="distance to target $d_l$",
    )


def settings_side_by_side(sweep: finished.FinishedSweep):
  """One column per setting of a switch x axis (e.g. ``synchronous``), first y row.

  Per setting, the load-curve dynamics of its first finite seed (top) and
  that seed's fluctuations in the stationary half of the run, titled with
  the across-block increment correlation averaged over the seeds (bottom,
  same scale for every setting). Last column: the final load curves of all
  settings together, and their curvature over time (mean +- seed std).
  Without recorded trajectories, only the final load curves.
  """
  if "history/load_curve" not in sweep.arrays:
    fig, axes = plotting.new_figure(width=5.0, height=3.6)
    _final_curves(axes[0, 0], sweep)
    return fig
  row, num = 0, len(sweep.values(sweep.x))
  trajectory, times = sweep.finite_cells("history/load_curve"), sweep.snapshot_times()
  fig, axes = plotting.new_figure(2, num + 1, width=4.2, height=3.2)
  for col in range(num):
    label, traj = _setting_label(sweep, col), trajectory[row, col]  # [seed, T, layers]
    finite = np.flatnonzero(np.isfinite(traj).all(axis=(-2, -1)))
    seed = int(finite[0]) if finite.size else 0
    window = transient(traj[seed])
    plotting.plot_load_curve_dynamics(
        axes[0, col],
        traj[seed][window],
        times[row, col][seed][window],
        time_label=_time_label(sweep),
        title=f"{_system(sweep)}, {label} (seed {seed})",
        ylabel="distance to target $d_l$",
    )
    correlation = plotting.finite_mean(fluctuations.increment_correlation(traj), axis=0)
    _fluctuations(
        axes[1, col],
        traj[seed],
        times[row, col][seed],
        f"{label}: fluctuations (seed {seed})\nincrement correlation across blocks "
        f"{correlation:.2f}",
    )
  low = min(ax.get_ylim()[0] for ax in axes[1, :num])
  high = max(ax.get_ylim()[1] for ax in axes[1, :num])
  for ax in axes[1, :num]:
    ax.set_ylim(low, high)
  _final_curves(axes[0, num], sweep, row)
  for col in range(num):
    plotting.plot_curvature_over_time(
        axes[1, num],
        trajectory[row, col],
        times[row, col][0],
        label=_setting_label(sweep, col),
        time_label=_time_label(sweep),
    )
  axes[1, num].legend(fontsize=8)
  axes[1, num].set_title(f"{_system(sweep)}: curvature over time (mean +- std)", fontsize=9)
  return fig


def curvature_by_row(sweep: finished.FinishedSweep):
  """A line per y row; curvature against x, load curves at both x ends.

  Left: mean curvature (+- seed std) against x, one line per row (dashed:
  the first-order theory). Middle and right: every row's mean load curve
  at the first and the last x (dashed: theory).
  """
  fig, axes = plotting.new_figure(1, 3, width=4.4, height=3.4)
  x, rows = sweep.axis(sweep.x), sweep.y_values()
  mean, std = plotting.finite_mean(sweep.finite_cells("curvature"), axis=2, with_std=True)
  theory = "theory/curvature" in sweep.arrays and chains.theory_applies(sweep)
  labels = [f"{_LABELS.get(sweep.y, sweep.y)} = {value:.3g}" for value in rows]
  ax = axes[0, 0]
  for i, label in enumerate(labels):
    line = ax.errorbar(x, mean[i], yerr=std[i], marker="o", markersize=3, capsize=2, label=label)
    if theory:
      ax.plot(x, sweep.cells("theory/curvature")[i, :, 0], "--", color=line[0].get_color())
  ax.axhline(0.0, color="k", linewidth=0.5)
  ax.set_xlabel(_LABELS.get(sweep.x, sweep.x))
  ax.set_ylabel("curvature  (>0 convex/active)")
  ax.legend(fontsize=8)
  ax.set_title(
      f"{_system(sweep)}: mean curvature (+- seed std)" + ("\n(dashed: theory)" if theory else ""),
      fontsize=9,
  )
  curves = sweep.finite_cells("load_curve")
  for ax, col in ((axes[0, 1], 0), (axes[0, 2], len(x) - 1)):
    lines = plotting.plot_load_curves(
        ax,
        curves[:, col],
        [f"{label}, curv={mean[i, col]:+.3f}" for i, label in enumerate(labels)],
        ylabel="distance to target $d_l$",
        title=f"{_system(sweep)}, {_LABELS.get(sweep.x, sweep.x)} = {x[col]:.3g}"
        + ("  (dashed: theory)" if theory else ""),
    )
    if theory:
      plotting.plot_load_curves(
          ax,
          sweep.cells("theory/load_curve")[:, col, 0],
          colors=[line.get_color() for line in lines],
          linestyle="--",
          ylabel="distance to target $d_l$",
      )
  fig.suptitle(_y_label(sweep), fontsize=9)
  return fig


def dnn_beside_chain(dnn: finished.FinishedSweep, chain: finished.FinishedSweep):
  """Rows lazy / linear / active; networks left, chains right."""
  fig, axes = plotting.new_figure(3, 2, width=3.8, height=2.8)
  dynamics(axes[:, 0], dnn)
  dynamics(axes[:, 1], chain)
  return fig


def make_figures(workdir, outdir=None, beside=None, x=None, y=None, dpi=150) -> list[str]:
  """Every figure of the sweep in ``workdir`` (PNG + PDF); returns the paths.

  Args:
    workdir: a merged sweep.
    outdir: where figures go (default ``<workdir>/figures``).
    beside: a second merged sweep of the other engine, drawn beside this
      one (:func:`dnn_beside_chain`).
    x, y: phase-diagram axes (default ``config.plot``).
    dpi: resolution of the PNGs.
  """
  outdir = outdir or os.path.join(workdir, "figures")
  sweep = finished.FinishedSweep.load(workdir, x, y)
  written = []
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  fig, axes = plotting.new_figure(width=5.0, height=4.0)
  phase_diagram(axes[0, 0], sweep)
  fig.suptitle(sweep.describe(), fontsize=9)
  written += plotting.save_figure(fig, os.path.join(outdir, "phase_diagram"), dpi=dpi)
  if "load_curve" in sweep.arrays:
    fig = plt.figure(
        figsize=(2.0 + 0.6 * len(sweep.axis(sweep.x)), 1.8 + 0.6 * len(sweep.y_values())),
        layout="constrained",
    )
    load_curve_atlas(fig, fig.add_gridspec(1, 1)[0], sweep)
    fig.suptitle(sweep.describe(), fontsize=9)
    written += plotting.save_figure(fig, os.path.join(outdir, "load_curve_atlas"), dpi=dpi)
  if is_switch(sweep):
    # No lazy / linear / active ends to pick: every setting, side by side.
    written += plotting.save_figure(
        settings_side_by_side(sweep), os.path.join(outdir, "side_by_side"), dpi=dpi
    )
  else:
    fig, axes = plotting.new_figure(width=5.0, height=3.6)
    load_curves(axes[0, 0], sweep)
    written += plotting.save_figure(fig, os.path.join(outdir, "load_curves"), dpi=dpi)
  if sweep.y in _CURVE_ROWS:
    written += plotting.save_figure(
        curvature_by_row(sweep), os.path.join(outdir, "curvature_by_row"), dpi=dpi
    )
  if "history/load_curve" in sweep.arrays and not is_switch(sweep):
    fig, axes = plotting.new_figure(1, 4, width=3.6, height=3.0)
    dynamics(axes[0, :3], sweep)
    curvature_over_time(axes[0, 3], sweep)
    written += plotting.save_figure(fig, os.path.join(outdir, "dynamics"), dpi=dpi)
  if beside:
    other = finished.FinishedSweep.load(beside)
    dnn, chain = (sweep, other) if sweep.engine == "dnn" else (other, sweep)
    written += plotting.save_figure(
        dnn_beside_chain(dnn, chain), os.path.join(outdir, "dnn_beside_chain"), dpi=dpi
    )
  plt.close("all")
  return written

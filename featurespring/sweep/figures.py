"""Paper figures from a merged sweep result (uses ``featurespring.plotting``).

Each helper takes a :class:`featurespring.analysis.FinishedSweep` (a merged
result as ``[Y, X, seed, ...]`` cells, axes from ``config.plot``), averages
over seeds and draws with the plotting module:

- :func:`phase_diagram`: mean curvature, accuracy contours and best cell
  (networks), the theory's zero-curvature line (first-order chains);
- :func:`load_curves`: the lazy / linear / active cells of the most
  nonlinear row, mean +- seed spread; training (solid) and test (dashed)
  load curves for networks (paper S4), the closed-form theory dashed for
  first-order chains (paper Fig. 3's corners);
- :func:`dynamics`: load curves over epochs or time for those cells;
- :func:`curvature_over_time`: their curvature over epochs or time;
- :func:`dnn_beside_chain`: paper Fig. 4, networks (left) beside chains (right).

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

_CORNERS = ("lazy", "linear", "active")
_LABELS = {
    "noise": "noise",
    "learning_rate": "learning rate",
    "dropout": "dropout rate",
    "batch_size": "batch size",
    "dropout_switch_rate": "dropout rate after the switch",
    "mu": r"friction $\mu_r$",
    "alpha": r"nonlinearity $1-\alpha$",
}


def _system(sweep):
  """What the sweep runs, for titles: ``dnn``, or the chains and their dynamics."""
  if sweep.engine == "springs":
    return f"{sweep.config['springs']['dynamics'].replace('_', '-')} chains"
  return sweep.engine


def _y_label(sweep):
  """The y axis; friction also names ``mu_l`` when its ratio is fixed (paper Fig. 3)."""
  label = _LABELS.get(sweep.y, sweep.y)
  if sweep.engine == "springs" and sweep.y == "mu" and "mu_ratio" not in sweep.names:
    label += f" ($\\mu_l = {sweep.config['springs']['mu_ratio']:.3g}\\mu_r$)"
  return label


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
  if chains.theory_applies(sweep) and (sweep.x, sweep.y) == ("noise", "mu"):
    mu = np.linspace(sweep.y_values().min(), sweep.y_values().max(), 200)
    theory = (chains.critical_noise(sweep, mu), mu)
  return plotting.plot_phase_diagram(
      ax,
      sweep.axis(sweep.x),
      sweep.y_values(),
      curvature,
      accuracy=accuracy,
      theory_line=theory,
      x_label=_LABELS.get(sweep.x, sweep.x),
      y_label=_y_label(sweep),
      title=f"{_system(sweep)}: mean {metric.replace('_', ' ')}"
      + (f" ({left_out}, left out)" if left_out else ""),
  )


def _cell_label(sweep, name, cell):
  row, col = cell
  return f"{name}: {sweep.x}={sweep.axis(sweep.x)[col]:.3g}"


def load_curves(ax, sweep: finished.FinishedSweep):
  """Load curves of the corner cells, with their mean curvature.

  Dashed: the test set's curves (networks), or the closed-form theory
  (first-order chains, for which it is derived).
  """
  cells = sweep.corner_cells()
  curves = sweep.finite_cells("load_curve")
  curvature = plotting.finite_mean(sweep.finite_cells("curvature"), axis=2)
  ylabel = "separation $D_l$" if sweep.engine == "dnn" else "distance to target $d_l$"
  dashed = next((k for k in ("load_curve_test", "theory/load_curve") if k in sweep.arrays), None)
  if dashed == "theory/load_curve" and not chains.theory_applies(sweep):
    dashed = None
  lines = plotting.plot_load_curves(
      ax,
      np.stack([curves[c] for c in cells]),
      [f"{_cell_label(sweep, n, c)}, curv={curvature[c]:+.3f}" for n, c in zip(_CORNERS, cells)],
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
  trajectory, times = sweep.finite_cells("trajectory"), sweep.cells("trajectory_time")
  for ax, name, cell in zip(axes, _CORNERS, sweep.corner_cells()):
    finite = np.flatnonzero(np.isfinite(trajectory[cell]).all(axis=(-2, -1)))
    seed = int(finite[0]) if finite.size else 0
    window = transient(trajectory[cell][seed])
    note = (
        ""
        if seed == 0 and finite.size
        else f"seed {seed}, seeds before it non-finite"
        if finite.size
        else "every seed non-finite"
    )
    plotting.plot_load_curve_dynamics(
        ax,
        trajectory[cell][seed][window],
        times[cell][seed][window],
        time_label=_time_label(sweep),
        title=f"{_system(sweep)}, {_cell_label(sweep, name, cell)}"
        + (f" ({note})" if note else ""),
        ylabel="separation $D_l$" if sweep.engine == "dnn" else "distance to target $d_l$",
    )


def curvature_over_time(ax, sweep: finished.FinishedSweep):
  """Curvature of the corner cells' load curves over time, mean +- seed std."""
  trajectory, times = sweep.finite_cells("trajectory"), sweep.cells("trajectory_time")
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
  ax.legend(fontsize=7)
  ax.set_title(f"{_system(sweep)}: curvature over time (mean +- std)", fontsize=9)


def dnn_beside_chain(dnn: finished.FinishedSweep, chain: finished.FinishedSweep):
  """Paper Fig. 4: rows lazy / linear / active; networks left, chains right."""
  fig, axes = plotting.new_figure(3, 2, width=3.8, height=2.8)
  dynamics(axes[:, 0], dnn)
  dynamics(axes[:, 1], chain)
  return fig


def make_figures(workdir, outdir=None, beside=None, x=None, y=None, dpi=150) -> list[str]:
  """Every figure of the sweep in ``workdir`` (PNG + PDF); returns the paths.

  Args:
    workdir: a merged sweep.
    outdir: where figures go (default ``<workdir>/figures``).
    beside: a second merged sweep of the other engine for the Fig. 4 layout.
    x, y: phase-diagram axes (default ``config.plot``).
    dpi: resolution of the PNGs.
  """
  outdir = outdir or os.path.join(workdir, "figures")
  sweep = finished.FinishedSweep.load(workdir, x, y)
  written = []
  fig, axes = plotting.new_figure(width=5.0, height=4.0)
  phase_diagram(axes[0, 0], sweep)
  written += plotting.save_figure(fig, os.path.join(outdir, "phase_diagram"), dpi=dpi)
  fig, axes = plotting.new_figure(width=5.0, height=3.6)
  load_curves(axes[0, 0], sweep)
  written += plotting.save_figure(fig, os.path.join(outdir, "load_curves"), dpi=dpi)
  if "trajectory" in sweep.arrays:
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
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  plt.close("all")
  return written

"""Plotting functions write real figures; the springs experiment runs end to end."""

import os

import numpy as np
import pytest

from featurespring import plotting


def test_phase_diagram_with_theory_line_and_accuracy(tmp_path):
  x = np.linspace(0, 0.01, 6)
  y = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
  curvature = np.subtract.outer(y, 50 * x)  # changes sign across the grid
  accuracy = 0.9 - np.abs(curvature) / 10
  fig, axes = plotting.new_figure()
  mesh = plotting.plot_phase_diagram(
      axes[0, 0], x, y, curvature, accuracy=accuracy, theory_line=(x, 50 * x)
  )
  norm = mesh.norm
  assert norm.vcenter == 0.0 and norm.vmin == -norm.vmax  # centred diverging map
  paths = plotting.save_figure(fig, str(tmp_path / "phase"))
  assert [os.path.basename(p) for p in paths] == ["phase.png", "phase.pdf"]
  assert all(os.path.getsize(p) > 1000 for p in paths)
  assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_value_to_index_handles_log_spaced_axes():
  lrs = np.array([1e-4, 1e-3, 1e-2])
  np.testing.assert_allclose(plotting.value_to_index(lrs, [1e-4, 1e-2]), [0.0, 2.0])
  assert np.isnan(plotting.value_to_index(lrs, 1.0))


def test_load_curves_and_dynamics(tmp_path):
  rng = np.random.default_rng(0)
  curves = np.cumsum(-rng.random((3, 4, 8)), axis=-1)
  trajectory = np.cumsum(-rng.random((20, 8)), axis=-1)
  fig, axes = plotting.new_figure(1, 3)
  lines = plotting.plot_load_curves(axes[0, 0], curves, ["a", "b", "c"])
  assert len(lines) == 3
  plotting.plot_load_curve_dynamics(axes[0, 1], trajectory, np.arange(20))
  plotting.plot_curvature_over_time(axes[0, 2], trajectory[None], np.arange(20))
  assert all(os.path.getsize(p) > 1000 for p in plotting.save_figure(fig, str(tmp_path / "c.png")))


def test_dynamics_drops_padded_snapshots():
  # A cell that ran 4 of its sweep's 10 epochs: times padded with -1, curves with NaN.
  rng = np.random.default_rng(1)
  trajectory = np.full((10, 8), np.nan)
  trajectory[:4] = np.cumsum(-rng.random((4, 8)), axis=-1)
  times = np.array([1, 2, 3, 4] + [-1] * 6)
  fig, axes = plotting.new_figure(1, 1)
  cbar = plotting.plot_load_curve_dynamics(axes[0, 0], trajectory, times)
  assert (cbar.mappable.norm.vmin, cbar.mappable.norm.vmax) == (1, 4)
  assert len(axes[0, 0].lines) == 4 and "non-finite" not in axes[0, 0].get_title()
  with pytest.raises(ValueError, match="times has no snapshot"):
    plotting.plot_load_curve_dynamics(axes[0, 0], trajectory, np.full(10, -1))

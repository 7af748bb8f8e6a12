"""Sweep figures are drawn from tiny merged results of both engines."""

import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from featurespring import analysis
from featurespring import plotting
from featurespring import sweep
from featurespring.analysis import figures
from featurespring.sweep import results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fake_result(workdir, engine, names, shape, layers=4, epochs=3, rng_seed=0):
  """A merged result with the arrays plotting reads, from a real config."""
  rng = np.random.default_rng(rng_seed)
  config = sweep.base_config(engine)
  arrays = {
      "load_curve": rng.normal(size=shape + (layers,)),
      "history/load_curve": rng.normal(size=shape + (epochs, layers)),
      "history/time": np.broadcast_to(np.arange(epochs), shape + (epochs,)),
  }
  arrays["curvature"] = arrays["load_curve"][..., 0] - arrays["load_curve"][..., -1]
  if engine == "dnn":
    arrays["accuracy"] = rng.uniform(size=shape)
    arrays["load_curve_test"] = arrays["load_curve"] + 0.1
  for name, n in zip(names, shape):
    arrays[f"axis/{name}"] = np.linspace(0.0, 1.0, n) if name != "seed" else np.arange(n)
  config.plot.x, config.plot.y = names[1], names[0]
  results.save(
      os.path.join(workdir, "results"),
      arrays,
      {"config": results.config_to_dict(config), "grid_names": list(names)},
  )


@pytest.mark.parametrize(
    "engine, names", [("springs", ("mu", "noise", "seed")), ("dnn", ("alpha", "noise", "seed"))]
)
def test_every_figure_type_is_written(tmp_path, engine, names):
  fake_result(str(tmp_path / engine), engine, names, (3, 4, 2))
  other = "dnn" if engine == "springs" else "springs"
  fake_result(str(tmp_path / other), other, ("mu", "noise", "seed"), (2, 3, 2))
  written = figures.make_figures(str(tmp_path / engine), beside=str(tmp_path / other))
  stems = {os.path.splitext(os.path.basename(p))[0] for p in written}
  assert stems == {
      "phase_diagram",
      "load_curve_atlas",
      "load_curves",
      "dynamics",
      "dnn_beside_chain",
  }
  for path in written:
    assert os.path.getsize(path) > 1000


def test_unknown_axis_is_refused(tmp_path):
  fake_result(str(tmp_path), "springs", ("mu", "noise", "seed"), (2, 2, 1))
  with pytest.raises(ValueError, match="cannot plot axis 'alpha'"):
    figures.make_figures(str(tmp_path), y="alpha")


@pytest.mark.parametrize("dynamics, dashed", [("first_order", True), ("second_order", False)])
def test_chain_corners_show_the_theory_where_it_is_derived(tmp_path, dynamics, dashed):
  fake_result(str(tmp_path), "springs", ("mu", "noise", "seed"), (2, 3, 2))
  arrays, sidecar = sweep.load_result(str(tmp_path))
  arrays["theory/load_curve"] = arrays["load_curve"] + 1.0
  sidecar["config"]["springs"]["dynamics"] = dynamics
  finished = analysis.FinishedSweep(arrays, sidecar["config"], sidecar["grid_names"], "noise", "mu")
  fig, axes = plotting.new_figure(1, 2)
  figures.load_curves(axes[0, 0], finished)
  styles = [line.get_linestyle() for line in axes[0, 0].get_lines()]
  # A corner cell that is also the linear one is drawn once.
  corners = len(set(finished.corner_cells()))
  assert styles.count("-") == corners and styles.count("--") == (corners if dashed else 0)
  assert ("dashed: theory" in axes[0, 0].get_title()) == dashed
  # The first-order phase diagram carries the theory's line, labelled.
  figures.phase_diagram(axes[0, 1], finished)
  assert (axes[0, 1].get_legend() is not None) == dashed
  plt.close(fig)


def test_dynamics_figure_ends_with_curvature_over_time(tmp_path):
  fake_result(str(tmp_path), "springs", ("mu", "noise", "seed"), (1, 3, 2))
  fig, axes = plotting.new_figure(1, 4)
  finished = analysis.FinishedSweep.load(str(tmp_path))
  figures.dynamics(axes[0, :3], finished)
  figures.curvature_over_time(axes[0, 3], finished)
  assert [t.get_text() for t in axes[0, 3].get_legend().get_texts()] == ["lazy", "linear", "active"]
  plt.close(fig)


def test_atlas_draws_every_cell_shape_on_the_phase_diagram_layout(tmp_path):
  fake_result(str(tmp_path), "springs", ("mu", "noise", "seed"), (2, 3, 2))
  finished = analysis.FinishedSweep.load(str(tmp_path))
  fig = plt.figure()
  axes = figures.load_curve_atlas(fig, fig.add_gridspec(1, 1)[0], finished)
  assert axes.shape == (2, 3)
  curves = plotting.finite_mean(finished.finite_cells("load_curve"), axis=2)
  for (i, j), ax in np.ndenumerate(axes):
    drawn = ax.get_lines()[-1].get_ydata()  # after the dashed straight line
    expected = (curves[i, j] - curves[i, j, -1]) / (curves[i, j, 0] - curves[i, j, -1])
    np.testing.assert_allclose(drawn, expected)
  # Row 0 is drawn at the bottom, column 0 on the left.
  assert axes[0, 0].get_position().y0 < axes[1, 0].get_position().y0
  assert axes[0, 0].get_position().x0 < axes[0, 1].get_position().x0
  plt.close(fig)


def test_batch_size_axes_are_drawn_with_noise_growing_to_the_right(tmp_path):
  fake_result(str(tmp_path), "dnn", ("alpha", "batch_size", "seed"), (2, 3, 2))
  finished = analysis.FinishedSweep.load(str(tmp_path))
  assert finished.noise_direction() == -1.0 and finished.noise_falls_along_x()
  fig, axes = plotting.new_figure(1, 1)
  figures.phase_diagram(axes[0, 0], finished)
  left, right = axes[0, 0].get_xlim()
  assert left > right  # column 0 (the smallest batch, most noise) on the right
  assert "noise grows to the right" in axes[0, 0].get_xlabel()
  fig = plt.figure()
  atlas = figures.load_curve_atlas(fig, fig.add_gridspec(1, 1)[0], finished)
  assert atlas[0, 0].get_position().x0 > atlas[0, 2].get_position().x0
  plt.close("all")
  # The lazy corner is the least noisy end: the largest batch.
  assert finished.corner_cells()[0][1] == 2 and finished.corner_cells()[2][1] == 0


def test_dynamics_of_a_zipped_axis_with_padded_short_cells(tmp_path):
  # Fig. 1(d) at fixed steps: batch sizes zipped with their epochs; the short
  # cells are padded (times -1, NaN curves) and evaluated only now and then.
  fake_result(str(tmp_path), "dnn", ("alpha", "batch", "seed"), (2, 3, 2), epochs=6)
  path = os.path.join(str(tmp_path), "results")
  arrays, meta = results.load(path)
  arrays = dict(arrays)
  meta["config"]["grid"]["batch"] = {"batch_size": [10, 40, 160], "num_epochs": [2, 4, 6]}
  time = np.broadcast_to(np.arange(1, 7), (2, 3, 2, 6)).copy()
  trajectory = arrays["history/load_curve"].copy()
  for col, epochs in enumerate((2, 4, 6)):
    time[:, col, :, epochs:] = -1
    trajectory[:, col, :, epochs:] = np.nan
  trajectory[:, :, :, 0] = np.nan  # the first epoch not evaluated
  arrays["history/load_curve"], arrays["history/time"] = trajectory, time
  results.save(path, arrays, meta)
  finished = analysis.FinishedSweep.load(str(tmp_path))
  fig, axes = plotting.new_figure(1, 3)
  figures.dynamics(axes[0], finished)
  titles = [ax.get_title() for ax in axes[0]]
  assert any("batch_size=10, num_epochs=2" in t for t in titles), titles
  assert not any("non-finite" in t for t in titles), titles
  plt.close(fig)
  fig, ax = plt.subplots()
  figures.phase_diagram(ax, finished)
  assert [t.get_text() for t in ax.get_xticklabels()] == ["10/2", "40/4", "160/6"]
  assert ax.get_xlabel() == "batch size / epochs (reversed: noise grows to the right)"
  plt.close(fig)
  # Tables name the zipped columns by the fields they set, not by their index.
  fields = analysis.analyse_phase_grid(finished, num_boot=10)["x_fields"]
  assert fields == {"batch_size": [10, 40, 160], "num_epochs": [2, 4, 6]}

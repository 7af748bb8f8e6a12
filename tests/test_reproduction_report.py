"""experiments/reproduction_report.py: the correlation check, its helpers, a full report."""

import importlib.util
import json
import os
import sys

import numpy as np
import pytest
from scipy import stats

from featurespring import sweep
from featurespring.sweep import results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_report_module():
  # experiments/ is not a package; the script is imported once per session
  # (its absl flags may be defined only once).
  path = os.path.join(REPO, "experiments", "reproduction_report.py")
  spec = importlib.util.spec_from_file_location("reproduction_report", path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module  # dataclasses look their module up there
  spec.loader.exec_module(module)
  return module


report = _load_report_module()


def correlated_cells(num_cells=24, num_seeds=5, seed=0):
  """Per-net curvature and accuracy ``[cells, seeds]`` whose cell means anticorrelate
  |curvature| with accuracy, plus seed noise."""
  rng = np.random.default_rng(seed)
  centre = rng.uniform(-1.0, 1.0, num_cells)
  curvature = centre[:, None] + 0.3 * rng.normal(size=(num_cells, num_seeds))
  accuracy = (0.9 - 0.1 * np.abs(centre))[:, None] + 0.02 * rng.normal(
      size=(num_cells, num_seeds))
  return curvature, accuracy


def reference(curvature, accuracy):
  """Plain NumPy / SciPy: correlations of the cell means over jointly finite nets."""
  valid = np.isfinite(curvature) & np.isfinite(accuracy)
  curv = np.where(valid, curvature, np.nan)
  acc = np.where(valid, accuracy, np.nan)
  keep = valid.any(-1)
  x, y = np.abs(np.nanmean(curv[keep], -1)), np.nanmean(acc[keep], -1)
  return np.corrcoef(x, y)[0, 1], stats.spearmanr(x, y).statistic


def test_point_estimate_is_corrcoef_of_cell_means_and_ci_contains_it():
  curvature, accuracy = correlated_cells()
  out = report.curvature_accuracy_correlation(curvature, accuracy, np.random.default_rng(0),
                                              num_boot=500)
  pearson, spearman = reference(curvature, accuracy)
  np.testing.assert_allclose(out["pearson"], pearson, rtol=1e-12)
  np.testing.assert_allclose(out["spearman"], spearman, rtol=1e-12)
  assert out["num_cells"] == 24 and out["num_nets"] == 24 * 5 and out["num_boot"] == 500
  for key in ("pearson", "spearman"):
    low, high = out[key + "_ci"]
    assert low <= out[key] <= high
    assert high - low > 0  # seeds differ, so resamples differ
  assert out["pearson"] < -0.5  # the planted anticorrelation is found


def test_nan_entries_are_left_out_of_means_and_resampling():
  curvature, accuracy = correlated_cells(seed=1)
  curvature[3, 1] = np.nan  # a diverged net, masked on one side only
  accuracy[5, :2] = np.nan
  curvature[7] = np.nan  # a cell whose every net diverged
  rng = lambda: np.random.default_rng(3)
  out = report.curvature_accuracy_correlation(curvature, accuracy, rng(), num_boot=300)
  pearson, spearman = reference(curvature, accuracy)
  np.testing.assert_allclose(out["pearson"], pearson, rtol=1e-12)
  np.testing.assert_allclose(out["spearman"], spearman, rtol=1e-12)
  assert out["num_cells"] == 23 and out["num_nets"] == 24 * 5 - 5 - 1 - 2
  assert np.isfinite(out["pearson_ci"]).all() and np.isfinite(out["spearman_ci"]).all()
  # An extra all-NaN cell, and NaN padding of the seed axis, change nothing.
  padded = [np.pad(a, [(0, 1), (0, 2)], constant_values=np.nan) for a in (curvature, accuracy)]
  assert report.curvature_accuracy_correlation(*padded, rng(), num_boot=300) == out


def test_bootstrap_is_deterministic_given_the_seed():
  curvature, accuracy = correlated_cells(seed=2)
  run = lambda seed: report.curvature_accuracy_correlation(
      curvature, accuracy, np.random.default_rng(seed), num_boot=200)
  assert run(7) == run(7)
  assert run(7)["pearson_ci"] != run(8)["pearson_ci"]
  assert run(7)["pearson"] == run(8)["pearson"]


def test_single_seed_cells_give_a_point_interval_and_groups_centre_both_variables():
  curvature, accuracy = correlated_cells(num_seeds=1, seed=4)
  out = report.curvature_accuracy_correlation(curvature, accuracy, np.random.default_rng(0),
                                              num_boot=50)
  np.testing.assert_allclose(out["pearson_ci"], [out["pearson"]] * 2, rtol=1e-12)
  groups = np.repeat(np.arange(6), 4)
  centred = report.curvature_accuracy_correlation(
      curvature, accuracy, np.random.default_rng(0), num_boot=50, groups=groups)
  x, y = np.abs(curvature[:, 0]), accuracy[:, 0]
  centre = lambda v: v - np.repeat(v.reshape(6, 4).mean(1), 4)
  np.testing.assert_allclose(centred["pearson"], np.corrcoef(centre(x), centre(y))[0, 1],
                             rtol=1e-10)
  assert centred["centred"] and centred["num_cells"] == 24


def test_helpers_signs_crossings_last_finite():
  mean, std, n = np.array([0.5, -0.5, 0.1, np.nan, 0.3]), np.array([0.1, 0.1, 0.5, 0.1, 0.0]), \
      np.array([4, 4, 4, 0, 1])
  assert "".join(report.sign_pattern(mean, std, n)) == "+-0.+"
  np.testing.assert_allclose(report.zero_crossings([-1.0, -0.5, 0.5, np.nan, 1.0]), [1.5])
  history = np.array([[np.nan, 0.2, np.nan, 0.4], [np.nan, np.nan, np.nan, np.nan]])
  value, index = report.last_finite(history, 2)
  np.testing.assert_array_equal(index, [1, -1])
  assert value[0] == 0.2 and np.isnan(value[1])
  m, s, k = report.cell_stats([[1.0, 3.0, np.nan], [np.nan, np.nan, 2.0]])
  np.testing.assert_allclose(m, [2.0, 2.0])
  np.testing.assert_allclose(s[0], np.sqrt(2.0))
  assert np.isnan(s[1]) and list(k) == [2, 1]


def save_fake(workdir, config, names, arrays):
  """A merged result as the sweep runner leaves it."""
  results.save(os.path.join(workdir, "results"), arrays,
               {"config": results.config_to_dict(config), "grid_names": list(names)})


def fake_classification_grid(workdir):
  """fig1a-like grid [alpha 3, noise 4, seed 3] with one diverged net of garbage values."""
  rng = np.random.default_rng(5)
  config = sweep.base_config("dnn")
  config.grid.alpha, config.grid.noise = (0.0, 0.5, 1.0), (0.0, 0.2, 0.4, 0.6)
  config.plot.x, config.plot.y = "noise", "alpha"
  shape = (3, 4, 3)
  curvature = np.linspace(-1, 1, 4)[None, :, None] + 0.1 * rng.normal(size=shape)
  accuracy = 0.9 - 0.1 * np.abs(curvature) + 0.01 * rng.normal(size=shape)
  diverged = np.zeros(shape, bool)
  diverged[1, 2, 0] = True
  curvature[1, 2, 0], accuracy[1, 2, 0] = 1e6, 0.1
  arrays = {"curvature": curvature, "accuracy": accuracy, "diverged": diverged,
            "curvature_pinv": curvature * 2, "curvature_test": curvature,
            "axis/alpha": np.array([0.0, 0.5, 1.0]), "axis/noise": np.array([0.0, 0.2, 0.4, 0.6]),
            "axis/seed": np.arange(3)}
  save_fake(workdir, config, ("alpha", "noise", "seed"), arrays)
  return arrays


def fake_switch_sweep(workdir):
  """s2-like: 2 rates x 2 seeds, 6 epochs, switch after 3, metrics every 2nd epoch."""
  config = sweep.base_config("dnn")
  config.dnn.num_epochs, config.dnn.dropout_switch_epoch, config.dnn.eval_every = 6, 3, 2
  config.grid.alpha, config.grid.dropout_switch_rate = (0.0,), (0.0, 0.3)
  config.plot.x, config.plot.y = "dropout_switch_rate", "alpha"
  shape, epochs = (1, 2, 2), 6
  evaluated = (np.arange(epochs) % 2) == 1  # epochs 2, 4, 6
  acc = np.where(evaluated, (np.arange(epochs) + 1) / 100.0, np.nan)
  acc = np.broadcast_to(acc, shape + (epochs,)).copy()
  # Load curves with curvature = epoch (d = [e, 0]) at evaluated epochs.
  curve = np.zeros(shape + (epochs, 3))
  curve[..., 0] = np.arange(epochs) + 1.0
  curve[..., ~evaluated, :] = np.nan
  diverged = np.zeros(shape + (epochs,), bool)
  diverged[0, 0, 1, 4:] = True  # rate 0, seed 1 diverges in epoch 5
  arrays = {"history/acc/test": acc, "history/sep/train": curve,
            "history/sep_pinv/train": curve, "history/diverged": diverged,
            "diverged": diverged[..., -1], "curvature": np.zeros(shape),
            "axis/alpha": np.array([0.0]), "axis/dropout_switch_rate": np.array([0.0, 0.3]),
            "axis/seed": np.arange(2)}
  save_fake(workdir, config, ("alpha", "dropout_switch_rate", "seed"), arrays)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
  runs = tmp_path_factory.mktemp("runs")
  # A real (tiny) sweep, run in-process: 2 x 2 cells, 2 seeds, 2 epochs.
  config = sweep.load_config(os.path.join(REPO, "experiments/fig1c_dropout.py:runlocal"))
  config.seeds = 2
  sweep.run(config, str(runs / "fig1c"))
  fake = fake_classification_grid(str(runs / "fig1a"))
  fake_switch_sweep(str(runs / "s2"))
  os.makedirs(runs / "fig1b")  # started, never merged
  os.makedirs(runs / "springs")
  load_curves = np.cumsum(np.random.default_rng(0).uniform(size=(2, 3, 2, 5)), -1)[..., ::-1]
  np.savez(runs / "springs" / "second_order_phase.npz", mu=np.array([0.01, 0.02]),
           noise=np.array([0.0, 0.002, 0.004]), load_curves=load_curves,
           curvature=np.zeros((2, 3)))
  (runs / "runtimes.tsv").write_text("fig1c\t12\texperiments/fig1c_dropout.py\n"
                                     "fig1a\t30\texperiments/fig1a_label_noise.py\n")
  out = tmp_path_factory.mktemp("out")
  numbers = report.write_report(str(runs), str(out), num_boot=200, boot_seed=0, dpi=60)
  return out, numbers, fake


def test_report_numbers_and_figures(report_dir):
  out, numbers, fake = report_dir
  with open(out / "numbers.json") as f:
    written = json.load(f)
  assert written == json.loads(json.dumps(numbers))  # numbers.json is the returned dict
  status = {n: s["status"] for n, s in written["sweeps"].items()}
  assert status["fig1c"] == status["fig1a"] == status["s2"] == "ok", written["sweeps"]
  assert status["fig1d"] == "missing" and status["fig1b"].startswith("incomplete")
  fig1c = written["results"]["fig1c"]
  for key in ("curvature", "curvature_pinv", "curvature_test", "curvature_pinv_test",
              "accuracy", "diverged", "rows", "best_vs_zero", "curvature_vs_noise",
              "correlation_pooled", "correlation_pooled_row_centred", "best_cell"):
    assert key in fig1c, key
  assert np.shape(fig1c["curvature"]["mean"]) == (2, 2)
  assert fig1c["y_values"] == [0.0, 1.0]  # rows by ascending alpha
  assert len(fig1c["curvature"]["sign"]) == 2 and len(fig1c["curvature"]["sign"][0]) == 2
  for row in fig1c["rows"]:
    assert {"best_col", "zero_col", "crossings", "correlation"} <= set(row)
  # The diverged net is counted and left out of the cell mean.
  fig1a = written["results"]["fig1a"]
  assert fig1a["diverged"]["total"] == 1 and fig1a["diverged"]["per_cell"][1][2] == 1
  np.testing.assert_allclose(fig1a["curvature"]["mean"][1][2], fake["curvature"][1, 2, 1:].mean())
  assert fig1a["curvature"]["n"][1][2] == 2
  central = written["central_check"]
  assert set(central["per_grid"]) == {"fig1a", "fig1c"}
  assert central["pooled"]["num_cells"] == 12 + 4
  assert central["per_grid"]["fig1a"]["pooled"]["pearson"] < 0  # planted in the fake grid
  assert "pooled_row_centred" in central and "pooled_curvature_pinv" in central
  # S2: last evaluated epoch at or before the switch (epoch 3 -> 2) and the end.
  s2 = written["results"]["s2"]["cases"]
  assert s2[0]["before_epoch"] == 2 and s2[0]["end_epoch"] == 6
  np.testing.assert_allclose([s2[0]["accuracy_before"], s2[0]["accuracy_end"]], [0.02, 0.06])
  np.testing.assert_allclose([s2[0]["curvature_before"], s2[0]["curvature_end"]], [2.0, 6.0])
  assert s2[0]["accuracy_end_n"] == 1 and s2[1]["accuracy_end_n"] == 2  # diverged net out
  assert written["springs"]["second_order"]["status"] == "ok"
  assert written["springs"]["first_order"]["status"] == "missing"
  assert written["runtimes"]["total_seconds"] == 42
  for name in ("phase_fig1c.png", "phase_fig1a.png", "curvature_vs_accuracy.png",
               "s2_switch.png"):
    assert os.path.getsize(out / name) > 1000, name
  assert sum(os.path.getsize(out / f) for f in os.listdir(out)) < 3 * 2**20
  markdown = (out / "numbers.md").read_text()
  for text in ("## Central check", "## fig1c", "## fig1d", "Skipped: missing", "## s2",
               "partial correlation", "## Runtimes"):
    assert text in markdown, text

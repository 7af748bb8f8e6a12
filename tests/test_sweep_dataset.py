"""Tests of sweep.load: merged results as an xarray.Dataset with named axes."""

import json
import pathlib

import ml_collections
import numpy as np
import pytest

from featurespring import sweep
from featurespring.sweep import dataset as dataset_lib
from test_sweep import tiny_springs_config  # tests/ is on sys.path under pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def _springs_sweep(workdir, **grid):
  config = tiny_springs_config(**grid)
  config.springs.record_every = 100
  sweep.run(config, str(workdir))
  return config


def test_springs_sweep_loads_with_named_axes_and_values(tmp_path):
  _springs_sweep(tmp_path)
  arrays, sidecar = sweep.load_result(str(tmp_path))
  ds = sweep.load(tmp_path)
  assert ds.load_curve.dims == ("mu", "noise", "seed", "layer")
  assert ds["history/load_curve"].dims == ("mu", "noise", "seed", "time", "layer")
  assert ds.positions.dims == ("mu", "noise", "seed", "block")
  assert ds.curvature.dims == ("mu", "noise", "seed")
  np.testing.assert_array_equal(ds.noise.values, [0.0, 0.004, 0.008])
  np.testing.assert_array_equal(ds.seed.values, [0, 1])
  np.testing.assert_array_equal(ds.layer.values, np.arange(8))
  np.testing.assert_array_equal(ds.time.values, arrays["history/time"][0, 0, 0])
  # Values are the merged arrays, unchanged; selection by value reaches the
  # same cell as indexing the raw array.
  np.testing.assert_array_equal(ds.load_curve.values, arrays["load_curve"])
  np.testing.assert_array_equal(
      ds.curvature.sel(mu=0.02, noise=0.004).values, arrays["curvature"][1, 1]
  )
  assert json.loads(ds.attrs["config"])["springs"]["num_steps"] == 300
  # The dimension names are stored with the result, for any reader.
  assert sidecar["dims"]["history/load_curve"] == ["mu", "noise", "seed", "time", "layer"]
  assert sidecar["dims"]["curvature"] == ["mu", "noise", "seed"]
  assert ds.attrs["config_hash"] == sidecar["config_hash"]
  assert "jax" in json.loads(ds.attrs["versions"])
  # Tidy table: one row per chain, the grid axes as index.
  table = ds[["curvature", "stop_step"]].to_dataframe()
  assert len(table) == 2 * 3 * 2
  assert list(table.index.names) == ["mu", "noise", "seed"]


def test_zipped_axis_has_its_fields_as_coordinates(tmp_path):
  case = ml_collections.ConfigDict({"k": (1.0, 2.0), "dt": (0.05, 0.02)})
  _springs_sweep(tmp_path, case=case)
  ds = sweep.load(tmp_path)
  assert ds.curvature.dims == ("case", "mu", "noise", "seed")
  np.testing.assert_array_equal(ds.k.values, [1.0, 2.0])
  assert ds.k.dims == ("case",)
  np.testing.assert_array_equal(
      ds.curvature.sel(case=1).values,
      ds.curvature.where(ds.dt == 0.02, drop=True).squeeze("case").values,
  )


@pytest.mark.parametrize(
    "key, ndim, engine, expected",
    [
        ("load_curve", 1, "springs", ("layer",)),
        ("history/load_curve", 2, "springs", ("time", "layer")),
        ("curvature", 0, "dnn", ()),
        ("history/load_curve_test", 2, "dnn", ("epoch", "layer")),
        ("history/time", 1, "dnn", ("epoch",)),
        ("history/accuracy_train", 1, "dnn", ("epoch",)),
        ("history/load_curve", 2, "dnn", ("epoch", "layer")),
        ("history/steps/load_curve", 3, "dnn", ("epoch", "step", "layer")),
        ("history/steps/step", 2, "dnn", ("epoch", "step")),
        ("load_curve_pinv_test", 1, "dnn", ("layer",)),
        ("new/output", 2, "dnn", ("layer", "new_output_dim1")),
    ],
)
def test_trailing_axis_names(key, ndim, engine, expected):
  assert dataset_lib.array_dims(key, ndim, engine) == expected


def test_loading_an_unmerged_workdir_names_the_files(tmp_path):
  with pytest.raises(FileNotFoundError, match="results"):
    sweep.load(tmp_path)


def test_dnn_sweep_loads_with_epoch_and_layer_axes(tmp_path):
  config = sweep.load_config(str(REPO / "experiments" / "main.py") + ":engine=dnn,runlocal")
  sweep.run(config, str(tmp_path))
  arrays, _ = sweep.load_result(str(tmp_path))
  ds = sweep.load(tmp_path)
  assert ds["history/load_curve"].dims == ("alpha", "noise", "seed", "epoch", "layer")
  assert ds.accuracy.dims == ("alpha", "noise", "seed")
  np.testing.assert_array_equal(ds.epoch.values, [1, 2])
  np.testing.assert_array_equal(ds.alpha.values, [0.0, 1.0])
  np.testing.assert_array_equal(ds["history/load_curve"].values, arrays["history/load_curve"])
  table = ds[["accuracy", "curvature", "diverged"]].to_dataframe()
  assert len(table) == ds.accuracy.size

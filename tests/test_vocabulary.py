"""One name per quantity: train_grid, springs.simulate, sweeps and sweep.load agree."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import springs
from featurespring import sweep
from featurespring import train
from featurespring import vocabulary
from featurespring.sweep import results


def _data(num_train=120, num_test=60, dim=12, seed=0):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 10, num_train + num_test).astype(np.int32)
  x = (rng.normal(size=(10, dim))[labels] + rng.normal(size=(len(labels), dim))).astype(np.float32)
  return train.Data.create(x[:num_train], labels[:num_train], x[num_train:], labels[num_train:])


def test_names_are_built_one_way():
  assert vocabulary.metric_name("load_curve", "train") == "load_curve"
  assert vocabulary.metric_name("load_curve", "test") == "load_curve_test"
  assert vocabulary.metric_name("accuracy", "test") == "accuracy"
  assert vocabulary.metric_name("accuracy", "val") == "accuracy_val"
  assert vocabulary.history("loss") == "history/loss"
  with pytest.raises(ValueError, match="unknown measured quantity"):
    vocabulary.metric_name("sep", "train")


def test_legacy_names_read_as_current_ones():
  legacy = {
      "trajectory": 1,
      "trajectory_time": 2,
      "history/sep/train": 3,
      "history/acc/test": 4,
      "history/steps/sep_pinv/test": 5,
      "load_curve": 6,
      "history/control/dropout": 7,
  }
  assert vocabulary.rename_legacy(legacy) == {
      "history/load_curve": 1,  # the first of the two old names of one array
      "history/time": 2,
      "history/accuracy": 4,
      "history/steps/load_curve_pinv_test": 5,
      "load_curve": 6,
      "history/control/dropout": 7,
  }


def test_train_grid_and_a_dnn_sweep_name_every_quantity_alike(tmp_path):
  config = train.Config(depth=2, width=8, batch_size=60)
  axes = {"alpha": [0.0, 1.0], "seed": [0, 1]}
  grid = train.train_grid(config, axes, _data(), num_epochs=2)
  ds = grid.to_xarray()
  assert ds["history/load_curve"].dims == ("alpha", "seed", "epoch", "layer")
  assert ds["load_curve"].dims == ("alpha", "seed", "layer")
  np.testing.assert_array_equal(ds["load_curve"].values, grid.history["load_curve"][:, :, -1])
  np.testing.assert_array_equal(grid["history/accuracy"], grid.history["accuracy"])
  np.testing.assert_array_equal(ds.epoch.values, [1, 2])
  np.testing.assert_allclose(
      ds["curvature"].values,
      ds["load_curve"].values[..., 0]
      - 2 * ds["load_curve"].values[..., 1]
      + ds["load_curve"].values[..., 2],
      rtol=1e-5,
      atol=1e-6,
  )
  # The same nets as a sweep: the names sweep.load gives are a superset of
  # train_grid's (a sweep also has curvature_test, spread, stop_epoch ...).
  sweep_config = sweep.base_config("dnn")
  sweep_config.dnn.update(
      dataset="synthetic", num_train=120, num_test=60, depth=2, width=8, batch_size=60, num_epochs=2
  )
  sweep_config.grid.alpha = (0.0, 1.0)
  sweep_config.seeds = 2
  sweep.run(sweep_config, str(tmp_path / "w"))
  loaded = sweep.load(str(tmp_path / "w"))
  shared = {
      "load_curve",
      "load_curve_test",
      "load_curve_pinv",
      "accuracy",
      "accuracy_train",
      "curvature",
      "diverged",
      "history/load_curve",
      "history/accuracy",
      "history/loss",
      "history/load_curve_test",
      "history/diverged",
      "history/stopped",
  }
  assert shared <= set(ds.data_vars) and shared <= set(loaded.data_vars)
  for name in shared:
    assert ds[name].dims == loaded[name].dims, name


def test_a_chain_result_names_its_history_like_a_chain_sweep(tmp_path):
  mu = jnp.asarray([0.0, 0.02])[:, None]
  cfg = springs.ChainConfig(
      num_blocks=4, mu_right=mu, mu_left=2 * mu, noise=jnp.asarray([0.0, 0.01])
  )
  result = springs.simulate(
      cfg, jax.random.split(jax.random.key(0), 2)[None], num_steps=300, record_every=100
  )
  ds = result.to_xarray(("mu", "noise"))
  assert ds["history/load_curve"].dims == ("mu", "noise", "time", "layer")
  np.testing.assert_array_equal(ds.step.values, [0, 100, 200, 300])
  np.testing.assert_array_equal(result["history/load_curve"], result.trajectory)
  np.testing.assert_allclose(result["curvature"], ds["curvature"].values)
  with pytest.raises(KeyError, match="record_every"):
    springs.simulate(cfg, jax.random.key(0), num_steps=10)["history/load_curve"]
  config = sweep.load_config(
      os.path.join(os.path.dirname(__file__), "..", "experiments", "fig3_springs.py:runlocal")
  )
  config.springs.update(num_steps=300, record_every=100, num_blocks=4)
  sweep.run(config, str(tmp_path / "chains"))
  loaded = sweep.load(str(tmp_path / "chains"))
  assert loaded["history/load_curve"].dims[-2:] == ("time", "layer")
  np.testing.assert_array_equal(loaded.step.values, [0, 100, 200, 300])
  for name in ("load_curve", "curvature", "spread", "stop_step", "diverged", "positions"):
    assert name in loaded and name in ds, name


def test_a_result_merged_before_the_vocabulary_loads_under_the_new_names(tmp_path):
  config = sweep.base_config("springs")
  config.grid.noise = (0.0, 0.1)
  arrays = {
      "load_curve": np.zeros((2, 1, 3)),
      "trajectory": np.ones((2, 1, 4, 3)),
      "trajectory_time": np.broadcast_to(np.arange(4.0), (2, 1, 4)),
      "axis/noise": np.array([0.0, 0.1]),
      "axis/seed": np.array([0]),
  }
  grid = {
      "noise": {"values": [0.0, 0.1], "fields": {"noise": [0.0, 0.1]}},
      "seed": {"values": [0], "fields": {}},
  }
  results.save(
      str(tmp_path / "results"),
      arrays,
      {
          "config": results.config_to_dict(config),
          "grid_names": ["noise", "seed"],
          "grid": grid,
          "config_hash": results.config_hash(config),
      },
  )
  ds = sweep.load(str(tmp_path))
  assert ds["history/load_curve"].dims == ("noise", "seed", "time", "layer")
  np.testing.assert_array_equal(ds.time.values, np.arange(4.0))
  arrays, _ = sweep.load_result(str(tmp_path))
  assert "trajectory" not in arrays and "history/load_curve" in arrays

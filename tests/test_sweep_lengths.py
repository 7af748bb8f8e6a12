"""A swept run length (``num_epochs``, ``num_steps``) is honoured per static group.

Lengths are static fields: each value is its own compiled group, and every
group must run its own length (Fig. 1(d) at fixed steps zips the epochs with
the batch size). A group's runs equal the same runs swept at that length alone.
"""

import ml_collections
import numpy as np

from featurespring import sweep


def _dnn_config(**grid):
  config = sweep.base_config("dnn")
  d = config.dnn
  d.dataset, d.num_train, d.num_test, d.batch_size = "synthetic", 64, 32, 64
  d.depth, d.width, d.num_epochs = 2, 8, 3
  config.seeds = 2
  for name, values in grid.items():
    config.grid[name] = values
  return config


def test_zipped_epochs_train_each_group_its_own_length(tmp_path):
  zipped = _dnn_config(
      batch=ml_collections.ConfigDict({"batch_size": (32, 64), "num_epochs": (1, 3)})
  )
  sweep.run(zipped, str(tmp_path / "zipped"))
  arrays, _ = sweep.load_result(str(tmp_path / "zipped"))
  loss = arrays["history/loss"]  # [batch, seed, epoch], padded to the longest
  assert loss.shape == (2, 2, 3)
  assert np.isfinite(loss[0, :, 0]).all() and np.isnan(loss[0, :, 1:]).all()
  assert np.isfinite(loss[1]).all()
  for i, (batch_size, epochs) in enumerate(((32, 1), (64, 3))):
    alone = _dnn_config()
    alone.dnn.batch_size, alone.dnn.num_epochs = batch_size, epochs
    sweep.run(alone, str(tmp_path / f"alone{i}"))
    expected, _ = sweep.load_result(str(tmp_path / f"alone{i}"))
    np.testing.assert_array_equal(arrays["load_curve"][i], expected["load_curve"])
    np.testing.assert_array_equal(loss[i, :, :epochs], expected["history/loss"])


def test_swept_chain_lengths_run_each_group_its_own_steps(tmp_path):
  def config(**grid):
    c = sweep.base_config("springs")
    c.seeds = 2
    c.grid.noise = (0.0, 0.004)
    c.springs.mu, c.springs.unroll = 0.02, 1
    c.springs.num_steps = 100
    for name, values in grid.items():
      c.grid[name] = values
    return c

  sweep.run(config(num_steps=(100, 300)), str(tmp_path / "both"))
  both, _ = sweep.load_result(str(tmp_path / "both"))
  for i, steps in enumerate((100, 300)):
    alone = config()
    alone.springs.num_steps = steps
    sweep.run(alone, str(tmp_path / f"alone{steps}"))
    expected, _ = sweep.load_result(str(tmp_path / f"alone{steps}"))
    np.testing.assert_array_equal(both["load_curve"][:, i], expected["load_curve"])

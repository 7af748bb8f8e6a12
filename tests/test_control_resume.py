"""A controlled sweep killed (SIGKILL) after a checkpoint resumes to the same numbers.

The controller's knob lives in the nets' state (`TrainState.hparams`), and
its settings in the config: a checkpoint must carry the moved rates, and
the resumed process must keep moving them from there. Tiny nets, 6 epochs,
a checkpoint after every epoch, the controller reading every epoch, and a
validation split, as `tests/test_sweep_resume.py` does for a plain sweep.
"""

import os
import sys

import numpy as np
import pytest

from featurespring import sweep

import killed_runs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "experiments/control/control_fig1c.py:runlocal"
OVERRIDES = {
    "dnn.num_epochs": 6,
    "checkpoint_every": 1,
    "dnn.num_train": 128,
    "dnn.num_test": 64,
    "dnn.num_val": 64,
    "dnn.batch_size": 64,
}


def sweep_command(workdir):
  overrides = [f"--config.{name}={value}" for name, value in OVERRIDES.items()]
  return [
      sys.executable,
      "-m",
      "launch.sweep",
      f"--config={CONFIG}",
      *overrides,
      f"--workdir={workdir}",
  ]


def test_killed_controlled_sweep_resumes_to_the_uninterrupted_numbers(tmp_path):
  workdir = tmp_path / "killed"
  resumed = killed_runs.kill_at_first_checkpoint_then_resume(
      sweep_command(workdir), workdir, tmp_path
  )
  assert "resumed from checkpoint at epoch" in resumed.stderr
  config = sweep.load_config(os.path.join(REPO, CONFIG.split(":")[0]) + ":runlocal")
  for name, value in OVERRIDES.items():
    group, _, field = name.rpartition(".")
    (config[group] if group else config)[field] = value
  with pytest.warns(UserWarning, match="out of the dropout knob's reach"):
    sweep.run(config, str(tmp_path / "straight"))
  straight, _ = sweep.load_result(str(tmp_path / "straight"))
  killed, sidecar = sweep.load_result(str(workdir))
  assert sidecar["parts"]["chunk_00000"]["resumed_from_unit"] >= 1
  assert sorted(straight) == sorted(killed)
  # The controller moved the rates, and the validation split was recorded.
  rates = straight["history/control/dropout"]
  assert np.all(rates[..., -1] != rates[..., 0])
  assert np.isfinite(straight["accuracy_val"]).all()
  for key in straight:
    np.testing.assert_array_equal(killed[key], straight[key], err_msg=key)

"""A sweep killed (SIGKILL) or interrupted (Ctrl-C) after its first checkpoint resumes."""

import os
import signal
import subprocess
import sys

import numpy as np

from featurespring import sweep

import killed_runs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tiny networks, 6 epochs, a checkpoint after every epoch.
ARGS = (
    "--config=experiments/fig1a_label_noise.py:runlocal",
    "--config.dnn.num_epochs=6",
    "--config.checkpoint_every=1",
    "--config.dnn.num_train=128",
    "--config.dnn.num_test=64",
    "--config.dnn.batch_size=64",
)


def sweep_command(workdir):
  return [sys.executable, "-m", "launch.sweep", *ARGS, f"--workdir={workdir}"]


def test_killed_sweep_resumes_to_the_uninterrupted_numbers(tmp_path):
  workdir = tmp_path / "killed"
  checkpoint = workdir / "checkpoints" / "chunk_00000.npz"
  resumed = killed_runs.kill_at_first_checkpoint_then_resume(
      sweep_command(workdir), workdir, tmp_path
  )
  assert "resumed from checkpoint at epoch" in resumed.stderr
  assert not checkpoint.exists()  # removed once the chunk's part is written
  # The uninterrupted reference, in this process.
  config = sweep.load_config(os.path.join(REPO, ARGS[0].split("=", 1)[1]))
  config.dnn.num_epochs, config.checkpoint_every = 6, 1
  config.dnn.num_train, config.dnn.num_test, config.dnn.batch_size = 128, 64, 64
  sweep.run(config, str(tmp_path / "straight"))
  straight, _ = sweep.load_result(str(tmp_path / "straight"))
  killed, sidecar = sweep.load_result(str(workdir))
  assert sidecar["parts"]["chunk_00000"]["resumed_from_unit"] >= 1
  assert sorted(straight) == sorted(killed)
  for key in straight:
    np.testing.assert_array_equal(killed[key], straight[key], err_msg=key)


def test_ctrl_c_ends_in_one_line_and_the_rerun_resumes(tmp_path):
  workdir = tmp_path / "interrupted"
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(tmp_path / "cache"))
  command = sweep_command(workdir)
  returncode, stderr = killed_runs.stop_at_first_checkpoint(command, workdir, env, signal.SIGINT)
  assert returncode == 130, stderr[-2000:]
  assert "Traceback" not in stderr
  assert (
      stderr.strip()
      .splitlines()[-1]
      .startswith(
          "launch.sweep: error: interrupted; nothing written is damaged: rerun the same command"
      )
  )
  resumed = subprocess.run(
      command, cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=300
  )
  assert "resumed from checkpoint at epoch" in resumed.stderr
  assert sweep.load_result(str(workdir))[1]["parts"]["chunk_00000"]["resumed_from_unit"] >= 1

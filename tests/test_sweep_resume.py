"""A sweep killed (SIGKILL) after its first checkpoint resumes to the same numbers."""

import os
import signal
import subprocess
import sys
import time

import numpy as np

from featurespring import sweep

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
  # The resumed process reuses the killed one's compiled program from disk.
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax_cache"))
  workdir = tmp_path / "killed"
  checkpoint = workdir / "checkpoints" / "chunk_00000.npz"
  process = subprocess.Popen(
      sweep_command(workdir),
      cwd=REPO,
      env=env,
      stdout=subprocess.DEVNULL,
      stderr=subprocess.DEVNULL,
  )
  try:
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
      time.sleep(0.05)
    assert checkpoint.exists(), "no checkpoint appeared"
    process.send_signal(signal.SIGKILL)
  finally:
    process.kill()
    process.wait()
  assert not (workdir / "results.json").exists()
  resumed = subprocess.run(
      sweep_command(workdir),
      cwd=REPO,
      env=env,
      check=True,
      capture_output=True,
      text=True,
      timeout=300,
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

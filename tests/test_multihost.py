"""A sweep over 2 processes (jax.distributed on CPU) gives the 1-process numbers.

Two processes of ``python -m launch.sweep --multihost`` on this machine, each
with 2 CPU devices of its own, form one 4-device job: a coordinator on a free
localhost port, CPU collectives over gloo for the all-gathers, one shared
workdir. Every chunk is sharded over both processes, so each process computes
only its half of the members and the results must come back through the
cross-process gather. A hung collective must not hang the suite: the
processes run under a timeout and are killed.
"""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from featurespring import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "experiments/fig3_springs.py:runlocal"
# 2 mu x 3 noise x 3 seeds = 18 members in chunks of 9: each padded to 12 over
# the 4 global devices, so both processes own real and padding members.
OVERRIDES = (
    "--config.seeds=3",
    "--config.grid.mu=(0.0,0.02)",
    "--config.grid.noise=(0.0,0.004,0.008)",
    "--config.chunk_size=9",
    "--config.springs.num_steps=300",
)
NUM_PROCESSES = 2
DEVICES_PER_PROCESS = 2
TIMEOUT_S = 120


def _free_port() -> int:
  with socket.socket() as probe:
    probe.bind(("localhost", 0))
    return probe.getsockname()[1]


def run_multihost(workdir) -> list[str]:
  """Runs the sweep in 2 processes; returns their logs (raises on failure)."""
  flags = os.environ.get("XLA_FLAGS", "")  # keeps conftest's Eigen setting
  base_env = dict(
      os.environ,
      JAX_PLATFORMS="cpu",
      JAX_CPU_COLLECTIVES_IMPLEMENTATION="gloo",
      JAX_COORDINATOR_ADDRESS=f"localhost:{_free_port()}",
      JAX_NUM_PROCESSES=str(NUM_PROCESSES),
      XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count=" f"{DEVICES_PER_PROCESS}",
  )
  # Not the suite's shared compilation cache: its writes are not atomic, and
  # the two processes compile the same programs at the same time.
  base_env.pop("JAX_COMPILATION_CACHE_DIR", None)
  processes = [
      subprocess.Popen(
          [
              sys.executable,
              "-m",
              "launch.sweep",
              f"--config={CONFIG}",
              *OVERRIDES,
              f"--workdir={workdir}",
              "--multihost",
          ],
          cwd=REPO,
          env=dict(base_env, JAX_PROCESS_ID=str(index)),
          stdout=subprocess.PIPE,
          stderr=subprocess.STDOUT,
          text=True,
      )
      for index in range(NUM_PROCESSES)
  ]
  logs, timed_out = [], False
  try:
    for process in processes:
      try:
        logs.append(process.communicate(timeout=TIMEOUT_S)[0])
      except subprocess.TimeoutExpired:
        timed_out = True
        break
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
        process.communicate()
  if timed_out:
    pytest.fail(f"multi-process sweep did not finish in {TIMEOUT_S} s (killed)")
  for index, (process, log) in enumerate(zip(processes, logs)):
    assert process.returncode == 0, f"process {index} failed:\n{log[-4000:]}"
  return logs


def test_two_process_sweep_equals_one_process(tmp_path):
  run_multihost(tmp_path / "multi")
  multi, sidecar = sweep.load_result(str(tmp_path / "multi"))
  environment = sidecar["environment"]
  assert environment["process_count"] == NUM_PROCESSES
  assert environment["device_count"] == NUM_PROCESSES * DEVICES_PER_PROCESS
  # The reference runs in this (single-process, single-device) process.
  config = sweep.load_config(os.path.join(REPO, CONFIG))
  config.seeds, config.grid.mu, config.grid.noise = 3, (0.0, 0.02), (0.0, 0.004, 0.008)
  config.chunk_size, config.springs.num_steps = 9, 300
  sweep.run(config, str(tmp_path / "single"))
  single, single_sidecar = sweep.load_result(str(tmp_path / "single"))
  assert single_sidecar["config_hash"] == sidecar["config_hash"]
  assert sorted(single) == sorted(multi)
  for key in single:
    np.testing.assert_allclose(multi[key], single[key], rtol=1e-6, atol=1e-7, err_msg=key)


def test_a_missing_peer_ends_in_one_line_after_the_timeout(tmp_path):
  # Process 0 of 2, and process 1 never starts: XLA alone would wait about
  # five minutes and abort with a C++ stack trace.
  address = f"localhost:{_free_port()}"
  result = subprocess.run(
      [
          sys.executable,
          "-m",
          "launch.sweep",
          f"--config={CONFIG}",
          f"--workdir={tmp_path / 'w'}",
          "--multihost",
          "--multihost_timeout_s=3",
      ],
      cwd=REPO,
      env=dict(
          os.environ,
          JAX_PLATFORMS="cpu",
          JAX_COORDINATOR_ADDRESS=address,
          JAX_NUM_PROCESSES="2",
          JAX_PROCESS_ID="0",
      ),
      capture_output=True,
      text=True,
      timeout=TIMEOUT_S,
  )
  assert result.returncode == 75, result.stderr[-3000:]
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("featurespring: error: process 0 of 2 waited 3 s for every process")
  assert address in last and "--multihost_timeout_s" in last
  assert not (tmp_path / "w").exists()  # nothing was started

"""A sweep sharded over 4 (forced CPU) devices gives the unsharded numbers.

The device count is fixed when the backend starts, so the sharded run is a
subprocess with ``--xla_force_host_platform_device_count=4``.
"""

import os
import subprocess
import sys

import numpy as np

from featurespring import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 2 mu x 3 noise x 3 seeds = 18 members in chunks of 7, 7 and 4: none divides
# 4 devices evenly, so padding is exercised.
OVERRIDES = (
    "--config.seeds=3",
    "--config.grid.mu=(0.0,0.02)",
    "--config.grid.noise=(0.0,0.004,0.008)",
    "--config.chunk_size=7",
    "--config.springs.num_steps=300",
    "--config.springs.unroll=1",
)


def run_entry_point(workdir, device_count):
  flags = os.environ.get("XLA_FLAGS", "")  # keeps conftest's Eigen setting
  env = dict(
      os.environ,
      JAX_PLATFORMS="cpu",
      XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count={device_count}",
  )
  subprocess.run(
      [
          sys.executable,
          "-m",
          "launch.sweep",
          "--config=experiments/fig3_springs.py:runlocal",
          *OVERRIDES,
          f"--workdir={workdir}",
      ],
      cwd=REPO,
      env=env,
      check=True,
      capture_output=True,
      text=True,
  )


def test_sharded_sweep_equals_unsharded(tmp_path):
  run_entry_point(tmp_path / "sharded", 4)
  sharded, sidecar = sweep.load_result(str(tmp_path / "sharded"))
  assert sidecar["environment"]["device_count"] == 4
  # The unsharded reference runs in this (single-device) process.
  config = sweep.load_config(os.path.join(REPO, "experiments/fig3_springs.py:runlocal"))
  config.seeds, config.grid.mu, config.grid.noise = 3, (0.0, 0.02), (0.0, 0.004, 0.008)
  config.chunk_size, config.springs.num_steps, config.springs.unroll = 7, 300, 1
  sweep.run(config, str(tmp_path / "single"))
  single, single_sidecar = sweep.load_result(str(tmp_path / "single"))
  assert single_sidecar["config_hash"] == sidecar["config_hash"]
  assert sorted(single) == sorted(sharded)
  for key in single:
    np.testing.assert_allclose(sharded[key], single[key], rtol=1e-6, atol=1e-7, err_msg=key)

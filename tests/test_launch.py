"""The entry points end to end: launch.sweep (incl. array tasks + merge) and launch.plot."""

import os
import subprocess
import sys

import numpy as np

from featurespring import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPRINGS = ("--config=experiments/fig3_springs.py:runlocal", "--config.springs.num_steps=200")


def launch(module, *args, check=True):
  return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, check=check,
                        capture_output=True, text=True, timeout=300,
                        env=dict(os.environ, JAX_PLATFORMS="cpu"))


def test_help_lists_every_flag():
  # absl prints the help and exits with status 1.
  text = launch("launch.sweep", "--help", check=False).stdout
  for flag in ("--config:", "--workdir:", "--task_index:", "--num_tasks:",
               "--[no]merge_only:", "--[no]multihost:", "--merge:"):
    assert flag in text, flag
  text = launch("launch.plot", "--help", check=False).stdout
  for flag in ("--workdir:", "--outdir:", "--beside:", "--x:", "--y:"):
    assert flag in text, flag


def test_array_job_then_merge_then_plot(tmp_path):
  workdir = str(tmp_path / "run")
  for task in ("0", "1"):
    result = launch("launch.sweep", *SPRINGS, "--config.chunk_size=2", f"--workdir={workdir}",
                    f"--task_index={task}", "--num_tasks=2")
    assert "chunk" in result.stderr  # progress lines
  assert not os.path.exists(os.path.join(workdir, "results.npz"))
  launch("launch.sweep", f"--workdir={workdir}", "--merge_only")
  arrays, sidecar = sweep.load_result(workdir)
  assert arrays["curvature"].shape == (2, 2, 1)
  assert sidecar["num_chunks"] == 2
  # The same sweep as one job gives the same numbers.
  single = str(tmp_path / "single")
  launch("launch.sweep", *SPRINGS, "--config.chunk_size=2", f"--workdir={single}")
  np.testing.assert_array_equal(sweep.load_result(single)[0]["load_curve"], arrays["load_curve"])
  # A different config in the same workdir is refused with a clear message.
  refused = launch("launch.sweep", *SPRINGS, "--config.springs.k=2.0", f"--workdir={workdir}",
                   check=False)
  assert refused.returncode != 0 and "different config" in refused.stderr
  launch("launch.plot", f"--workdir={workdir}")
  for name in ("phase_diagram", "load_curves"):
    for ext in ("png", "pdf"):
      assert os.path.getsize(os.path.join(workdir, "figures", f"{name}.{ext}")) > 1000

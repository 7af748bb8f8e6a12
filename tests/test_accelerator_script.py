"""benchmarks/accelerator.py --quick: every section runs and reports, on CPU.

The script is what runs first on a machine with an accelerator, once, with
little time to spare; this runs it at its smoke size (about 30 s on 2 quiet
CPU cores, most of it two compiles of the training program) so that a
broken section shows up here and not there.
"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = ("correctness", "chains", "networks", "scaling")
TIMEOUT_S = 180  # a hang guard, not the expected time


def run_script(out_dir, *flags):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  process = subprocess.run(
      [
          sys.executable,
          os.path.join(REPO, "benchmarks", "accelerator.py"),
          "--quick",
          f"--out={out_dir}",
          *flags,
      ],
      cwd=REPO,
      env=env,
      capture_output=True,
      text=True,
      timeout=TIMEOUT_S,
  )
  assert process.returncode == 0, process.stderr[-4000:]
  printed = json.loads(process.stdout)
  with open(os.path.join(out_dir, "accelerator_result_cpu.json")) as f:
    written = json.load(f)
  assert printed == written
  return written


def test_quick_run_reports_every_section(tmp_path):
  report = run_script(tmp_path)
  assert report["complete"] is True
  assert report["device"]["platform"] == "cpu" and report["device"]["name"]
  assert report["date"] and report["xla_flags"]
  assert tuple(report["sections"]) == SECTIONS
  for name, section in report["sections"].items():
    assert "error" not in section and "skipped" not in section, (name, section)

  correctness = report["sections"]["correctness"]
  assert correctness["ok"] is True, correctness
  assert set(correctness) >= {"tolerances", "chains", "networks", "metrics"}
  assert correctness["metrics"]["precision"] == "HIGHEST"
  for law in ("gaussian", "truncated_normal", "uniform"):
    assert correctness["chains"][law]["vmapped_vs_one_by_one"]["ok"] is True

  chains = report["sections"]["chains"]
  assert chains["bandwidth"]["bytes_per_s"] > 0
  for law in ("gaussian", "truncated_normal", "uniform"):
    entry = chains["laws"][law]
    for generator in ("counter_hash", "threefry"):
      assert entry[generator]["chain_steps_per_s"] > 0
      assert entry[generator]["fraction_of_bandwidth_lower_bound"] > 0
    assert entry["counter_hash_speedup_vs_threefry"] > 0

  networks = report["sections"]["networks"]
  assert set(networks["matmul_peaks"]) >= {"bf16_flops_per_s", "f32_default_flops_per_s"}
  timed = networks["diagrams"]["fig1c_dropout"]
  for key in (
      "wall_s",
      "net_epochs_per_s",
      "matmul_flops_per_s",
      "epoch_scale",
      "full_length_wall_s_estimate",
      "chunk_size",
      "dataset",
  ):
    assert key in timed, key
  assert timed["net_epochs_per_s"] > 0
  for name in ("fig1a_label_noise", "fig1b_learning_rate", "fig1d_batch_size"):
    assert "skipped" in networks["diagrams"][name]

  scaling = report["sections"]["scaling"]
  populations = [p["population"] for p in scaling["points"]]
  assert populations[0] == 1 and len(populations) >= 2
  assert all(p["net_epochs_per_s"] > 0 for p in scaling["points"])


def test_budget_guard_skips_and_still_writes_json(tmp_path):
  # No time at all: every requested section is recorded as skipped.
  report = run_script(tmp_path, "--only=chains,scaling", "--timeout_s=1")
  assert set(report["sections"]) == {"chains", "scaling"}
  assert all("skipped" in s for s in report["sections"].values())

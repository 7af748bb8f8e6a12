"""What of a long sweep's working directory is committed, so that it resumes in a fresh clone.

Sessions and preemptible machines lose local files; experiments/long_runs.sh
relies on the finished chunks (parts/), the manifest and the wall times being
tracked, and on the checkpoints, locks, logs and rebuildable outputs not being.
"""

import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KEPT = (
    "runs/central/fig1c/sweep.json",
    "runs/central/fig1c/parts/chunk_00003.npz",
    "runs/central/fig1c/parts/chunk_00003.json",
    "runs/central/runtimes.tsv",
    "runs/reproduction/s7a/parts/chunk_00000.npz",
)
LOCAL = (
    "runs/central/fig1c/checkpoints/chunk_00004.npz",
    "runs/central/fig1c/checkpoints/chunk_00004.prev.npz",
    "runs/central/fig1c/.lock",
    "runs/central/fig1c/results.npz",
    "runs/central/fig1c/results.json",
    "runs/central/fig1c/figures/phase.png",
    "runs/central/fig1c/parts/chunk_00002.npz.corrupt",
    "runs/central/log.txt",
    "runs/long_runs.log",
    "runs/reproduction/fig1a",  # a link to the central sweep, remade by run.sh
)


def _ignored(paths):
  if shutil.which("git") is None or not os.path.isdir(os.path.join(REPO, ".git")):
    pytest.skip("not a git checkout: .gitignore is read by git only")
  out = subprocess.run(
      ["git", "check-ignore", "--no-index", *paths],
      cwd=REPO,
      capture_output=True,
      text=True,
      check=False,
  )
  return set(out.stdout.split())


def test_finished_chunks_manifests_and_wall_times_are_committed():
  assert not _ignored(KEPT) & set(KEPT)


def test_checkpoints_locks_logs_and_rebuildable_outputs_stay_local():
  assert _ignored(LOCAL) == set(LOCAL)


def test_the_long_runs_script_parses():
  subprocess.run(["bash", "-n", os.path.join(REPO, "experiments", "long_runs.sh")], check=True)


def test_a_failed_step_is_named_and_fails_the_script_without_stopping_the_others(tmp_path):
  # The script on a stand-in tree: each step's script only records that it ran.
  os.makedirs(tmp_path / "experiments")
  shutil.copy(os.path.join(REPO, "experiments", "long_runs.sh"), tmp_path / "experiments")
  for study, status in (("reproduction", 0), ("central_claim", 3), ("control", 0)):
    os.makedirs(tmp_path / "experiments" / study)
    (tmp_path / "experiments" / study / "run.sh").write_text(
        f'echo "{study} $*" >> "$(dirname "$0")/../../ran.txt"; exit {status}\n'
    )
  bin_dir = tmp_path / "bin"
  os.makedirs(bin_dir)
  (bin_dir / "python").write_text('#!/bin/sh\necho "python $*" >> ran.txt\n')
  os.chmod(bin_dir / "python", 0o755)
  env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
  out = subprocess.run(
      ["bash", str(tmp_path / "experiments" / "long_runs.sh")],
      capture_output=True,
      text=True,
      env=env,
      check=False,
  )
  assert out.returncode == 1
  assert "central grids: FAILED with status 3" in out.stdout
  assert out.stdout.strip().splitlines()[-1] == "failed: central grids"
  ran = (tmp_path / "ran.txt").read_text().splitlines()
  assert [line.split()[0] for line in ran] == [
      "reproduction",
      "central_claim",
      "python",
      "reproduction",
      "control",
  ]

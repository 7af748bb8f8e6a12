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
    "runs/crossing_vs_order/mnist_dropout_cells.json",
    "runs/crossing_vs_order/mnist_dropout_full/parts/chunk_00000.npz",
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


def _stand_in_tree(tmp_path, statuses, first_step_also=""):
  """long_runs.sh in a tree whose steps only record that they ran."""
  os.makedirs(tmp_path / "experiments")
  shutil.copy(os.path.join(REPO, "experiments", "long_runs.sh"), tmp_path / "experiments")
  for study, status in statuses.items():
    os.makedirs(tmp_path / "experiments" / study)
    (tmp_path / "experiments" / study / "run.sh").write_text(
        f'echo "{study} $*" >> "$(dirname "$0")/../../ran.txt"; exit {status}\n'
    )
  first = tmp_path / "experiments" / "reproduction" / "run.sh"
  first.write_text(first_step_also + first.read_text())
  bin_dir = tmp_path / "bin"
  os.makedirs(bin_dir)
  (bin_dir / "python").write_text('#!/bin/sh\necho "python $*" >> ran.txt\n')
  os.chmod(bin_dir / "python", 0o755)
  env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
  return subprocess.run(
      ["bash", str(tmp_path / "experiments" / "long_runs.sh")],
      capture_output=True,
      text=True,
      env=env,
      check=False,
  )


def _steps_run(tmp_path):
  return [line.split()[0] for line in (tmp_path / "ran.txt").read_text().splitlines()]


ALL_STEPS = [
    "reproduction",
    "central_claim",
    "python",
    "reproduction",
    "control",
    "crossing_vs_order",
]
STUDIES = {"reproduction": 0, "central_claim": 0, "control": 0, "crossing_vs_order": 0}


def test_a_failed_step_is_named_and_fails_the_script_without_stopping_the_others(tmp_path):
  out = _stand_in_tree(tmp_path, {**STUDIES, "central_claim": 3})
  assert out.returncode == 1
  assert "central grids: FAILED with status 3" in out.stdout
  assert out.stdout.strip().splitlines()[-1] == "failed: central grids"
  assert _steps_run(tmp_path) == ALL_STEPS


def test_editing_the_script_while_it_runs_changes_nothing_of_the_run(tmp_path):
  # An edit of long_runs.sh in place during its hours-long run: the first step
  # adds lines at the top (on 2026-12-07 such an edit stopped the run at the
  # next step with "unbound variable"). In place, as an editor or a script
  # writes it; a rename would leave bash reading the old file.
  edit = (
      'script="$(dirname "$0")/../long_runs.sh"\n'
      '{ head -n 1 "$script"; printf "# added %s\\n" $(seq 40); tail -n +2 "$script"; }'
      ' > "$script.new" && cat "$script.new" > "$script"\n'
  )
  out = _stand_in_tree(tmp_path, STUDIES, first_step_also=edit)
  assert out.returncode == 0, out.stderr
  assert out.stdout.strip().splitlines()[-1] == "all steps done"
  assert _steps_run(tmp_path) == ALL_STEPS
  assert "# added 40" in (tmp_path / "experiments" / "long_runs.sh").read_text()


def test_finished_bridge_fits_are_not_redone(tmp_path):
  os.makedirs(tmp_path / "runs" / "bridge_dynamics")
  (tmp_path / "runs" / "bridge_dynamics" / "numbers.json").write_text("{}")
  out = _stand_in_tree(tmp_path, STUDIES)
  assert out.returncode == 0, out.stderr
  assert "bridge dynamics: runs/bridge_dynamics/numbers.json exists, skipped" in out.stdout
  assert _steps_run(tmp_path) == [step for step in ALL_STEPS if step != "python"]

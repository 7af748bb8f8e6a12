"""runtimes.tsv: written by experiments/runtimes.sh for invocations that finished a chunk, read by the reports."""

import os
import shutil
import subprocess

import pytest

from experiments import runtimes

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELPER = os.path.join(REPO, "experiments", "runtimes.sh")


def test_rows_keep_every_invocation_and_skip_lines_cut_short(tmp_path):
  path = tmp_path / "runtimes.tsv"
  path.write_text("s5\t100\t2026-11-30T00:00:00Z\ns6\t40\tx\n\t7\tx\ns5\t20\ta b\tc\ns6\tfour\ns6")
  assert runtimes.read_rows(str(path)) == [
      {"name": "s5", "seconds": 100.0, "note": "2026-11-30T00:00:00Z"},
      {"name": "s6", "seconds": 40.0, "note": "x"},
      {"name": "s5", "seconds": 20.0, "note": "a b\tc"},
  ]
  assert runtimes.per_name(str(path)) == {
      "s5": {"seconds": 120.0, "invocations": 2},
      "s6": {"seconds": 40.0, "invocations": 1},
  }


def test_a_missing_file_has_no_rows(tmp_path):
  assert runtimes.read_rows(str(tmp_path / "none.tsv")) == []
  assert runtimes.per_name(str(tmp_path / "none.tsv")) == {}


def _timed(tmp_path, command, after="echo after"):
  script = (
      f'set -euo pipefail; source "{HELPER}"; '
      f'timed_sweep "{tmp_path}/runtimes.tsv" sweep "a note" "{tmp_path}/workdir" {command}; '
      f"{after}"
  )
  return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)


def _lines(tmp_path):
  path = tmp_path / "runtimes.tsv"
  return path.read_text().splitlines() if path.exists() else []


def _finish(tmp_path, chunk, before=""):
  return f'bash -c "{before}mkdir -p {tmp_path}/workdir/parts && touch {tmp_path}/workdir/parts/{chunk}.npz"'


def test_only_an_invocation_that_finished_a_chunk_is_logged(tmp_path):
  # No workdir yet, nothing finished: not logged (and not fatal under set -e).
  assert _timed(tmp_path, "true").stdout == "after\n"
  assert _lines(tmp_path) == []
  assert _timed(tmp_path, _finish(tmp_path, "c0", before="sleep 1; ")).returncode == 0
  (line,) = _lines(tmp_path)
  name, seconds, note = line.split("\t")
  assert (name, note) == ("sweep", "a note") and int(seconds) >= 1
  # A rerun that only merges the finished chunks again.
  assert _timed(tmp_path, "true").returncode == 0
  assert len(_lines(tmp_path)) == 1
  # A checkpoint or anything but a finished chunk is no training either.
  os.makedirs(tmp_path / "workdir" / "checkpoints")
  assert _timed(tmp_path, f"touch {tmp_path}/workdir/checkpoints/c.npz").returncode == 0
  assert len(_lines(tmp_path)) == 1
  # A later invocation that finishes the next chunk of the same sweep.
  assert _timed(tmp_path, _finish(tmp_path, "c1")).returncode == 0
  assert len(_lines(tmp_path)) == 2


def test_a_chunk_retrained_in_place_is_logged(tmp_path):
  # A damaged part is moved aside and its chunk trained again under the same
  # name: the count of parts does not change, the part does.
  assert _timed(tmp_path, _finish(tmp_path, "c0")).returncode == 0
  retrain = _finish(
      tmp_path,
      "c0",
      before=f"mv {tmp_path}/workdir/parts/c0.npz {tmp_path}/c0.corrupt; sleep 0.01; ",
  )
  assert _timed(tmp_path, retrain).returncode == 0
  assert len(_lines(tmp_path)) == 2


def test_a_failed_sweep_logs_nothing_and_returns_its_status(tmp_path):
  failing = _finish(tmp_path, "c0").rstrip('"') + '; exit 3"'
  out = _timed(tmp_path, failing + ' || echo "status $?"', after="echo after")
  assert out.stdout == "status 3\nafter\n" and _lines(tmp_path) == []
  # Under set -e, as in the run scripts, it stops the script.
  out = _timed(tmp_path, failing)
  assert out.returncode == 3 and "after" not in out.stdout
  assert _lines(tmp_path) == []


# Each study's run script, with a selection that runs one or two sweeps.
STUDIES = {
    "central_claim": (["s5"], ["s5"]),
    "control": (["fig1c"], ["control_fig1c", "baseline_fig1c"]),
    "crossing_vs_order": (["mnist_dropout"], ["mnist_dropout_short", "mnist_dropout_full"]),
    "reproduction": (["fig2"], ["fig2"]),
}


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_each_study_logs_a_sweep_when_it_trains_and_not_when_it_merges(tmp_path, study):
  selection, sweeps = STUDIES[study]
  os.makedirs(tmp_path / "experiments" / study)
  shutil.copy(HELPER, tmp_path / "experiments")
  shutil.copy(os.path.join(REPO, "experiments", study, "run.sh"), tmp_path / "experiments" / study)
  # A stand-in python: a sweep finishes one chunk when $TRAIN is set; every
  # other module (plots, refinement) does nothing.
  bin_dir = tmp_path / "bin"
  os.makedirs(bin_dir)
  (bin_dir / "python").write_text(
      "#!/bin/bash\n"
      "for arg; do [[ $arg == --workdir=* ]] && workdir=${arg#--workdir=}; done\n"
      'if [[ $2 == launch.sweep ]]; then echo "$workdir" >> "$(dirname "$0")/sweeps.txt"; fi\n'
      "if [[ $2 == launch.sweep && -n ${FAIL:-} ]]; then exit 3; fi\n"
      "if [[ $2 == launch.sweep && -n ${TRAIN:-} ]]; then\n"
      '  mkdir -p "$workdir/parts" && touch "$workdir/parts/chunk_$RANDOM.npz"\n'
      "fi\n"
  )
  os.chmod(bin_dir / "python", 0o755)
  runs = tmp_path / "runs"
  command = ["bash", str(tmp_path / "experiments" / study / "run.sh"), str(runs), *selection]
  env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
  subprocess.run(command, env={**env, "TRAIN": "1"}, check=True, cwd=tmp_path, capture_output=True)
  logged = [line.split("\t")[0] for line in (runs / "runtimes.tsv").read_text().splitlines()]
  assert logged == sweeps
  subprocess.run(command, env=env, check=True, cwd=tmp_path, capture_output=True)
  assert [
      line.split("\t")[0] for line in (runs / "runtimes.tsv").read_text().splitlines()
  ] == sweeps
  # A failing sweep stops the script: nothing logged, no later sweep started.
  (bin_dir / "sweeps.txt").unlink()
  out = subprocess.run(
      command, env={**env, "TRAIN": "1", "FAIL": "1"}, cwd=tmp_path, capture_output=True
  )
  assert out.returncode == 3
  assert len((bin_dir / "sweeps.txt").read_text().splitlines()) == 1
  assert len((runs / "runtimes.tsv").read_text().splitlines()) == len(sweeps)

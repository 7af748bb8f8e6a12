"""Fault probes on sweep workdirs: damaged files, concurrent and killed runs, mixed configs.

Each test damages a workdir the way a full disk, a cut copy, a second
terminal or ``kill -9`` would, and checks that the sweep either recovers to
the undamaged numbers or stops with an error naming the file or process.
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import data as data_lib
from featurespring import sweep
from featurespring.sweep import checkpoint
from featurespring.sweep import dnn_engine
from featurespring.sweep import lock
from featurespring.sweep import results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_springs_config():
  config = sweep.base_config("springs")
  config.seeds = 2
  config.grid.mu = (0.0, 0.02)
  config.grid.noise = (0.0, 0.004, 0.008)
  config.springs.num_steps = 300
  config.springs.unroll = 1
  config.chunk_size = 5  # 12 members: chunks 0, 1, 2
  return config


def assert_same_result(workdir, expected):
  arrays, _ = sweep.load_result(str(workdir))
  assert sorted(arrays) == sorted(expected)
  for key in expected:
    np.testing.assert_array_equal(arrays[key], expected[key], err_msg=key)


def truncate(path):
  size = os.path.getsize(path)
  with open(path, "r+b") as f:
    f.truncate(size // 2)


def strip_checksums(workdir):
  """Makes the parts' sidecars look like those written before checksums."""
  for name in os.listdir(workdir / "parts"):
    if name.endswith(".json"):
      sidecar = json.loads((workdir / "parts" / name).read_text())
      del sidecar[results.CHECKSUM]
      (workdir / "parts" / name).write_text(json.dumps(sidecar))


@pytest.mark.parametrize(
    "damage, bad_file",
    [
        (lambda w: truncate(w / "parts" / "chunk_00001.npz"), "chunk_00001.npz"),
        (
            lambda w: (strip_checksums(w), truncate(w / "parts" / "chunk_00001.npz")),
            "chunk_00001.npz",
        ),
        (
            lambda w: (w / "parts" / "chunk_00002.json").write_text('{"chunk": "chunk_0'),
            "chunk_00002.json",
        ),
    ],
    ids=["truncated_npz", "truncated_npz_old_sidecar", "garbage_sidecar"],
)
def test_damaged_part_is_named_then_set_aside_and_computed_again(
    tmp_path, caplog, damage, bad_file
):
  config = tiny_springs_config()
  sweep.run(config, str(tmp_path))
  expected, _ = sweep.load_result(str(tmp_path))
  damage(tmp_path)
  with pytest.raises(ValueError, match=bad_file):  # a results.CorruptFileError
    sweep.merge(str(tmp_path))
  sweep.run(config, str(tmp_path))
  assert_same_result(tmp_path, expected)
  assert (tmp_path / "parts" / (bad_file + ".corrupt")).exists()  # kept, not deleted
  warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
  assert any(bad_file in w and ".corrupt" in w for w in warnings), warnings


def test_sidecars_without_checksum_are_still_read(tmp_path):
  config = tiny_springs_config()
  sweep.run(config, str(tmp_path))
  expected, _ = sweep.load_result(str(tmp_path))
  strip_checksums(tmp_path)
  parts = sorted(os.listdir(tmp_path / "parts"))
  sweep.run(config, str(tmp_path))
  assert sorted(os.listdir(tmp_path / "parts")) == parts  # nothing set aside
  assert_same_result(tmp_path, expected)


def tiny_dnn_config():
  config = sweep.base_config("dnn")
  d = config.dnn
  d.dataset, d.num_train, d.num_test, d.batch_size = "synthetic", 64, 32, 32
  d.depth, d.width, d.num_epochs = 1, 4, 3
  config.checkpoint_every = 1  # checkpoints after epochs 1 and 2
  return config


class Interrupted(Exception):
  pass


def test_truncated_checkpoint_resumes_from_the_previous_one(tmp_path, monkeypatch, caplog):
  config = tiny_dnn_config()
  sweep.run(config, str(tmp_path / "straight"))
  expected, _ = sweep.load_result(str(tmp_path / "straight"))
  workdir = tmp_path / "interrupted"
  save = checkpoint.save

  def save_then_stop(path, state, unit, *hashes):
    save(path, state, unit, *hashes)
    if unit == 2:
      raise Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_stop)
  with pytest.raises(Interrupted):
    sweep.run(config, str(workdir))
  monkeypatch.undo()
  latest = workdir / "checkpoints" / "chunk_00000.npz"
  assert (workdir / "checkpoints" / "chunk_00000.prev.npz").exists()
  truncate(latest)
  sweep.run(config, str(workdir))
  assert_same_result(workdir, expected)
  _, sidecar = sweep.load_result(str(workdir))
  assert sidecar["parts"]["chunk_00000"]["resumed_from_unit"] == 1
  assert sorted(os.listdir(workdir / "checkpoints")) == ["chunk_00000.npz.corrupt"]
  warnings = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
  assert "chunk_00000.npz: not a readable .npz" in warnings
  assert "chunk_00000.prev.npz" in warnings


class TickingClock:
  """Stands in for the runner's ``time`` module: each reading is one second later."""

  def __init__(self):
    self.now = 0.0

  def time(self):
    self.now += 1.0
    return self.now


def run_in_three_invocations(config, workdir, monkeypatch, forget_time_after_first=False):
  """Runs a 4-epoch chunk as three invocations (stopped after the checkpoints of
  epochs 1 and 2) on a clock the runner reads; returns each checkpoint's wall time."""
  from featurespring.sweep import runner

  monkeypatch.setattr(runner, "time", TickingClock())
  save, saved = checkpoint.save, {}

  def save_then_stop(path, state, unit, *rest):
    save(path, state, unit, *rest)
    saved[unit] = rest[-1]
    if unit == len(saved) and unit < 3:  # stop once after each of epochs 1 and 2
      raise Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_stop)
  for _ in range(2):
    with pytest.raises(Interrupted):
      sweep.run(config, str(workdir))
    if forget_time_after_first and len(saved) == 1:  # as written before the record
      path = str(workdir / "checkpoints" / "chunk_00000.npz")
      arrays = results.read_npz(path)
      del arrays["__wall_time_s__"]
      results.write_npz(path, arrays)
  sweep.run(config, str(workdir))
  monkeypatch.undo()
  return saved


def test_a_resumed_chunk_counts_its_time_before_each_resume(tmp_path, monkeypatch):
  config = tiny_dnn_config()
  config.dnn.num_epochs = 4
  workdir = tmp_path / "w"
  saved = run_in_three_invocations(config, workdir, monkeypatch)
  # One tick per reading: each invocation starts, then each checkpoint and the
  # end read once. The checkpoints carry the time so far: 1, then 1 + 1, then 2 + 1.
  assert saved == {1: 1.0, 2: 2.0, 3: 3.0}
  _, sidecar = sweep.load_result(str(workdir))
  part = sidecar["parts"]["chunk_00000"]
  assert part["resumed_from_unit"] == 2
  assert (part["wall_time_s"], part["wall_time_s_before_resume"]) == (2.0, 2.0)
  assert sweep.total_wall_time(sidecar) == (4.0, [])
  assert sweep.load(str(workdir)).attrs["wall_time_s"] == 4.0


def test_a_time_lost_before_a_resume_stays_lost_through_later_ones(tmp_path, monkeypatch):
  config = tiny_dnn_config()
  config.dnn.num_epochs = 4
  workdir = tmp_path / "w"
  saved = run_in_three_invocations(config, workdir, monkeypatch, forget_time_after_first=True)
  assert saved == {1: 1.0, 2: None, 3: None}
  _, sidecar = sweep.load_result(str(workdir))
  assert sidecar["parts"]["chunk_00000"]["wall_time_s_before_resume"] is None
  # Only the last invocation counts: its start and end, one tick apart (its
  # checkpoint had no time to add to).
  assert sweep.total_wall_time(sidecar) == (1.0, ["chunk_00000"])
  assert sweep.load(str(workdir)).attrs["wall_time_unrecorded_chunks"] == "chunk_00000"


def test_a_checkpoint_without_a_wall_time_makes_the_total_a_named_lower_bound(tmp_path):
  path = str(tmp_path / "c.npz")
  template = {"w": jnp.zeros(3)}
  checkpoint.save(path, {"w": jnp.ones(3)}, 1, "config", "", 12.5)
  assert checkpoint.restore(path, template, "config").wall_time_s == 12.5
  # As written before checkpoints carried the time.
  arrays = results.read_npz(path)
  del arrays["__wall_time_s__"]
  results.write_npz(path, arrays)
  restored = checkpoint.restore(path, template, "config")
  assert restored.unit == 1 and restored.wall_time_s is None
  # A record added by later code does not make this code discard the checkpoint.
  results.write_npz(path, {**arrays, "__added_later__": np.asarray(1)})
  assert checkpoint.restore(path, template, "config").unit == 1
  sidecar = {
      "parts": {
          "chunk_00000": {"wall_time_s": 10.0, "resumed_from_unit": 0},
          "chunk_00001": {"wall_time_s": 5.0, "resumed_from_unit": 3},  # an older part
          "chunk_00002": {
              "wall_time_s": 4.0,
              "resumed_from_unit": 3,
              "wall_time_s_before_resume": 6.0,
          },
          "chunk_00003": {
              "wall_time_s": 2.0,
              "resumed_from_unit": 3,
              "wall_time_s_before_resume": None,
          },
      }
  }
  assert sweep.total_wall_time(sidecar) == (27.0, ["chunk_00001", "chunk_00003"])
  assert sweep.total_wall_time({"wall_time_s": 3.0}) == (3.0, [])


def test_checkpoint_survives_a_kill_between_its_moves_and_damage_to_both(tmp_path):
  path = str(tmp_path / "c.npz")
  template = {"w": jnp.zeros(3), "step": 0}
  checkpoint.save(path, {"w": jnp.ones(3), "step": 1}, 1)
  checkpoint.save(path, {"w": jnp.full(3, 2.0), "step": 2}, 2)
  state, unit, _ = checkpoint.restore(path, template)
  assert unit == 2 and state["step"] == 2
  os.replace(path, checkpoint.previous_path(path))  # as if killed between the moves
  state, unit, _ = checkpoint.restore(path, template)
  assert unit == 2
  np.testing.assert_array_equal(state["w"], [2.0, 2.0, 2.0])
  (tmp_path / "c.prev.npz").write_bytes(b"")
  assert checkpoint.restore(path, template) is None  # the chunk restarts
  assert sorted(os.listdir(tmp_path)) == ["c.prev.npz.corrupt"]


def read_text(path):
  try:
    return path.read_text()
  except FileNotFoundError:
    return ""


# A run that takes the workdir and then stays in its first chunk, as a long
# one would, until it is killed.
HOLDER = """
import sys, time
sys.path.insert(0, {tests!r})
import test_workdir_faults
from featurespring import sweep
from featurespring.sweep import runner
runner.run_chunk = lambda *args: time.sleep(600)
sweep.run(test_workdir_faults.tiny_springs_config(), sys.argv[1])
"""


def test_second_run_is_refused_naming_the_first_and_a_killed_run_frees_the_workdir(tmp_path):
  workdir = tmp_path / "w"
  holder = subprocess.Popen(
      [sys.executable, "-c", HOLDER.format(tests=os.path.join(REPO, "tests")), str(workdir)],
      cwd=REPO,
      # Killed at any point: not in the suite's shared compilation cache,
      # whose writes a kill could leave half done.
      env={k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"},
      stdout=subprocess.DEVNULL,
      stderr=subprocess.PIPE,
      text=True,
  )
  try:
    deadline = time.monotonic() + 120
    while (
        holder.poll() is None
        and time.monotonic() < deadline
        and f'"pid": {holder.pid}' not in read_text(workdir / ".lock")
    ):
      time.sleep(0.05)
    assert holder.poll() is None, holder.communicate()[1][-3000:]
    with pytest.raises(
        lock.WorkdirLockedError, match=f"in use by another run: pid {holder.pid} on host .* since "
    ):
      sweep.run(tiny_springs_config(), str(workdir))
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  finally:
    holder.kill()
    holder.wait()
  assert f'"pid": {holder.pid}' in read_text(workdir / ".lock")  # left behind, but not held
  sweep.run(tiny_springs_config(), str(workdir))
  assert results.exists(str(workdir / "results"))


def test_array_tasks_share_a_workdir_but_no_task_runs_twice(tmp_path):
  workdir = str(tmp_path)
  with lock.WorkdirLock(workdir, 0, 2):
    with lock.WorkdirLock(workdir, 1, 2):
      pass
    with pytest.raises(lock.WorkdirLockedError, match=rf"pid {os.getpid()} .*task-0-of-2"):
      lock.WorkdirLock(workdir, 0, 2).acquire()
    with pytest.raises(lock.WorkdirLockedError, match="tasks of an array job"):
      lock.WorkdirLock(workdir).acquire()
  with lock.WorkdirLock(workdir):
    with pytest.raises(lock.WorkdirLockedError, match=rf"pid {os.getpid()} .*\.lock\. "):
      lock.WorkdirLock(workdir, 1, 2).acquire()
  lock.WorkdirLock(workdir, 1, 2).acquire().release()


def test_manifest_is_created_once_among_concurrent_writers(tmp_path):
  path = str(tmp_path / "sweep.json")
  results.write_json(path, {"first": True}, exclusive=True)
  with pytest.raises(FileExistsError):
    results.write_json(path, {"first": False}, exclusive=True)
  assert results.read_json(path) == {"first": True}
  assert os.listdir(tmp_path) == ["sweep.json"]


def test_merge_refuses_a_part_from_another_config(tmp_path):
  config = tiny_springs_config()
  sweep.run(config, str(tmp_path / "a"), merge=False)
  other = tiny_springs_config()
  other.springs.k = 0.5
  sweep.run(other, str(tmp_path / "b"), merge=False)
  for ext in (".npz", ".json"):
    shutil.copy(tmp_path / "b" / "parts" / f"chunk_00001{ext}", tmp_path / "a" / "parts")
  with pytest.raises(
      ValueError,
      match=(
          rf"chunk_00001\.json was computed with config_hash {sweep.config_hash(other)}, "
          rf"but the sweep in .*sweep\.json has config_hash {sweep.config_hash(config)}"
      ),
  ):
    sweep.merge(str(tmp_path / "a"))


def test_missing_empty_or_file_workdir_is_named(tmp_path):
  for workdir in (tmp_path / "missing", tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=(
            f"^no sweep in {workdir}: sweep.json not found; run launch.sweep with --config first$"
        ),
    ):
      sweep.merge(str(workdir))
  path = tmp_path / "a_file"
  path.write_text("")
  message = f"^--workdir {path} is a file, not a directory$"
  with pytest.raises(NotADirectoryError, match=message):
    sweep.merge(str(path))
  with pytest.raises(NotADirectoryError, match=message):
    sweep.run(tiny_springs_config(), str(path))


def _drop_field_from_workdir(workdir, field):
  """Rewrites a workdir as if written before ``config.springs.<field>`` existed."""
  path = os.path.join(workdir, "sweep.json")
  manifest = results.read_json(path)
  del manifest["config"]["springs"][field]
  manifest["config_hash"] = results.config_hash(manifest["config"])
  results.write_json(path, manifest)
  for sidecar in os.listdir(os.path.join(workdir, "parts")):
    if sidecar.endswith(".json"):
      part = results.read_json(os.path.join(workdir, "parts", sidecar))
      part["config_hash"] = manifest["config_hash"]
      results.write_json(os.path.join(workdir, "parts", sidecar), part)
  return manifest["config_hash"]


def test_a_sweep_written_before_a_new_field_resumes_when_it_is_at_its_default(tmp_path):
  config = tiny_springs_config()
  sweep.run(config, str(tmp_path / "straight"))
  expected, _ = sweep.load_result(str(tmp_path / "straight"))
  workdir = tmp_path / "old"
  sweep.run(config, str(workdir))
  old_hash = _drop_field_from_workdir(str(workdir), "noise_cut")  # at its default, 2.0
  for name in ("results.npz", "results.json", "parts/chunk_00001.npz", "parts/chunk_00001.json"):
    os.remove(workdir / name)
  sweep.run(config, str(workdir))  # runs chunk 1 again, merges with the old parts
  assert_same_result(workdir, expected)
  assert results.read_json(str(workdir / "parts" / "chunk_00001.json"))["config_hash"] == old_hash


def test_a_new_field_away_from_its_default_is_still_a_different_sweep(tmp_path):
  config = tiny_springs_config()
  sweep.run(config, str(tmp_path))
  _drop_field_from_workdir(str(tmp_path), "noise_cut")
  config.springs.noise_cut = 3.0
  with pytest.raises(sweep.WorkdirMismatchError, match="noise_cut"):
    sweep.run(config, str(tmp_path))


def test_a_part_copied_onto_another_chunks_name_is_refused_then_computed_again(tmp_path):
  workdir = str(tmp_path / "w")
  config = tiny_springs_config()
  sweep.run(config, workdir)
  expected = results.load(os.path.join(workdir, "results"))[0]
  parts = os.path.join(workdir, "parts")
  for ext in (".npz", ".json"):
    shutil.copy(os.path.join(parts, "chunk_00000" + ext), os.path.join(parts, "chunk_00001" + ext))
  # The copy passes its checksum (the pair is intact) but holds chunk 0's runs.
  with pytest.raises(results.CorruptFileError, match="part of 'chunk_00000', not of 'chunk_00001'"):
    sweep.merge(workdir)
  sweep.run(config, workdir)  # sets the impostor aside and computes chunk 1 again
  assert os.path.exists(os.path.join(parts, "chunk_00001.json.corrupt"))
  assert_same_result(workdir, expected)


def test_a_checkpoint_or_part_of_another_config_is_never_resumed(tmp_path, monkeypatch, caplog):
  # The probe: kill mid-chunk, delete sweep.json, rerun with another
  # noise grid. The old checkpoint and parts must not fill the new cells.
  workdir = tmp_path / "w"
  config = tiny_springs_config()
  config.springs.num_steps = 600
  config.checkpoint_every = 30
  save = checkpoint.save

  def save_then_stop(path, state, unit, *hashes):
    save(path, state, unit, *hashes)
    if path.endswith("chunk_00001.npz") and unit >= 60:
      raise Interrupted

  monkeypatch.setattr(checkpoint, "save", save_then_stop)
  with pytest.raises(Interrupted):
    sweep.run(config, str(workdir))
  monkeypatch.undo()
  assert (workdir / "checkpoints" / "chunk_00001.npz").exists()
  os.remove(workdir / "sweep.json")
  other = tiny_springs_config()
  other.springs.num_steps = 600
  other.checkpoint_every = 30
  other.grid.noise = (0.0, 0.008, 0.016)
  sweep.run(other, str(workdir))
  fresh = tmp_path / "fresh"
  sweep.run(other, str(fresh))
  assert_same_result(workdir, sweep.load_result(str(fresh))[0])
  warnings = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
  assert "written by a sweep with config_hash" in warnings  # the checkpoint
  assert "computed by a sweep with config_hash" in warnings  # chunk 0's part


def test_a_full_disk_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
  def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a write() raises it: no path

  monkeypatch.setattr(np, "savez", full)
  target = tmp_path / "checkpoints" / "chunk_00000.npz"
  with pytest.raises(OSError, match="No space left on device") as raised:
    results.write_npz(str(target), {"x": np.zeros(3)})
  assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
  assert os.listdir(target.parent) == []


@pytest.mark.parametrize(
    "error, status, words",
    [
        (OSError(errno.ENOSPC, "No space left on device", "/w/parts/x.npz"), 75, "free space"),
        (OSError(errno.EROFS, "Read-only file system", "/w/sweep.json"), 75, "writable file"),
        (PermissionError(errno.EACCES, "Permission denied", "/w"), 75, "writable"),
        (KeyboardInterrupt(), 130, "interrupted; nothing written is damaged"),
    ],
)
def test_the_entry_points_end_os_refusals_and_ctrl_c_in_one_line(error, status, words, capsys):
  import launch  # pylint: disable=g-import-not-at-top

  with pytest.raises(SystemExit) as exited:
    with launch.resumable("launch.sweep", "rerun the same command to resume"):
      raise error
  assert exited.value.code == status
  (line,) = capsys.readouterr().err.splitlines()
  assert line.startswith("launch.sweep: error: ") and words in line, line
  assert line.endswith("rerun the same command to resume")
  if isinstance(error, OSError):
    assert error.filename in line


def test_a_sidecar_that_is_a_directory_is_set_aside_and_computed_again(tmp_path):
  workdir = tmp_path / "w"
  sweep.run(tiny_springs_config(), str(workdir))
  expected, _ = sweep.load_result(str(workdir))
  for name in ("chunk_00001.json", "chunk_00002.npz"):
    os.remove(workdir / "parts" / name)
    os.mkdir(workdir / "parts" / name)
  with pytest.raises(results.CorruptFileError, match="chunk_00001.json: is a directory"):
    sweep.merge(str(workdir))
  sweep.run(tiny_springs_config(), str(workdir))
  assert_same_result(workdir, expected)
  assert os.path.isdir(workdir / "parts" / "chunk_00001.json.corrupt")


def test_the_manifest_and_sidecars_record_the_precision(tmp_path):
  sweep.run(tiny_springs_config(), str(tmp_path))
  expected = {"dtype": "float32", "default_matmul_precision": None}
  assert results.read_json(str(tmp_path / "sweep.json"))["precision"] == expected
  assert sweep.load_result(str(tmp_path))[1]["environment"]["precision"] == expected


def test_parts_of_changed_data_files_are_never_merged_together(tmp_path, monkeypatch):
  config = tiny_dnn_config()
  config.grid.dropout = (0.0, 0.1)
  config.seeds, config.chunk_size = 1, 1  # two chunks
  workdir = str(tmp_path)
  sweep.run(config, workdir, task_index=0, num_tasks=2)
  first = results.read_json(os.path.join(workdir, "parts", "chunk_00000.json"))["data"]
  assert first["settings"]["dataset"] == "synthetic" and len(first["sha256"]) == 64
  # The second task (a new process: nothing cached) sees other files under the same settings.
  dnn_engine._load_data.cache_clear()  # pylint: disable=protected-access
  monkeypatch.setattr(data_lib.Dataset, "sha256", "0" * 64)
  sweep.run(config, workdir, task_index=1, num_tasks=2)
  with pytest.raises(ValueError, match=r"chunk_00000 saw sha256 .*; chunk_00001 saw sha256 0{12}"):
    sweep.merge(workdir)
  monkeypatch.undo()
  dnn_engine._load_data.cache_clear()  # pylint: disable=protected-access
  os.remove(os.path.join(workdir, "parts", "chunk_00001.json"))
  sweep.run(config, workdir, task_index=1, num_tasks=2)
  _, sidecar = sweep.load_result(sweep.merge(workdir).rsplit("/", 1)[0])
  assert sidecar["data"] == [first]


def test_a_checkpoint_of_other_data_is_not_resumed(tmp_path, caplog):
  path = str(tmp_path / "c.npz")
  template = {"w": jnp.zeros(3)}
  checkpoint.save(path, {"w": jnp.ones(3)}, 1, "config", "a" * 64)
  assert checkpoint.restore(path, template, "config", "b" * 64) is None
  assert "computed on other data" in caplog.text
  state, unit, _ = checkpoint.restore(path, template, "config", "a" * 64)
  assert unit == 1 and state["w"].tolist() == [1.0, 1.0, 1.0]


def test_a_plot_axis_that_names_nothing_is_refused_before_anything_runs(tmp_path):
  config = tiny_springs_config()
  config.plot.x = "bogus"
  with pytest.raises(
      ValueError, match=r"config.plot.x='bogus' is neither a grid axis \(mu, noise, seed\) nor a "
  ):
    sweep.run(config, str(tmp_path / "w"))
  assert not (tmp_path / "w").exists()
  config.plot.x = "k"  # a field the grid could sweep: allowed (plotting names it then)
  sweep.plan(config)


def test_changed_reporting_settings_apply_on_resume_and_are_recorded(tmp_path, caplog):
  workdir = str(tmp_path)
  sweep.run(tiny_springs_config(), workdir)
  expected, _ = sweep.load_result(workdir)
  config = tiny_springs_config()
  config.plot.x, config.plot.log_x = "mu", True
  with caplog.at_level("INFO"):
    sweep.run(config, workdir)
  assert "plot.log_x: False -> True; plot.x: 'noise' -> 'mu'" in caplog.text
  assert results.read_json(os.path.join(workdir, "sweep.json"))["config"]["plot"]["x"] == "mu"
  arrays, sidecar = sweep.load_result(workdir)
  assert sidecar["config"]["plot"] == {**sidecar["config"]["plot"], "x": "mu", "log_x": True}
  assert sidecar["config_hash"] == results.config_hash(tiny_springs_config())
  assert_same_result(tmp_path, expected)


def test_a_dangling_symlink_workdir_is_named(tmp_path):
  os.symlink(tmp_path / "unmounted" / "runs", tmp_path / "w")
  with pytest.raises(
      NotADirectoryError, match=r"is a symbolic link to .*unmounted/runs, which does"
  ):
    sweep.run(tiny_springs_config(), str(tmp_path / "w"))


def test_a_dry_run_says_whether_the_workdir_would_start_resume_or_refuse(tmp_path):
  workdir = str(tmp_path / "w")
  planned = sweep.plan(tiny_springs_config())
  assert sweep.workdir_status(workdir, planned).endswith("holds no sweep yet; a run starts it")
  sweep.run(planned, workdir, task_index=0, num_tasks=3)
  assert "holds this sweep, 1 of 3 chunks finished; a run resumes it" in sweep.workdir_status(
      workdir, planned
  )
  other = tiny_springs_config()
  other.springs.k = 2.0
  status = sweep.workdir_status(workdir, sweep.plan(other))
  assert status.startswith("WARNING: a run would be refused: workdir ") and "springs.k" in status


def test_merging_before_every_task_finished_names_the_missing_chunks(tmp_path):
  sweep.run(tiny_springs_config(), str(tmp_path), task_index=0, num_tasks=3)
  with pytest.raises(
      FileNotFoundError,
      match=r"2 of 3 chunks have no result yet \(chunk_00001, chunk_00002\); run the remaining",
  ):
    sweep.merge(str(tmp_path))

"""Tests of the progress lines: rate and ETA without compile time, summaries."""

from featurespring import progress as sweep_progress


def test_eta_leaves_out_the_calls_that_compiled():
  # t=0 start; the first call (compile + 10 epochs of work) ends at 100 s, the
  # second (10 epochs, warm) at 110 s: the warm rate is 10 units per 10 s.
  clock = iter([0.0, 100.0, 110.0]).__next__
  progress = sweep_progress.Progress(num_chunks=1, total_work=40, unit_name="epoch", clock=clock)
  progress.update(0, "chunk_00000", 10, 40, work=10, force=True, compiled=True)
  progress.update(0, "chunk_00000", 20, 40, work=10, force=True)
  line = progress.lines[-1]
  # 20 units left at 1 unit/s: 20 s, where the plain average (20 in 110 s)
  # would have said 110 s.
  assert "ETA 0:00:20" in line, line
  assert "| 1 net-epochs/s" in line, line


def test_only_compiling_calls_give_a_rate_but_no_eta():
  # The compile inflates the first call's time: an ETA from it would be too
  # high (the main job's first one was 2.3x), so it is left unknown.
  clock = iter([0.0, 50.0]).__next__
  progress = sweep_progress.Progress(num_chunks=1, total_work=20, unit_name="epoch", clock=clock)
  progress.update(0, "chunk_00000", 10, 20, work=10, force=True, compiled=True)
  line = progress.lines[-1]
  assert "| 0.2 net-epochs/s" in line and "ETA ? (after the first call" in line, line


def test_chains_are_counted_as_chains_and_lines_go_where_asked():
  clock = iter([0.0, 1.0, 2.0]).__next__
  emitted = []
  progress = sweep_progress.Progress(
      num_chunks=1,
      total_work=40,
      unit_name="segment",
      clock=clock,
      member_name="chain",
      emit=emitted.append,
  )
  progress.update(0, "chunk_00000", 10, 20, work=20, force=True, compiled=True)
  progress.update(0, "chunk_00000", 20, 20, work=20, force=True)
  assert "chain-segments/s = 1.00 chains/s" in emitted[-1] and "ETA 0:00:00" in emitted[-1]
  assert emitted == progress.lines


def test_summary_is_emitted_at_every_update():
  clock = iter([0.0, 1.0]).__next__
  emitted = []
  progress = sweep_progress.Progress(
      num_chunks=1,
      total_work=20,
      unit_name="epoch",
      log_every_s=1e9,
      clock=clock,
      emit=emitted.append,
  )
  progress.update(0, "chunk_00003", 10, 20, work=10, summary="diverged 1/8")
  assert emitted == ["chunk_00003 epoch 10/20: diverged 1/8"]
  assert not progress.lines  # the rate line waits for its period


def test_train_grid_reports_progress_and_its_calls_equal_one_call(capsys):
  import numpy as np  # pylint: disable=g-import-not-at-top
  from featurespring import train  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 150).astype(np.int32)
  x = (rng.normal(size=(10, 8))[labels] + rng.normal(size=(150, 8))).astype(np.float32)
  data = train.Data.create(x[:100], labels[:100], x[100:], labels[100:])
  config = train.Config(depth=2, width=8, batch_size=50)
  axes = {"alpha": [0.0, 1.0], "seed": [0]}
  whole = train.train_grid(config, axes, data, 4, progress=False, progress_every=4)
  assert capsys.readouterr().err == ""
  split = train.train_grid(config, axes, data, 4, progress_every=1)
  err = capsys.readouterr().err
  assert "epoch 4/4" in err and "nets/s" in err and "ETA" in err, err
  for key, values in whole.history.items():
    np.testing.assert_array_equal(split.history[key], values, err_msg=key)


def test_live_summaries_are_written_per_epoch_and_a_bad_writer_is_refused(tmp_path):
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top

  import pytest  # pylint: disable=g-import-not-at-top

  from featurespring import sweep  # pylint: disable=g-import-not-at-top

  config = sweep.base_config("dnn")
  config.dnn.update(
      dataset="synthetic", num_train=60, num_test=30, depth=2, width=8, batch_size=60, num_epochs=4
  )
  config.grid.alpha = (0.0, 1.0)
  config.checkpoint_every = 2
  config.progress.summaries = "jsonl,tensorboard"  # tensorboardX: the [test] extra
  sweep.run(config, str(tmp_path / "w"), progress=False)
  logdir = tmp_path / "w" / "summaries" / "chunk_00000"
  events = [f for f in os.listdir(logdir) if f.startswith("events.out.tfevents")]
  assert len(events) == 1 and (logdir / events[0]).stat().st_size > 100
  path = logdir / "scalars.jsonl"
  rows = [json.loads(line) for line in path.read_text().splitlines()]
  assert [r["unit"] for r in rows] == [1, 2, 3, 4]
  history = sweep.load(str(tmp_path / "w"))["history/loss"].values  # [alpha, seed, epoch]
  for row in rows:
    assert row["loss/median"] == pytest.approx(float(np_median(history[:, 0, row["unit"] - 1])))
    assert row["diverged/fraction"] == 0.0 and "curvature/median" in row
  config.progress.summaries = "csv"
  with pytest.raises(ValueError, match="config.progress.summaries names unknown writers"):
    sweep.run(config, str(tmp_path / "other"))
  assert not os.path.exists(tmp_path / "other")


def np_median(values):
  import numpy as np  # pylint: disable=g-import-not-at-top

  return np.median(np.asarray(values, np.float64))

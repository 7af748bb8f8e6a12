"""Tests of the progress lines: rate and ETA without compile time, summaries."""

from featurespring.sweep import progress as sweep_progress


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


def test_only_compiling_calls_fall_back_to_the_plain_rate():
  clock = iter([0.0, 50.0]).__next__
  progress = sweep_progress.Progress(num_chunks=1, total_work=20, unit_name="epoch", clock=clock)
  progress.update(0, "chunk_00000", 10, 20, work=10, force=True, compiled=True)
  assert "ETA 0:00:50" in progress.lines[-1], progress.lines[-1]


def test_summary_is_logged_at_every_update(caplog):
  clock = iter([0.0, 1.0]).__next__
  progress = sweep_progress.Progress(
      num_chunks=1, total_work=20, unit_name="epoch", log_every_s=1e9, clock=clock
  )
  with caplog.at_level("INFO"):
    progress.update(0, "chunk_00003", 10, 20, work=10, summary="diverged 1/8")
  assert "chunk_00003 epoch 10/20: diverged 1/8" in caplog.text
  assert not progress.lines  # the rate line waits for its period

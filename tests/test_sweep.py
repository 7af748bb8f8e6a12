"""Tests of the sweep layer: grid, chunks, results files, workdirs, merge."""

import json
import math
import os

import jax
import ml_collections
import numpy as np
import pytest

from featurespring import springs
from featurespring import sweep
from featurespring.sweep import results
from featurespring import progress as sweep_progress


def tiny_springs_config(**grid):
  config = sweep.base_config("springs")
  config.seeds = 2
  config.grid.mu = (0.0, 0.02)
  config.grid.noise = (0.0, 0.004, 0.008)
  for name, values in grid.items():
    config.grid[name] = values
  config.springs.num_steps = 300
  config.springs.unroll = 1  # compiles 3x faster than the default 8
  config.chunk_size = 5
  return config


def test_grid_axes_are_sorted_with_seed_last_and_points_follow_flat_index():
  grid = sweep.Grid.from_config(tiny_springs_config())
  assert grid.names == ("mu", "noise", "seed")
  assert grid.shape == (2, 3, 2)
  points = grid.points(np.arange(grid.size))
  named_mu = grid.to_named(points["mu"])
  np.testing.assert_array_equal(named_mu[:, 1, 0], [0.0, 0.02])
  np.testing.assert_array_equal(grid.to_named(points["seed"])[1, 2], [0, 1])
  config = tiny_springs_config()
  config.seed = 7
  np.testing.assert_array_equal(sweep.Grid.from_config(config).axis("seed").values, [7, 8])


def test_zipped_axis_moves_its_fields_together():
  config = tiny_springs_config()
  config.grid.case = ml_collections.ConfigDict({"k": (1.0, 2.0), "dt": (0.05, 0.02)})
  grid = sweep.Grid.from_config(config)
  assert grid.names == ("case", "mu", "noise", "seed")
  points = grid.points(np.arange(grid.size))
  np.testing.assert_array_equal(
      np.unique(np.stack([points["k"], points["dt"]], -1), axis=0), [[1.0, 0.05], [2.0, 0.02]]
  )


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: setattr(c, "seeds", 0), "config.seeds"),
        (lambda c: c.grid.update({"mu": ()}), "config.grid.mu"),
        (lambda c: c.grid.update({"friction": (0.1,)}), "'friction', which is not a field"),
        (lambda c: c.grid.update({"noise": (-0.1, 0.0)}), "noise"),
        (lambda c: setattr(c, "chunk_size", -1), "config.chunk_size"),  # 0 is auto
        (lambda c: setattr(c.springs, "num_steps", 0), "config.springs.num_steps"),
        (lambda c: setattr(c, "engine", "nope"), "config.engine"),
        (
            lambda c: c.grid.update(
                {"case": ml_collections.ConfigDict({"k": (1.0,), "dt": (1.0, 2.0)})}
            ),
            "config.grid.case",
        ),
    ],
)
def test_bad_config_values_raise_naming_the_field(mutate, message):
  config = tiny_springs_config()
  mutate(config)
  with pytest.raises(ValueError, match=message):
    sweep.plan(config)


def test_chunks_split_static_groups_and_tasks_cover_each_chunk_once():
  config = tiny_springs_config(num_blocks=(3, 5))
  plan = sweep.plan(config)
  assert [c.static for c in plan.chunks] == [{"num_blocks": 3}] * 3 + [{"num_blocks": 5}] * 3
  members = np.concatenate([c.members for c in plan.chunks])
  np.testing.assert_array_equal(np.sort(members), np.arange(plan.grid.size))
  tasks = [sweep.chunks_for_task(plan.chunks, i, 4) for i in range(4)]
  assert sorted(c.index for t in tasks for c in t) == list(range(len(plan.chunks)))


def test_task_from_env_reads_slurm_array_variables():
  env = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"}
  assert sweep.task_from_env(None, None, env) == (4, 8)
  assert sweep.task_from_env(2, 3, env) == (2, 3)
  assert sweep.task_from_env(None, None, {}) == (0, 1)
  with pytest.raises(ValueError, match="task_index"):
    sweep.task_from_env(3, 3, {})


def test_config_hash_ignores_harmless_fields_only():
  config = tiny_springs_config()
  other = tiny_springs_config()
  other.progress.log_every_s = 1.0
  other.checkpoint_every = 3
  assert sweep.config_hash(config) == sweep.config_hash(other)
  other.springs.k = 2.0
  assert sweep.config_hash(config) != sweep.config_hash(other)


def test_springs_sweep_end_to_end_matches_direct_simulation(tmp_path):
  config = tiny_springs_config()
  stem = sweep.run(config, str(tmp_path))
  arrays, sidecar = sweep.load_result(str(tmp_path))
  assert stem == str(tmp_path / "results")
  assert arrays["load_curve"].shape == (2, 3, 2, 8)
  assert sidecar["grid_names"] == ["mu", "noise", "seed"]
  assert sidecar["config"]["springs"]["num_steps"] == 300
  assert {"versions", "device_kind"} <= set(sidecar["environment"])
  # One cell, simulated directly with the member's key, gives the same curve.
  keys = jax.random.key(1)[None]  # seed index 1 with config.seed = 0; one key per chain
  direct = springs.simulate(
      springs.ChainConfig(mu_right=0.02, mu_left=0.04, noise=0.004, dt=config.springs.dt),
      keys,
      300,
      unroll=1,
  )
  np.testing.assert_allclose(
      arrays["load_curve"][1, 1, 1], np.asarray(direct.load_curve)[0], rtol=1e-6
  )
  curve = arrays["load_curve"]
  np.testing.assert_allclose(
      arrays["curvature"],
      (curve[..., 0] - curve[..., 1]) - (curve[..., -2] - curve[..., -1]),
      atol=1e-6,
  )


def test_rerun_skips_finished_chunks_and_refuses_a_different_config(tmp_path):
  config = tiny_springs_config()
  sweep.run(config, str(tmp_path), merge=False)
  part = tmp_path / "parts" / "chunk_00000.npz"
  mtime = part.stat().st_mtime_ns
  harmless = tiny_springs_config()
  harmless.progress.log_every_s = 0.0
  sweep.run(harmless, str(tmp_path))
  assert part.stat().st_mtime_ns == mtime
  changed = tiny_springs_config()
  changed.springs.k = 0.5
  with pytest.raises(sweep.WorkdirMismatchError, match=r"springs\.k: 1\.0 -> 0\.5"):
    sweep.run(changed, str(tmp_path))


def test_merge_of_task_parts_equals_one_job(tmp_path):
  config = tiny_springs_config(num_blocks=(3, 5))
  one_job = tmp_path / "one"
  sweep.run(config, str(one_job))
  split = tmp_path / "split"
  for task in range(3):
    sweep.run(config, str(split), task_index=task, num_tasks=3)
    if task < 2:
      with pytest.raises(FileNotFoundError, match="chunk_"):
        sweep.merge(str(split))
  sweep.merge(str(split))
  expected, _ = sweep.load_result(str(one_job))
  merged, sidecar = sweep.load_result(str(split))
  assert sorted(expected) == sorted(merged)
  for key in expected:
    np.testing.assert_array_equal(merged[key], expected[key], err_msg=key)
  # Shorter chains' load curves are NaN-padded to the longest.
  assert merged["load_curve"].shape == (2, 3, 2, 2, 6)  # mu, noise, num_blocks, seed, L+1
  assert np.isnan(merged["load_curve"][:, :, 0, :, 4:]).all()
  assert not np.isnan(merged["load_curve"][:, :, 1]).any()
  assert sidecar["num_chunks"] == 6


def test_atomic_write_leaves_no_partial_file_when_writing_fails(tmp_path):
  path = tmp_path / "r.npz"
  results.write_npz(str(path), {"a": np.arange(3)})

  class Unsaveable:

    def __array__(self, *args, **kwargs):
      raise RuntimeError("boom")

  with pytest.raises(RuntimeError, match="boom"):
    results.write_npz(str(path), {"a": np.arange(5), "b": Unsaveable()})
  np.testing.assert_array_equal(np.load(path)["a"], np.arange(3))
  assert os.listdir(tmp_path) == ["r.npz"]
  assert not results.exists(str(tmp_path / "r"))  # no sidecar: not a result
  results.write_json(str(tmp_path / "r.json"), {"x": np.float32(1.5)})
  assert results.exists(str(tmp_path / "r"))
  assert json.loads((tmp_path / "r.json").read_text()) == {"x": 1.5}


def test_progress_line_shows_slow_rates_and_the_eta():
  clock = iter([0.0, 200.0]).__next__
  progress = sweep_progress.Progress(num_chunks=1, total_work=360, unit_name="epoch", clock=clock)
  progress.update(0, "chunk_00000", 10, 40, work=90, force=True)
  line = progress.lines[-1]
  # 90 net-epochs in 200 s: 0.45 net-epochs/s, not "0"; 270 left: 600 s.
  assert "epoch 10/40 | 0.45 net-epochs/s = 0.01 nets/s" in line, line
  assert "ETA 0:10:00" in line, line


def test_springs_chunk_checkpoints_inside_the_run_and_resumes_exactly(tmp_path):
  from featurespring.sweep import checkpoint, springs_engine  # pylint: disable=import-outside-toplevel

  config = tiny_springs_config()
  config.springs.record_every = 30
  plan = sweep.plan(config)
  engine_cls = springs_engine.SpringsEngine
  units = engine_cls.num_units(config)
  assert units == 10  # 300 steps in segments of 30 (whole snapshot intervals)
  points = {
      f: np.asarray(v, jax.dtypes.canonicalize_dtype(v.dtype))
      for f, v in plan.grid.points(plan.chunks[0].members).items()
  }
  engine = engine_cls(config, plan.chunks[0].static, plan.grid)
  straight = engine.finalize(engine.advance(engine.init(points), units))
  # Three units, a checkpoint, a fresh process's template, the rest.
  path = str(tmp_path / "chunk.npz")
  checkpoint.save(path, engine.advance(engine.init(points), 3), 3)
  state, unit, _ = checkpoint.restore(path, engine.init(points))
  assert unit == 3
  resumed = engine.finalize(engine.advance(state, units - unit))
  assert sorted(resumed) == sorted(straight)
  for key in straight:
    np.testing.assert_array_equal(resumed[key], straight[key], err_msg=key)
  # The same numbers as one springs.simulate call.
  chain = engine._chain_config(engine._fields(), points)  # pylint: disable=protected-access
  whole = springs.simulate(chain, jax.vmap(jax.random.key)(points["seed"]), 300, record_every=30)
  np.testing.assert_array_equal(straight["history/load_curve"], whole.trajectory)
  np.testing.assert_array_equal(straight["load_curve"], whole.load_curve)


def test_automatic_chunk_size_is_fixed_by_the_workdirs_first_run(tmp_path, monkeypatch):
  from featurespring.sweep import memory  # pylint: disable=import-outside-toplevel

  config = tiny_springs_config()
  config.chunk_size = 0  # fit the device memory
  sizes = iter([5, 5, 3])  # free memory changed before the last run
  monkeypatch.setattr(memory, "auto_chunk_size", lambda config, grid: next(sizes))
  first = sweep.plan(config)
  assert [len(c.members) for c in first.chunks] == [5, 5, 2]
  # The first task of an array job stops after its chunk...
  sweep.run(config, str(tmp_path), task_index=0, num_tasks=3)
  # ...the rerun plans 3 per chunk, but the workdir's chunks are kept.
  stem = sweep.run(config, str(tmp_path))
  arrays, sidecar = results.load(stem)
  assert sidecar["num_chunks"] == 3
  assert sidecar["parts"]["chunk_00000"]["num_members"] == 5
  assert sidecar["parts"]["chunk_00000"]["resumed_from_unit"] == 0
  straight = tiny_springs_config()
  sweep.run(straight, str(tmp_path / "straight"))
  np.testing.assert_array_equal(
      arrays["load_curve"], sweep.load_result(str(tmp_path / "straight"))[0]["load_curve"]
  )


@pytest.mark.parametrize("seed", [2**32, -5, 2**31 - 1, True])
def test_seeds_that_would_wrap_or_truncate_are_refused_before_anything_runs(seed, tmp_path):
  config = tiny_springs_config()
  config.seeds = 2
  config.seed = seed
  with pytest.raises(ValueError, match="config.seed must be"):
    sweep.run(config, str(tmp_path / "w"))
  assert not (tmp_path / "w").exists()


def test_a_billion_seeds_are_refused_in_one_line_before_any_array_exists():
  config = tiny_springs_config()
  config.seeds = 10**9
  grid_runs = math.prod(len(v) for v in config.grid.values())
  with pytest.raises(
      ValueError,
      match=rf"config.seeds=1000000000 and config.grid make {grid_runs * 10**9:,} runs .* "
      r"at most 10,000,000",
  ):
    sweep.plan(config)


def test_integer_axes_take_integral_floats_and_refuse_the_rest():
  config = tiny_springs_config(num_blocks=(3.0, 4.0))
  planned = sweep.plan(config)
  assert config.grid.num_blocks == (3, 4)
  assert planned.grid.axis("num_blocks").values.tolist() == [3, 4]
  assert sweep.config_hash(config) == sweep.config_hash(tiny_springs_config(num_blocks=(3, 4)))
  with pytest.raises(ValueError, match=r"config.grid.num_blocks takes integers .* 4.5"):
    sweep.plan(tiny_springs_config(num_blocks=(3, 4.5)))


def test_repeated_grid_values_are_refused():
  with pytest.raises(ValueError, match=r"config.grid.noise repeats \[0.004\]"):
    sweep.plan(tiny_springs_config(noise=(0.0, 0.004, 0.004)))

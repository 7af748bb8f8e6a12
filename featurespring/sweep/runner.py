"""Running a sweep into a workdir, resumably.

Workdir layout::

  <workdir>/sweep.json               manifest: resolved config, its hash, grid, chunks
  <workdir>/parts/chunk_NNNNN.npz    one finished chunk ([members, ...] arrays)
  <workdir>/parts/chunk_NNNNN.json   its sidecar (completion marker)
  <workdir>/checkpoints/chunk_NNNNN.npz  state of an unfinished chunk (+ .prev.npz)
  <workdir>/results.npz / .json      the merged sweep ([*grid.shape, ...])
  <workdir>/.lock[.task-I-of-N]      flock files of the run holding the workdir

Starting again with the same command skips finished chunks and resumes the
unfinished one from its checkpoint (or the one before, if the last is
damaged); a damaged part is moved aside and its chunk runs again. Starting
with a different config (other than :data:`results.HARMLESS_FIELDS`) in the
same workdir is refused, and so is a second run while one holds the lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time

import jax
import ml_collections
import numpy as np
from absl import logging
from jax.experimental import multihost_utils

from featurespring.sweep import checkpoint
from featurespring.sweep import chunks as chunks_lib
from featurespring.sweep import engine as engine_lib
from featurespring import grids as grid_lib
from featurespring.sweep import lock as lock_lib
from featurespring.sweep import memory
from featurespring.sweep import merging
from featurespring import progress as progress_lib
from featurespring import runtime
from featurespring.sweep import results
from featurespring import sharding
from featurespring import summaries

MANIFEST = "sweep.json"


class WorkdirMismatchError(RuntimeError):
  """The workdir holds a sweep with a different config."""


@dataclasses.dataclass(frozen=True)
class Plan:
  """Everything a task needs to know about the sweep, computed from the config."""

  config: ml_collections.ConfigDict
  engine_cls: type[engine_lib.Engine]
  grid: grid_lib.Grid
  chunks: list[grid_lib.Chunk]


def check_common_fields(config: ml_collections.ConfigDict) -> None:
  """Raises a ``ValueError`` naming the first sweep-level field the config lacks."""
  for field in ("engine", "seed", "seeds", "grid", "chunk_size", "checkpoint_every"):
    if field not in config:
      raise ValueError(
          f"config.{field} is missing; build the config on "
          "featurespring.sweep.base_config(engine)"
      )


def validate(config: ml_collections.ConfigDict, grid: grid_lib.Grid | None = None) -> None:
  """Checks the sweep-level fields and the engine's, before any compile."""
  check_common_fields(config)
  runtime.check_float32("a sweep")
  summaries.parse_kinds(config.get("progress", {}).get("summaries", ""))
  if int(config.checkpoint_every) < 1:
    raise ValueError(f"config.checkpoint_every must be >= 1, got {config.checkpoint_every}")
  if int(config.chunk_size) < 0:
    raise ValueError(
        f"config.chunk_size must be >= 1, or 0 to fit the device memory, "
        f"got {config.chunk_size}"
    )
  if grid is None:
    grid = grid_lib.Grid.from_config(config)
  engine_cls = engine_lib.engine_class(config)
  engine_cls.validate(config, grid)
  fields = config.get(engine_cls.name, {})
  for name in ("x", "y"):
    axis = config.get("plot", {}).get(name)
    # A field the grid does not sweep yet is allowed: --config.grid.<field> adds it.
    if axis is not None and axis not in grid.names and axis not in fields:
      raise ValueError(
          f"config.plot.{name}={axis!r} is neither a grid axis ({', '.join(grid.names)}) "
          f"nor a field of config.{engine_cls.name}"
      )


def _integer_axis_values(config: ml_collections.ConfigDict) -> None:
  """Grid values of integer fields as ints: ``(3.0, 7.0)`` -> ``(3, 7)``; 7.5 refused.

  A tuple from the command line is parsed as floats when written so; the
  engine's field is an int, and a float there would end in a TypeError deep
  in the config (or truncate). Integral floats become ints, in place, before
  the config is hashed, so both spellings are the same sweep.
  """
  engine = config.get(engine_lib.engine_class(config).name, {})

  def fixed(path, field, values):
    default = engine.get(field) if hasattr(engine, "get") else None
    if not isinstance(default, int) or isinstance(default, bool):
      return values
    out = []
    for v in values:
      if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer():
        raise ValueError(f"config.grid.{path} takes integers ({field}), got {v!r} in {values!r}")
      out.append(int(v))
    return tuple(out)

  for name, entry in list(config.grid.items()):
    if isinstance(entry, ml_collections.ConfigDict):
      for field, values in list(entry.items()):
        entry[field] = fixed(f"{name}.{field}", field, tuple(values))
    elif isinstance(entry, (tuple, list)):
      config.grid[name] = fixed(name, name, tuple(entry))


def plan(config: ml_collections.ConfigDict) -> Plan:
  """Validates ``config`` and lays out its grid and chunks.

  ``config.chunk_size = 0`` picks the chunk size from the devices' free
  memory and the engine's footprint (`memory.auto_chunk_size`), logged; a
  workdir keeps the chunks of its first run (see :func:`run`).
  """
  check_common_fields(config)  # before the grid reads them
  _integer_axis_values(config)
  grid = grid_lib.Grid.from_config(config)
  validate(config, grid)
  engine_cls = engine_lib.engine_class(config)
  chunk_size = int(config.chunk_size)
  if chunk_size == 0:
    chunk_size = memory.auto_chunk_size(config, grid=grid)
    logging.info(
        "config.chunk_size = 0: %d members per chunk fit the free memory of " "%d %s device(s)",
        chunk_size,
        jax.device_count(),
        jax.devices()[0].platform,
    )
  chunks = grid_lib.plan_chunks(grid, chunk_size, engine_cls.static_fields_of(config))
  return Plan(config, engine_cls, grid, chunks)


def _warn_if_too_large(sweep: Plan, mesh) -> None:
  """Logs a warning, before any compile, when a chunk (padded to the
  longest, as `run_chunk` runs it) is estimated beyond the share of this
  process's devices' free memory that `memory.auto_chunk_size` plans for;
  the estimate is an upper bound (`memory`), so it may still fit."""
  devices = [d for d in mesh.devices.flat if d.process_index == jax.process_index()]
  padded = sharding.padded_size(max(len(c.members) for c in sweep.chunks), mesh)
  # Each process holds its share of the members: the mesh's count per device.
  fit = memory.chunk_fit(sweep.config, padded * len(devices) // mesh.size, devices, sweep.grid)
  if not fit.fits:
    logging.warning(
        "a chunk of %d members is estimated at %.3g GiB per device, more than %d%% of "
        "the %.3g GiB free: it may fail to allocate. Lower config.chunk_size (%d would "
        "fit) or set it to 0 to size chunks from the free memory.",
        padded,
        fit.needed / 2**30,
        round(100 * memory.SAFETY_FRACTION),
        fit.free / 2**30,
        memory.auto_chunk_size(sweep.config, list(mesh.devices.flat), grid=sweep.grid),
    )


def _manifest_chunks(workdir: str) -> list[grid_lib.Chunk]:
  """The chunks recorded in a workdir's manifest."""
  manifest = merging.read_manifest(os.path.join(workdir, MANIFEST))
  return [
      grid_lib.Chunk(i, np.asarray(c["members"], np.int64), c["static"])
      for i, c in enumerate(manifest["chunks"])
  ]


def _manifest(sweep: Plan) -> dict:
  return {
      "config": results.config_to_dict(sweep.config),
      "config_hash": results.config_hash(sweep.config),
      "grid": sweep.grid.describe(),
      "grid_names": list(sweep.grid.names),
      "grid_shape": list(sweep.grid.shape),
      "precision": runtime.precision(),
      "chunks": [
          {"name": c.name, "members": c.members.tolist(), "static": c.static} for c in sweep.chunks
      ],
  }


def _conflict(workdir: str, existing: dict, manifest: dict, engine: str) -> str | None:
  """Why the sweep of ``manifest`` may not run in ``workdir`` (holding ``existing``), or None."""
  if existing["config_hash"] == manifest["config_hash"]:
    return None
  from featurespring.sweep import config as config_lib  # pylint: disable=g-import-not-at-top

  defaults = results.config_to_dict(config_lib.base_config(engine))
  added = results.fields_added_at_default(existing["config"], manifest["config"], defaults)
  if added:
    logging.info(
        "%s: resuming a sweep written before %s existed (at their defaults, which keep "
        "the old behaviour); its parts keep the workdir's config hash",
        workdir,
        ", ".join(added),
    )
    return None
  diffs = results.config_diff(existing["config"], manifest["config"])
  return (
      f"workdir {workdir} holds a sweep with a different config; refusing to "
      f"mix results. Use a new --workdir, or rerun with the original config. "
      f"Differences (workdir -> now): {'; '.join(diffs) or 'unknown'}"
  )


def workdir_status(workdir: str, sweep: Plan) -> str:
  """One line on what running ``sweep`` in ``workdir`` would do: start, resume or be refused."""
  path = os.path.join(workdir, MANIFEST)
  if not os.path.exists(path):
    return f"workdir: {workdir} holds no sweep yet; a run starts it"
  conflict = _conflict(workdir, merging.read_manifest(path), _manifest(sweep), sweep.config.engine)
  if conflict:
    return f"WARNING: a run would be refused: {conflict}"
  done = sum(results.exists(os.path.join(workdir, "parts", c.name)) for c in sweep.chunks)
  return (
      f"workdir: {workdir} holds this sweep, {done} of {len(sweep.chunks)} chunks finished; "
      "a run resumes it"
  )


def prepare_workdir(workdir: str, sweep: Plan, chunks: list[grid_lib.Chunk] | None = None) -> None:
  """Writes the manifest, or checks the existing one matches this config.

  Finished parts of ``chunks`` (default: all) that are unreadable or do not
  match their checksum are moved aside (``*.corrupt``), so they run again.

  Raises:
    NotADirectoryError: if ``workdir`` is a file.
    WorkdirMismatchError: if the workdir holds a sweep of another config.
  """
  results.check_workdir(workdir)
  path = os.path.join(workdir, MANIFEST)
  manifest = _manifest(sweep)
  if jax.process_index() == 0 and not os.path.exists(path):
    # Array tasks start together: the first one's manifest wins, and the
    # others check theirs against it below.
    with contextlib.suppress(FileExistsError):
      results.write_json(path, manifest, exclusive=True)
  if os.path.exists(path):
    existing = merging.read_manifest(path)
    conflict = _conflict(workdir, existing, manifest, sweep.config.engine)
    if conflict:
      raise WorkdirMismatchError(conflict)
    changed = results.harmless_changes(existing["config"], manifest["config"])
    if changed and jax.process_index() == 0:
      # Reporting settings: the new ones apply (figures of the next merge use
      # them), and the manifest says so.
      existing["config"].update(
          {k: manifest["config"][k] for k in results.HARMLESS_FIELDS if k in manifest["config"]}
      )
      results.write_json(path, existing)
      logging.info(
          "%s: %s (reporting settings, the numbers do not depend on them); recorded in %s",
          workdir,
          "; ".join(changed),
          MANIFEST,
      )
  # The workdir's own hash (a resumed older sweep keeps it), which its parts carry.
  sweep_hash = merging.read_manifest(path)["config_hash"] if os.path.exists(path) else None
  if jax.process_index() == 0:
    for chunk in sweep.chunks if chunks is None else chunks:
      stem = os.path.join(workdir, "parts", chunk.name)
      if results.set_aside_if_corrupt(stem) or not results.exists(stem):
        continue
      try:
        merging.check_part(stem, chunk.name, chunk.members)
        part_hash = results.read_json(stem + ".json").get("config_hash")
        if part_hash != sweep_hash:
          raise results.CorruptFileError(
              stem + ".json",
              f"it was computed by a sweep with config_hash {part_hash}, not this one "
              f"({sweep_hash})",
          )
      except results.CorruptFileError as e:
        moved = [results.set_aside(stem + ext) for ext in (".json", ".npz")]
        logging.warning(
            "%s; moved it aside to %s so that it is computed again", e, " and ".join(moved)
        )
  if jax.process_count() > 1:
    # Every process must then see the same finished chunks.
    multihost_utils.sync_global_devices("featurespring.sweep.prepare_workdir")


def run_chunk(
    sweep: Plan,
    chunk: grid_lib.Chunk,
    workdir: str,
    mesh,
    progress: progress_lib.Progress,
    position: int,
    engines: dict,
) -> None:
  """Runs (or resumes) one chunk and writes its part."""
  config = sweep.config
  start = time.time()
  engine_key = tuple(sorted(chunk.static.items()))
  if engine_key not in engines:
    engines[engine_key] = (sweep.engine_cls(config, chunk.static, sweep.grid), set())
  # The call sizes (units per advance) this engine has compiled for.
  engine, compiled_steps = engines[engine_key]
  points = engine_lib.member_points(sweep.engine_cls, config, sweep.grid, chunk.members)
  # Every chunk is padded to the longest one, so one compile serves them all.
  size = sharding.padded_size(max(len(c.members) for c in sweep.chunks), mesh)
  # Every leaf on the member sharding from the start: otherwise the first
  # advance sees replicated leaves and the second one compiles again.
  state = sharding.shard_state(engine.init(sharding.shard_members(points, mesh, size)), mesh, size)
  unit, total = 0, engine.total_units
  checkpoint_path = os.path.join(workdir, "checkpoints", chunk.name + ".npz")
  sweep_hash = merging.read_manifest(os.path.join(workdir, MANIFEST))["config_hash"]
  data = engine.data_identity()
  data_sha256 = data["sha256"] if data else ""
  restored = checkpoint.restore(checkpoint_path, state, sweep_hash, data_sha256)
  # The chunk's training time before this invocation: None where its
  # checkpoint did not record it.
  wall_before = 0.0
  if restored is not None:
    state, unit, wall_before = restored
    logging.info(
        "%s: resumed from checkpoint at %s %d/%d", chunk.name, engine.unit_name, unit, total
    )
    progress.skip(unit * len(chunk.members))
  kinds = summaries.parse_kinds(config.progress.get("summaries", ""))
  logdir = os.path.join(workdir, "summaries", chunk.name)
  writer = summaries.Writer(logdir, kinds if jax.process_index() == 0 else ())
  while unit < total:
    step = min(int(config.checkpoint_every), total - unit)
    state = jax.block_until_ready(engine.advance(state, step))
    for summary_unit, scalars in (
        engine.scalars(state, len(chunk.members), unit, unit + step) if kinds else ()
    ):
      writer.write(summary_unit, scalars)
    unit += step
    progress.update(
        position,
        chunk.name,
        unit,
        total,
        step * len(chunk.members),
        force=unit == total,
        compiled=step not in compiled_steps,
        summary=engine.summary(state, len(chunk.members)),
    )
    compiled_steps.add(step)
    if unit < total:
      checkpoint.save(
          checkpoint_path,
          state,
          unit,
          sweep_hash,
          data_sha256,
          None if wall_before is None else wall_before + time.time() - start,
      )
  writer.close()
  outputs = sharding.gather_members(engine.finalize(state), len(chunk.members))
  outputs["members"] = chunk.members
  if jax.process_index() == 0:
    results.save(
        os.path.join(workdir, "parts", chunk.name),
        outputs,
        {
            "chunk": chunk.name,
            "static": chunk.static,
            "num_members": len(chunk.members),
            "units": total,
            "unit_name": engine.unit_name,
            # This invocation's time, and the chunk's before it: a rate
            # per unit reads the first with resumed_from_unit, a total
            # adds both (merging.total_wall_time).
            "wall_time_s": time.time() - start,
            "wall_time_s_before_resume": wall_before,
            "resumed_from_unit": restored.unit if restored else 0,
            # The workdir's: a resumed sweep may predate fields added since.
            "config_hash": sweep_hash,
            "environment": results.environment(),
            **({"data": data} if data else {}),
        },
    )
    checkpoint.remove(checkpoint_path)


def run(
    config: ml_collections.ConfigDict | Plan,
    workdir: str,
    task_index: int | None = None,
    num_tasks: int | None = None,
    mesh=None,
    merge: bool | None = None,
    progress: bool = True,
) -> str | None:
  """Runs this task's chunks of the sweep ``config`` into ``workdir``.

  Args:
    config: a resolved sweep config (see :func:`featurespring.sweep.base_config`),
      or its :func:`plan` (then not validated again).
    workdir: where parts, checkpoints and results go.
    task_index: this task's index; default from SLURM, else 0.
    num_tasks: number of tasks; default from SLURM, else 1.
    mesh: device mesh over the member axis; default all devices.
    merge: merge the parts when all are done; default: only for a single task.
    progress: show progress lines (rate, ETA, loss and accuracy quantiles)
      every ``config.progress.log_every_s`` seconds: absl INFO under
      ``launch``, stderr elsewhere (a notebook, a script); False: silent.

  Returns:
    The stem of the merged result, or ``None`` if not merged.

  Raises:
    lock.WorkdirLockedError: another run (or the same task of an array job)
      is using ``workdir``.
  """
  sweep = config if isinstance(config, Plan) else plan(config)
  config = sweep.config
  task_index, num_tasks = chunks_lib.task_from_env(task_index, num_tasks)
  mesh = sharding.member_mesh() if mesh is None else mesh
  with lock_lib.WorkdirLock(workdir, task_index, num_tasks):
    mine = chunks_lib.chunks_for_task(sweep.chunks, task_index, num_tasks)
    prepare_workdir(workdir, sweep, mine)
    recorded = _manifest_chunks(workdir)
    if [(c.members.tolist(), c.static) for c in recorded] != [
        (c.members.tolist(), c.static) for c in sweep.chunks
    ]:
      # An automatic chunk size may differ from the first run's (free memory
      # changes): finished parts define the chunks, so keep the recorded ones.
      logging.info("using the %d chunks recorded in %s", len(recorded), MANIFEST)
      sweep = dataclasses.replace(sweep, chunks=recorded)
      mine = chunks_lib.chunks_for_task(sweep.chunks, task_index, num_tasks)
    todo = [c for c in mine if not results.exists(os.path.join(workdir, "parts", c.name))]
    logging.info(
        "task %d/%d: %d of %d chunks, %d to run (%d finished before); " "%d devices",
        task_index,
        num_tasks,
        len(mine),
        len(sweep.chunks),
        len(todo),
        len(mine) - len(todo),
        mesh.size,
    )
    tracker = progress_lib.Progress(
        len(todo),
        sum(sweep.engine_cls.units_of(config, c.static) * len(c.members) for c in todo),
        sweep.engine_cls.unit_name,
        float(config.progress.log_every_s),
        member_name=sweep.engine_cls.member_name,
        emit=None if progress else progress_lib.silent,
    )
    if todo:
      _warn_if_too_large(sweep, mesh)
    engines = {}  # one engine (and its compiles) per static group
    for position, chunk in enumerate(todo):
      run_chunk(sweep, chunk, workdir, mesh, tracker, position, engines)
    if merge is None:
      merge = num_tasks == 1
    if merge and jax.process_index() == 0:
      return merging.merge(workdir)
  return None

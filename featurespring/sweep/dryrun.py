"""Plan before spending: what a sweep will run, where, and for how long.

``python -m launch.sweep --config=... --dry_run`` prints :func:`describe` and,
unless ``--dry_run_measure=false``, :func:`measure`: the grid (axes, sizes,
runs), the chunks and each array task's share (with a warning when tasks
would sit idle), and a run-time estimate from one short measured step of the
first chunk, compile time reported apart. Nothing is written to the workdir.
"""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import numpy as np

from featurespring import sharding
from featurespring.sweep import chunks as chunks_lib
from featurespring.sweep import engine as engine_lib
from featurespring.sweep import memory


@dataclasses.dataclass(frozen=True)
class Measurement:
  """One short measured step of a sweep's first chunk.

  Attributes:
    compile_s: seconds of the first call beyond a warm call (tracing and XLA
      compiles); paid once per static group and process.
    unit_s: seconds per unit (epoch, chain run) of the whole chunk, warm.
    members: members in the measured chunk.
    device_bytes: peak device memory in use after the step, where the
      device reports it (GPU, TPU); None on CPU.
  """

  compile_s: float
  unit_s: float
  members: int
  device_bytes: int | None


def describe(sweep, num_tasks: int = 1) -> list[str]:
  """Lines describing ``sweep`` (a :class:`runner.Plan`) split over tasks."""
  grid, chunks = sweep.grid, sweep.chunks
  unit = sweep.engine_cls.unit_name
  runs = {"dnn": "nets", "springs": "chains"}.get(sweep.config.engine, "runs")
  units = sorted({sweep.engine_cls.units_of(sweep.config, c.static) for c in chunks})
  each = f"{units[0]}" if len(units) == 1 else f"{units[0]} to {units[-1]} (by static group)"
  lines = [
      f"grid: {' x '.join(f'{a.name}[{len(a)}]' for a in grid.axes)} = "
      f"{grid.size} {runs}, {each} {unit}(s) each"
  ]
  for axis in grid.axes:
    shown = {f: _short(v) for f, v in axis.fields.items()}
    text = "; ".join(f"{f}={v}" for f, v in shown.items())
    lines.append(f"  {axis.name} ({len(axis)}): {text}")
  sizes = [len(c.members) for c in chunks]
  groups = {tuple(sorted(c.static.items())) for c in chunks}
  lines.append(
      f"chunks: {len(chunks)} (config.chunk_size = {sweep.config.chunk_size}; "
      f"{len(groups)} static group(s); members per chunk "
      f"{min(sizes)}..{max(sizes)})"
  )
  # A large array job lists its first and last tasks; the middle ones match.
  shown = range(num_tasks) if num_tasks <= 8 else [*range(4), *range(num_tasks - 2, num_tasks)]
  for task in shown:
    if task == num_tasks - 2 and num_tasks > 8:
      lines.append(f"  ... ({num_tasks - 6} tasks more)")
    mine = chunks_lib.chunks_for_task(chunks, task, num_tasks)
    members = sum(len(c.members) for c in mine)
    names = ", ".join(c.name for c in mine[:4]) + (", ..." if len(mine) > 4 else "")
    lines.append(
        f"  task {task}/{num_tasks}: {len(mine)} chunk(s), {members} {runs}"
        + (f" ({names})" if mine else "")
    )
  idle = max(num_tasks - len(chunks), 0)
  if idle:
    lines.append(
        f"WARNING: {idle} of {num_tasks} tasks would sit idle: the sweep has "
        f"only {len(chunks)} chunk(s). Use --num_tasks <= {len(chunks)} (or "
        f"#SBATCH --array=0-{len(chunks) - 1}), or a smaller config.chunk_size "
        f"(e.g. {math.ceil(grid.size / num_tasks)} for one chunk per task)."
    )
  elif num_tasks > 1 and len(chunks) % num_tasks:
    busiest = math.ceil(len(chunks) / num_tasks)
    lines.append(
        f"note: {len(chunks)} chunks over {num_tasks} tasks: the busiest task "
        f"runs {busiest}, the others {len(chunks) // num_tasks}."
    )
  return lines


def memory_lines(sweep) -> list[str]:
  """Estimated device memory of the largest chunk (`memory` module's model)."""
  member = memory.estimate_member_bytes(sweep.config, sweep.grid)
  largest = max(len(c.members) for c in sweep.chunks)
  devices = jax.devices()
  fit = memory.chunk_fit(sweep.config, largest, devices, sweep.grid)
  return [
      f"memory: about {member / 2**20:.3g} MiB per member, {fit.needed / 2**30:.3g} GiB "
      f"per device for the largest chunk ({largest} members on {len(devices)} "
      f"{devices[0].platform} device(s)); free now {fit.free / 2**30:.3g} GiB per device"
      + (
          ""
          if fit.fits
          else " -- WARNING: may not fit; lower config.chunk_size or set it to 0 (auto)"
      )
  ]


def _short(values: np.ndarray, most: int = 8) -> str:
  shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values.tolist()[:most])
  return f"({shown}{', ...' if len(values) > most else ''})"


def measure(sweep, mesh=None) -> Measurement:
  """Times one unit of the sweep's largest chunk, compile time apart.

  The engine runs one unit of the chunk twice; the second, warm call gives
  the time per unit.
  """
  mesh = sharding.member_mesh() if mesh is None else mesh
  config = sweep.config
  chunk = max(sweep.chunks, key=lambda c: len(c.members))
  engine = sweep.engine_cls(config, chunk.static, sweep.grid)
  points = engine_lib.member_points(sweep.engine_cls, config, sweep.grid, chunk.members)
  size = sharding.padded_size(len(chunk.members), mesh)
  state = engine.init(sharding.shard_members(points, mesh, size))
  start = time.perf_counter()
  jax.block_until_ready(engine.advance(state, 1))
  first = time.perf_counter() - start
  start = time.perf_counter()
  jax.block_until_ready(engine.advance(state, 1))
  warm = time.perf_counter() - start
  stats = getattr(jax.devices()[0], "memory_stats", lambda: None)() or {}
  return Measurement(
      compile_s=max(first - warm, 0.0),
      unit_s=warm,
      members=len(chunk.members),
      device_bytes=stats.get("peak_bytes_in_use"),
  )


def estimate_lines(sweep, measurement: Measurement, num_tasks: int = 1) -> list[str]:
  """Run-time estimate per task from a :class:`Measurement`.

  A chunk is assumed to take the measured time per unit, scaled by its
  members, times its own static group's units (groups may differ in
  length); its other static settings (depth, batch size) are not modelled.
  """
  from featurespring.sweep import chunks as chunks_lib  # pylint: disable=g-import-not-at-top

  def chunk_s(chunk):
    units = sweep.engine_cls.units_of(sweep.config, chunk.static)
    return measurement.unit_s * units * len(chunk.members) / max(measurement.members, 1)

  per_task = [
      sum(chunk_s(c) for c in chunks_lib.chunks_for_task(sweep.chunks, t, num_tasks))
      for t in range(num_tasks)
  ]
  per_chunk = [chunk_s(c) for c in sweep.chunks]
  lines = [
      f"measured: {measurement.unit_s:.3g} s per "
      f"{sweep.engine_cls.unit_name} for a chunk of {measurement.members} "
      f"(compile {measurement.compile_s:.3g} s, once per static group and process)",
      f"estimate: about {_duration(min(per_chunk))}"
      + (f" to {_duration(max(per_chunk))}" if max(per_chunk) > min(per_chunk) else "")
      + f" per chunk; the busiest task: about {_duration(max(per_task))} plus compiles "
      f"(scaled by members and units only: chunks of other static groups, e.g. deeper "
      f"nets or smaller batches, take longer)",
  ]
  if measurement.device_bytes is not None:
    lines.append(
        f"device memory: peak {measurement.device_bytes / 2**30:.2f} GiB in use "
        f"for a chunk of {measurement.members}"
    )
  return lines


def _duration(seconds: float) -> str:
  seconds = int(round(seconds))
  hours, rest = divmod(seconds, 3600)
  return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"

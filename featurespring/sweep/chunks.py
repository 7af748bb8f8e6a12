"""Splitting a grid into chunks: one compiled batch each, spread over tasks.

Members that share the values of every shape-changing (static) field (depth,
width, batch size, chain length) form a *group* that one compile can run;
each group is cut into chunks of at most ``chunk_size`` members. The chunk
list depends only on the grid and ``chunk_size``, so every task of an array job
computes the same list and picks its own chunks round-robin.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

import numpy as np

from featurespring.sweep import grid as grid_lib


@dataclasses.dataclass(frozen=True)
class Chunk:
  """A batch of members that runs as one compiled computation.

  Attributes:
    index: position in the sweep's chunk list; names its files.
    members: flat grid indices of the members, ``[n]``.
    static: values of the shape-changing fields, shared by all members.
  """

  index: int
  members: np.ndarray
  static: Mapping[str, object]

  @property
  def name(self) -> str:
    return f"chunk_{self.index:05d}"


def plan_chunks(
    grid: grid_lib.Grid, chunk_size: int, static_fields: Sequence[str] = ()
) -> list[Chunk]:
  """Groups the grid's members by their static fields and cuts the groups.

  Args:
    grid: the sweep's grid.
    chunk_size: most members per chunk.
    static_fields: engine fields that change array shapes; only those that a
      grid axis sets matter, the others are constant over the sweep.

  Returns:
    The chunks, ordered by group (first appearance) then by member index.
  """
  if chunk_size < 1:
    raise ValueError(f"config.chunk_size must be >= 1, got {chunk_size}")
  members = np.arange(grid.size)
  points = grid.points(members)
  swept_static = [f for f in static_fields if f in points]
  if swept_static:
    columns = np.stack(
        [np.unique(points[f], return_inverse=True)[1] for f in swept_static], axis=-1
    )
    _, first, group_of = np.unique(columns, axis=0, return_index=True, return_inverse=True)
    group_order = np.argsort(first)
  else:
    group_of, group_order = np.zeros(grid.size, int), np.zeros(1, int)
  group_of = np.reshape(group_of, -1)
  chunks = []
  for group in group_order:
    group_members = members[group_of == group]
    static = {f: points[f][group_members[0]].item() for f in swept_static}
    for start in range(0, len(group_members), chunk_size):
      chunks.append(Chunk(len(chunks), group_members[start : start + chunk_size], static))
  return chunks


def task_from_env(
    task_index: int | None, num_tasks: int | None, environ: Mapping[str, str] = os.environ
) -> tuple[int, int]:
  """Resolves this job's task: explicit flags win, then SLURM array variables.

  SLURM numbers array tasks by ``SLURM_ARRAY_TASK_ID`` from
  ``SLURM_ARRAY_TASK_MIN`` (0 in our template); ``SLURM_ARRAY_TASK_COUNT`` is
  the number of tasks.
  """
  if task_index is None and "SLURM_ARRAY_TASK_ID" in environ:
    task_index = int(environ["SLURM_ARRAY_TASK_ID"]) - int(environ.get("SLURM_ARRAY_TASK_MIN", 0))
  if num_tasks is None and "SLURM_ARRAY_TASK_COUNT" in environ:
    num_tasks = int(environ["SLURM_ARRAY_TASK_COUNT"])
  task_index = 0 if task_index is None else task_index
  num_tasks = 1 if num_tasks is None else num_tasks
  if num_tasks < 1 or not 0 <= task_index < num_tasks:
    raise ValueError(
        f"need 0 <= task_index < num_tasks, got task_index=" f"{task_index}, num_tasks={num_tasks}"
    )
  return task_index, num_tasks


def chunks_for_task(chunks: Sequence[Chunk], task_index: int, num_tasks: int) -> list[Chunk]:
  """This task's chunks: every ``num_tasks``-th, starting at ``task_index``."""
  return list(chunks[task_index::num_tasks])

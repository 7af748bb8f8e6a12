"""Which chunks an array task runs.

The chunk list (:func:`featurespring.grids.plan_chunks`) depends only on the
grid and ``chunk_size``, so every task of an array job computes the same list
and picks its own chunks round-robin.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from featurespring import grids


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


def chunks_for_task(
    chunks: Sequence[grids.Chunk], task_index: int, num_tasks: int
) -> list[grids.Chunk]:
  """This task's chunks: every ``num_tasks``-th, starting at ``task_index``."""
  return list(chunks[task_index::num_tasks])

"""Atomic NumPy checkpoints of a chunk's engine state, with the previous one kept.

The state is any pytree; its leaves are gathered to the host and written with
:func:`featurespring.sweep.results.write_npz` (temp file + ``os.replace``).
Each save keeps the checkpoint it replaces as ``<name>.prev.npz``: write the
new one as ``<name>.npz.new``, move ``<name>.npz`` to ``<name>.prev.npz``, move
the new one into place. A kill at any moment leaves at least one complete
checkpoint, and a checkpoint damaged later (truncated by a full disk, a bad
block) costs one checkpoint interval instead of the whole chunk.

:func:`restore` tries ``<name>.npz``, then ``<name>.prev.npz``: an unreadable
one is moved aside to ``*.corrupt`` with a warning. Restoring needs a template
state (a freshly initialised one) for the tree structure, shapes and
shardings; a checkpoint that does not fit it (e.g. written on a different
device count, so padded differently) is ignored. With neither usable, the
chunk restarts from scratch. Each checkpoint records the config hash of the
sweep that wrote it; one of another sweep (a workdir whose manifest was
deleted and rerun with another grid, say), or computed on other data (the
files of a data directory replaced), is never resumed: its chunk restarts,
with a warning.

Each checkpoint also records the chunk's wall time so far (its own
invocation's, plus what the checkpoint it resumed from recorded), so that a
chunk resumed across sessions reports the training time behind its state, not
only its last invocation's. Work done after the last checkpoint of an
interrupted invocation is lost with that work and not counted.

A single ``.npz`` per chunk keeps this dependency-free and works the same on
every host count; orbax would add async saves we do not need at this size.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Any, NamedTuple

import jax
import numpy as np
from absl import logging

from featurespring.sweep import results
from featurespring import sharding

_UNIT = "__unit__"
_CONFIG_HASH = "__config_hash__"
_DATA_SHA256 = "__data_sha256__"
_WALL_TIME_S = "__wall_time_s__"


class Restored(NamedTuple):
  """A resumed chunk: its state, the units it has completed, and its wall
  time so far in seconds (None for a checkpoint that did not record it)."""

  state: Any
  unit: int
  wall_time_s: float | None


def previous_path(path: str) -> str:
  """Where the checkpoint before the one at ``path`` is kept."""
  return os.path.splitext(path)[0] + ".prev.npz"


def _new_path(path: str) -> str:
  return path + ".new"


def save(
    path: str,
    state,
    unit: int,
    config_hash: str = "",
    data_sha256: str = "",
    wall_time_s: float | None = None,
) -> None:
  """Writes ``state`` after ``unit`` completed units (epochs / record steps) of the
  sweep whose config hash is ``config_hash``, on the data whose digest is
  ``data_sha256`` ("": none), after ``wall_time_s`` seconds of training in all
  (None: unknown)."""
  leaves = jax.tree.leaves(state)
  arrays = {f"leaf_{i:04d}": sharding.to_host(leaf) for i, leaf in enumerate(leaves)}
  arrays[_UNIT] = np.asarray(unit)
  arrays[_CONFIG_HASH] = np.asarray(config_hash)
  arrays[_DATA_SHA256] = np.asarray(data_sha256)
  arrays[_WALL_TIME_S] = np.asarray(math.nan if wall_time_s is None else float(wall_time_s))
  if jax.process_index() == 0:
    results.write_npz(_new_path(path), arrays)
    with contextlib.suppress(FileNotFoundError):  # the chunk's first checkpoint
      os.replace(path, previous_path(path))
    os.replace(_new_path(path), path)


def remove(path: str) -> None:
  """Deletes the checkpoints at ``path`` (of a finished chunk)."""
  for name in (path, previous_path(path), _new_path(path)):
    with contextlib.suppress(FileNotFoundError):
      os.remove(name)


def _host_shape(leaf) -> tuple[int, ...]:
  """Shape of ``leaf`` as :func:`sharding.to_host` stores it (keys as key data)."""
  if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
    return tuple(jax.random.key_data(leaf).shape)
  return tuple(np.shape(leaf))


def _read(path: str, leaves, config_hash: str, data_sha256: str):
  """``(stored leaves, unit, wall time or None)`` at ``path`` if it reads, is
  ``config_hash``'s, saw ``data_sha256``'s data and fits ``leaves``; else None."""
  try:
    arrays = results.read_npz(path)
  except FileNotFoundError:  # moved aside meanwhile by process 0
    return None
  except results.CorruptFileError as e:
    message = f"checkpoint {e}"
    if jax.process_index() == 0:  # every process reads it; one moves it
      message += f"; moved it aside to {results.set_aside(path)}"
    logging.warning("%s", message)
    return None
  written_by = str(arrays[_CONFIG_HASH]) if _CONFIG_HASH in arrays else None
  if written_by != config_hash:
    logging.warning(
        "checkpoint %s was written by a sweep with config_hash %s, not this one (%s); "
        "ignoring it",
        path,
        written_by or "unrecorded",
        config_hash,
    )
    return None
  # Checkpoints written before data was fingerprinted have no digest.
  seen = str(arrays.pop(_DATA_SHA256, data_sha256))
  if seen != data_sha256:
    logging.warning(
        "checkpoint %s was computed on other data (sha256 %s) than this run loads (%s): "
        "the data files changed; ignoring it",
        path,
        seen or "none",
        data_sha256 or "none",
    )
    return None
  # Checkpoints written before wall times were carried have none.
  wall_time_s = float(arrays.pop(_WALL_TIME_S, math.nan))
  stored = [arrays.get(f"leaf_{i:04d}") for i in range(len(leaves))]
  # Only the leaves are counted: a record added later (as the wall time
  # was) must not make older code discard the checkpoint.
  fits = (
      sum(k.startswith("leaf_") for k in arrays) == len(leaves)
      and _UNIT in arrays
      and all(s is not None and s.shape == _host_shape(t) for s, t in zip(stored, leaves))
  )
  if not fits:
    logging.warning("checkpoint %s does not fit this run's state; ignoring it", path)
    return None
  return stored, int(arrays[_UNIT]), None if math.isnan(wall_time_s) else wall_time_s


def restore(path: str, template, config_hash: str = "", data_sha256: str = "") -> Restored | None:
  """Returns a :class:`Restored` ``(state, unit, wall_time_s)`` from ``path`` or
  its previous checkpoint.

  Only a checkpoint written with ``config_hash`` (the sweep's) on the data
  of digest ``data_sha256`` is resumed.

  Returns:
    ``None`` if neither exists, reads and fits ``template``: the chunk
    restarts from scratch.
  """
  leaves, treedef = jax.tree.flatten(template)
  found = [p for p in (path, previous_path(path)) if os.path.exists(p)]
  for candidate in found:
    read = _read(candidate, leaves, config_hash, data_sha256)
    if read is not None:
      break
  else:
    if found:
      logging.warning("no usable checkpoint at %s; restarting the chunk from scratch", path)
    return None
  if candidate != path:
    logging.warning("resuming from the previous checkpoint %s", candidate)
  stored, unit, wall_time_s = read
  restored = [
      sharding.place_like(s, t)
      if isinstance(t, jax.Array)
      else type(t)(s)
      if np.ndim(s) == 0
      else s
      for s, t in zip(stored, leaves)
  ]
  return Restored(jax.tree.unflatten(treedef, restored), unit, wall_time_s)

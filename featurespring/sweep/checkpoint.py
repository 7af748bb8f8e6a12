"""Atomic NumPy checkpoints of a chunk's engine state.

The state is any pytree; its leaves are gathered to the host and written with
:func:`featurespring.sweep.results.write_npz` (temp file + ``os.replace``), so a
kill at any moment leaves the previous checkpoint intact. Restoring needs a
template state (a freshly initialised one) for the tree structure, shapes and
shardings; a checkpoint that does not fit it (e.g. written on a different
device count, so padded differently) is ignored and the chunk restarts.

A single ``.npz`` per chunk keeps this dependency-free and works the same on
every host count; orbax would add async saves we do not need at this size.
"""

from __future__ import annotations

import os

import jax
import numpy as np
from absl import logging

from featurespring.sweep import results
from featurespring import sharding

_UNIT = "__unit__"


def save(path: str, state, unit: int) -> None:
  """Writes ``state`` after ``unit`` completed units (epochs / record steps)."""
  leaves = jax.tree.leaves(state)
  arrays = {f"leaf_{i:04d}": sharding.to_host(leaf) for i, leaf in enumerate(leaves)}
  arrays[_UNIT] = np.asarray(unit)
  if jax.process_index() == 0:
    results.write_npz(path, arrays)


def _host_shape(leaf) -> tuple[int, ...]:
  """Shape of ``leaf`` as :func:`sharding.to_host` stores it (keys as key data)."""
  if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
    return tuple(jax.random.key_data(leaf).shape)
  return tuple(np.shape(leaf))


def restore(path: str, template):
  """Returns ``(state, unit)`` from ``path``, or ``None`` if absent or unfit."""
  if not os.path.exists(path):
    return None
  arrays = results.read_npz(path)
  leaves, treedef = jax.tree.flatten(template)
  stored = [arrays.get(f"leaf_{i:04d}") for i in range(len(leaves))]
  fits = (len(arrays) == len(leaves) + 1 and all(
      s is not None and s.shape == _host_shape(t) for s, t in zip(stored, leaves)))
  if not fits:
    logging.warning("checkpoint %s does not fit this run's state; restarting "
                    "the chunk from scratch", path)
    return None
  restored = [sharding.place_like(s, t) if isinstance(t, jax.Array)
              else type(t)(s) if np.ndim(s) == 0 else s
              for s, t in zip(stored, leaves)]
  return jax.tree.unflatten(treedef, restored), int(arrays[_UNIT])

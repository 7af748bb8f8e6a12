"""How many members fit on a device: footprint estimates and chunk sizing.

A chunk runs as one compiled program over its members, so the chunk size is
bounded by device memory: what every member keeps (its engine state: for a
network its parameters, optimiser state and BatchNorm statistics, the
metric history being kilobytes; for a chain its positions, parameters,
results and trajectory), held twice
because a call's input and output states are both alive (nothing is
donated), plus what one step needs transiently. For networks that is the
larger of the evaluation pass (the whole training set and the evaluated test
examples at once) and one training batch:

  ``max(examples x eval bytes per example x eval factor,
        batch x (features per example over the depth + 1 layers) x 4 bytes
        x train factor)``

with factors per model (`ACTIVATION_FACTORS`), measured, not derived: XLA's
buffer assignment of the whole epoch program (`compiled.memory_analysis()`
on CPU, temp bytes per added member).

- An MLP's evaluation keeps its layer features (``width x (depth + 1)``
  per example for an MLP whose input is as wide as its layers): 1.54x them
  for the paper's MLP (depth 7, width 100, 2560 + 2440 examples: 24.7 MB per
  member). With the eval factor rounded up to 2 the estimate was
  1.02-1.27x the measured bytes per member (state included) for that net and
  for small ones (depth 3-4, width 32-64, batches 64-1024).
- A CNN's evaluation does not keep its layers: it frees each after the
  layer's separation, and one convolution's working set (its 3x3 patches,
  `featurespring.models.conv_same`) dominates, so eval bytes are those of
  the widest single layer, about 20x them whatever the depth (measured
  2026-12-07 on MNIST at 10x10, width 16, 12560 evaluated examples and
  batches of 128: 1619 MB per member at depth 7, 1448 MB at depth 3,
  589 MB with 4560 examples). Its training step keeps every layer for the
  backward pass, about 14x the features of a batch (with 2816 evaluated
  examples: 1559 MB for depth 7 and a 2560 batch, 363 MB for depth 4 and
  1024, 71.5 MB for depth 3, width 8 and 512). With the factors rounded up
  to 21 and 15 the estimate was 1.04-1.17x measured on those nets. The
  MLP's factors had put Paper S2's CNN at 1136 MB per member against
  1555 measured, and its 30 nets in one chunk asked for 51 GB.

These are XLA:CPU's numbers. Elsewhere the CNN convolves with ``nn.Conv``
(`featurespring.models.CNN`'s ``impl``), whose working set is likely
smaller, so the estimate errs high there (smaller chunks, not failures);
GPU buffer assignment differs in detail too, and `SAFETY_FRACTION` leaves
room for it.
tests/test_sweep_memory.py keeps the estimate within 1.5x above the
measurement for a small MLP and for small CNNs whose training or whose
evaluation decides it.
Data shared by all members (the dataset and its concatenated evaluation
copy) is counted once per device.

`auto_chunk_size` divides a safety fraction of each device's free memory by
the footprint.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import NamedTuple

import jax
import ml_collections
import numpy as np

from featurespring.sweep import engine as engine_lib
from featurespring import grids as grid_lib


class ActivationFactors(NamedTuple):
  """Transient bytes of a step per byte of what it computes (module docstring)."""

  # Per byte of the evaluated examples' features: over all layers when the
  # evaluation keeps them (an MLP), else of the widest layer alone (a CNN).
  eval_factor: float
  eval_keeps_all_layers: bool
  # Per byte of a training batch's features over all layers: the backward
  # pass keeps them, plus gradients. The MLP's 3 is a bound not measured on
  # its own, since its evaluation dominated every measurement.
  train_factor: float


ACTIVATION_FACTORS = {
    "mlp": ActivationFactors(eval_factor=2.0, eval_keeps_all_layers=True, train_factor=3.0),
    "cnn": ActivationFactors(eval_factor=21.0, eval_keeps_all_layers=False, train_factor=15.0),
}

# Input and output states of a compiled call are alive together.
STATE_COPIES = 2
# Fraction of the free memory a chunk may plan to use: the estimate is not
# exact, and XLA needs room to compile and for fragmentation.
SAFETY_FRACTION = 0.7
# Free memory assumed per device when a backend reports none and the host's
# cannot be read either.
_FALLBACK_FREE_BYTES = 2 * 1024**3


def tree_bytes(tree) -> int:
  """Bytes of every leaf of a tree of arrays or shape structs (keys as key data)."""
  total = 0
  for leaf in jax.tree.leaves(tree):
    dtype = leaf.dtype
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
      # A typed key's itemsize is its key data's (two uint32 for threefry).
      data = jax.eval_shape(jax.random.key_data, jax.ShapeDtypeStruct((), dtype))
      itemsize = data.size * np.dtype(data.dtype).itemsize
    else:
      itemsize = np.dtype(dtype).itemsize
    total += math.prod(leaf.shape) * itemsize
  return total


def _grid(config, grid):
  return grid_lib.Grid.from_config(config) if grid is None else grid


def _group_chunks(config: ml_collections.ConfigDict, grid: grid_lib.Grid) -> list[grid_lib.Chunk]:
  """One chunk per static group: the groups' members."""
  engine_cls = engine_lib.engine_class(config)
  return grid_lib.plan_chunks(grid, grid.size, engine_cls.static_fields_of(config))


def _groups(config: ml_collections.ConfigDict, grid: grid_lib.Grid):
  """``(engine, one member's points)`` for each static group of the sweep."""
  engine_cls = engine_lib.engine_class(config)
  for chunk in _group_chunks(config, grid):
    points = engine_lib.member_points(engine_cls, config, grid, chunk.members[:1])
    yield engine_cls(config, chunk.static, grid), points


def activation_bytes(
    model: str,
    evaluated: int,
    batch: int,
    example_features_bytes: int,
    example_widest_layer_bytes: int,
) -> int:
  """Transient bytes of a network's step (see the module docstring).

  Args:
    model: the network's kind, a key of `ACTIVATION_FACTORS`.
    evaluated: how many examples the evaluation pass runs on at once.
    batch: how many examples a training batch has.
    example_features_bytes: one example's features over all layers.
    example_widest_layer_bytes: one example's features in its widest layer.
  """
  if model not in ACTIVATION_FACTORS:
    raise ValueError(f"model must be one of {sorted(ACTIVATION_FACTORS)}, got {model!r}")
  factors = ACTIVATION_FACTORS[model]
  eval_basis = (
      example_features_bytes if factors.eval_keeps_all_layers else example_widest_layer_bytes
  )
  return int(
      max(
          factors.eval_factor * evaluated * eval_basis,
          factors.train_factor * batch * example_features_bytes,
      )
  )


def _member_bytes(engine, points) -> int:
  """Device bytes of one member of ``engine``'s group (see the module docstring).

  An engine that knows its transient needs says so (`Engine.member_bytes`);
  for any other (chains: positions, parameters, keys, the preallocated
  trajectory) its real one-member state, a small compile, counts twice.
  Engines check their inputs on the host, which an abstract trace of init
  would not allow.
  """
  known = engine.member_bytes()
  if known is not None:
    return known
  return STATE_COPIES * tree_bytes(engine.init(points))


def estimate_member_bytes(
    config: ml_collections.ConfigDict, grid: grid_lib.Grid | None = None
) -> int:
  """Estimated device bytes per member: the largest over the static groups.

  Args:
    config: a sweep config (``featurespring.sweep.base_config`` or an
      experiment's ``get_config()``); a network sweep's dataset is loaded
      (and cached for the run) to learn its shapes.

  Returns:
    Bytes per member, shared data not included (see `shared_bytes`).
  """
  grid = _grid(config, grid)
  return max(_member_bytes(engine, points) for engine, points in _groups(config, grid))


def shared_bytes(config: ml_collections.ConfigDict, grid: grid_lib.Grid | None = None) -> int:
  """Device bytes every device holds once, whatever the chunk
  (`Engine.shared_bytes`: a network sweep's dataset, 0 for chains)."""
  engine, _ = next(_groups(config, _grid(config, grid)))
  return engine.shared_bytes()


class ChunkFit(NamedTuple):
  """A chunk's estimated bytes per device against the tightest device's free bytes."""

  needed: int
  free: int

  @property
  def fits(self) -> bool:
    """Whether the estimate stays within `SAFETY_FRACTION` of the free memory,
    the share `auto_chunk_size` plans for."""
    return self.needed <= SAFETY_FRACTION * self.free


def chunk_fit(
    config: ml_collections.ConfigDict,
    num_members: int,
    devices: Sequence,
    grid: grid_lib.Grid | None = None,
) -> ChunkFit:
  """How a chunk of ``num_members`` sharded over ``devices`` fits their memory:
  its share of members per device (rounded up) plus the shared data, against
  the least free memory among them."""
  grid = _grid(config, grid)
  member = estimate_member_bytes(config, grid)
  needed = -(-num_members // len(devices)) * member + shared_bytes(config, grid)
  return ChunkFit(needed, min(device_free_bytes(d) for d in devices))


def _host_available_bytes() -> int | None:
  """Available host RAM: ``MemAvailable`` of /proc/meminfo, else sysconf."""
  try:
    with open("/proc/meminfo") as meminfo:
      for line in meminfo:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  try:
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
  except (ValueError, OSError, AttributeError):
    return None


def device_free_bytes(device) -> int:
  """Free memory of ``device``: ``bytes_limit - bytes_in_use`` where the
  backend reports them (GPU, TPU), else the host's available RAM divided
  among the process's devices of that platform (CPU devices share it)."""
  stats = device.memory_stats() if hasattr(device, "memory_stats") else None
  if stats and "bytes_limit" in stats:
    return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
  available = _host_available_bytes()
  if available is None:
    return _FALLBACK_FREE_BYTES
  sharing = sum(d.platform == device.platform for d in jax.local_devices())
  return available // max(sharing, 1)


def auto_chunk_size(
    config: ml_collections.ConfigDict,
    devices: Sequence | None = None,
    safety: float = SAFETY_FRACTION,
    grid: grid_lib.Grid | None = None,
) -> int:
  """A chunk size whose members fit ``devices``' free memory.

  Each device holds ``chunk / len(devices)`` members (the member axis is
  sharded evenly), so at most the members that fit the tightest device
  times the device count, and at least one member per device. The runner
  pads every chunk to the longest, so the size is then balanced: the
  largest static group is cut into as few chunks as fit, of equal size
  (960 members that fit 900 at a time run as 2 x 480, not 900 + 60 padded
  to 900). A group that fits whole is one chunk.

  Args:
    config: a sweep config.
    devices: the devices one chunk is sharded over (default: all of them,
      as `featurespring.sharding.member_mesh` uses).
    safety: fraction of the free memory to plan for, in ``(0, 1]``.
    grid: the sweep's grid, if already built.

  Returns:
    A chunk size: a multiple of the device count unless capped by the grid.
  """
  if not 0 < safety <= 1:
    raise ValueError(f"safety must be in (0, 1], got {safety}")
  grid = _grid(config, grid)
  devices = list(jax.devices() if devices is None else devices)
  member, shared = estimate_member_bytes(config, grid), shared_bytes(config, grid)
  free = min(device_free_bytes(d) for d in devices)
  per_device = max(int((safety * free - shared) // member), 1)
  fit, count = per_device * len(devices), len(devices)
  group = max(len(chunk.members) for chunk in _group_chunks(config, grid))
  if group <= fit:
    return group
  num_chunks = -(-group // fit)
  while True:
    size = -(-group // num_chunks)
    size = -(-size // count) * count  # whole members per device
    if size <= fit:
      return size
    num_chunks += 1

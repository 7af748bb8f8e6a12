"""A grid of runs: named axes <-> one flat member axis, and its compiled batches.

A sweep runs every combination of the values in ``config.grid`` times
``config.seeds`` independent runs. Each combination is one *member*; members
are numbered by their flat (C-order) index into the grid's shape, so one flat
index array is all it takes to name a batch of runs, and results gathered in
any order scatter back into ``[*grid.shape, ...]`` arrays with named axes.

Two kinds of ``config.grid`` entries:

- a tuple of values: an independent axis sweeping the engine field of the same
  name (``config.grid.noise = (0.0, 0.1)`` sweeps ``config.<engine>.noise``);
- a ConfigDict of equal-length tuples: a *zipped* axis whose fields move
  together, one case per position (e.g. learning rate, dropout and batch size
  moving jointly). Its axis values are the case indices ``0..n-1``.

The ``seed`` axis is always last: ``config.seeds`` runs with the integer seeds
``config.seed, config.seed + 1, ...``; each engine derives a run's randomness
from its seed alone, so a run does not depend on the chunk it runs in.

Members that share the values of every shape-changing (static) field (depth,
width, batch size, chain length) form a *group* that one compile can run;
:func:`plan_chunks` cuts each group into :class:`Chunk` s of at most
``chunk_size`` members. Sweeps (:mod:`featurespring.sweep`) and
:func:`featurespring.train.train_grid` both group, pad and scatter through
this module, which depends on neither.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import ml_collections
import numpy as np

SEED_AXIS = "seed"
# Largest seed of a run: engines derive keys from int32 seeds.
MAX_SEED = 2**31 - 1
# Most runs one sweep plans: its manifest (JSON) lists each run's index,
# about 80 MB at this size, and every task reads it.
MAX_RUNS = 10**7


@dataclasses.dataclass(frozen=True)
class Axis:
  """One named grid axis.

  Attributes:
    name: axis name (``config.grid`` key, or ``seed``).
    values: the axis coordinates, shape ``[n]`` (case indices for a zipped axis).
    fields: engine field name -> values ``[n]`` that this axis sets per position.
  """

  name: str
  values: np.ndarray
  fields: Mapping[str, np.ndarray]

  def __len__(self):
    return len(self.values)


def _as_values(name, values, unique=True):
  """Axis values as a 1-D array, with a clear error naming the field.

  ``unique``: an independent axis may not repeat a value; a zipped axis's
  fields may (its cases differ in some field).
  """
  if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
    values = (values,)
  array = np.asarray(values)
  if array.ndim != 1 or array.size == 0:
    raise ValueError(
        f"config.grid.{name} must be a non-empty 1-D tuple of " f"values, got {values!r}"
    )
  if array.dtype == object:
    raise ValueError(f"config.grid.{name} mixes value types: {values!r}")
  repeated, counts = np.unique(array, return_counts=True)
  if unique and (counts > 1).any():
    # Each value would run twice and label two cells with one coordinate.
    raise ValueError(
        f"config.grid.{name} repeats {repeated[counts > 1].tolist()}: each value once, "
        f"got {values!r}"
    )
  return array


@dataclasses.dataclass(frozen=True)
class Grid:
  """Named axes of a sweep and the flat member numbering over them."""

  axes: tuple[Axis, ...]

  @classmethod
  def from_config(cls, config: ml_collections.ConfigDict) -> "Grid":
    """Builds the grid from ``config.grid`` (sorted by name) and ``config.seeds``."""
    if int(config.seeds) < 1:
      raise ValueError(f"config.seeds must be >= 1, got {config.seeds}")
    axes = []
    # ConfigDict iterates in sorted key order: the axis order is alphabetical,
    # which is stable under command-line overrides.
    for name, entry in config.grid.items():
      if name == SEED_AXIS:
        raise ValueError("config.grid.seed is reserved; set config.seeds instead")
      if isinstance(entry, (ml_collections.ConfigDict, Mapping)):
        fields = {f: _as_values(f"{name}.{f}", v, unique=False) for f, v in entry.items()}
        lengths = {f: len(v) for f, v in fields.items()}
        if not fields or len(set(lengths.values())) != 1:
          raise ValueError(
              f"config.grid.{name} is a zipped axis: its fields must "
              f"be tuples of one common length, got {lengths}"
          )
        n = next(iter(lengths.values()))
        axes.append(Axis(name, np.arange(n), fields))
      else:
        values = _as_values(name, entry)
        axes.append(Axis(name, values, {name: values}))
    seed, count = config.seed, int(config.seeds)
    if isinstance(seed, bool) or not float(seed).is_integer():
      raise ValueError(f"config.seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED - (count - 1):
      # Engines turn seeds into 32-bit keys: a larger one would wrap onto
      # another seed's runs while the results recorded the given one.
      raise ValueError(
          f"config.seed must be in [0, {MAX_SEED - (count - 1)}] so that all "
          f"config.seeds={count} seeds lie in [0, {MAX_SEED}], got {seed}"
      )
    runs = math.prod(len(axis) for axis in axes) * count
    if runs > MAX_RUNS:
      # Checked before any per-run array exists: at 10**9 runs the member
      # indices alone take 8 GB, and the manifest lists every one.
      shape = " x ".join(str(len(a)) for a in axes) + (" x " if axes else "") + str(count)
      raise ValueError(
          f"config.seeds={count} and config.grid make {runs:,} runs ({shape}); a sweep "
          f"holds at most {MAX_RUNS:,} (its manifest lists every run): split it into "
          "several sweeps (other config.seed / grid values), or fewer seeds"
      )
    seeds = int(seed) + np.arange(count)
    axes.append(Axis(SEED_AXIS, seeds, {SEED_AXIS: seeds}))
    return cls(tuple(axes))

  @property
  def names(self) -> tuple[str, ...]:
    return tuple(axis.name for axis in self.axes)

  @property
  def shape(self) -> tuple[int, ...]:
    return tuple(len(axis) for axis in self.axes)

  @property
  def size(self) -> int:
    return int(np.prod(self.shape))

  @property
  def fields(self) -> tuple[str, ...]:
    """Every engine field that some axis sets (``seed`` included)."""
    return tuple(f for axis in self.axes for f in axis.fields)

  def axis(self, name: str) -> Axis:
    for axis in self.axes:
      if axis.name == name:
        return axis
    raise KeyError(f"no grid axis {name!r}; axes are {self.names}")

  def points(self, members: np.ndarray) -> dict[str, np.ndarray]:
    """Field values per member: field name -> ``[len(members)]`` array."""
    members = np.asarray(members)
    positions = np.unravel_index(members, self.shape)
    return {
        field: values[position]
        for axis, position in zip(self.axes, positions)
        for field, values in axis.fields.items()
    }

  def to_named(self, per_member: np.ndarray) -> np.ndarray:
    """Reshapes a ``[grid.size, ...]`` array to ``[*grid.shape, ...]``."""
    return np.reshape(per_member, self.shape + np.shape(per_member)[1:])

  def describe(self) -> dict:
    """JSON-ready description: names, values and zipped fields of every axis."""
    return {
        axis.name: {
            "values": axis.values.tolist(),
            "fields": {f: v.tolist() for f, v in axis.fields.items()},
        }
        for axis in self.axes
    }


def pad_value(dtype):
  """What fills the cells a group does not reach: NaN, False or -1."""
  dtype = np.dtype(dtype)
  return {"f": np.nan, "b": False}.get(dtype.kind, -1)


def scatter_members(
    parts: Sequence[tuple[np.ndarray, Mapping[str, np.ndarray]]], size: int
) -> dict[str, np.ndarray]:
  """Per-batch results back into one ``[size, ...]`` array per key.

  Args:
    parts: ``(members, {key: [len(members), ...]})`` per batch (a chunk, a
      static group), members being flat grid indices.
    size: the grid's size.

  Returns:
    ``{key: [size, ...]}``. Axes after the member axis that differ between
    batches (the layers of nets of other depths, the evaluations per epoch
    of other batch sizes) are padded at the end to the largest, with
    :func:`pad_value`; so are members no batch holds.
  """
  out = {}
  for key in parts[0][1]:
    arrays = [np.asarray(arrays_[key]) for _, arrays_ in parts]
    trailing = (
        tuple(np.max([a.shape[1:] for a in arrays], axis=0).astype(int))
        if arrays[0].ndim > 1
        else ()
    )
    dtype = np.result_type(*arrays)
    out[key] = np.full((size,) + trailing, pad_value(dtype), dtype=dtype)
    for (members, _), array in zip(parts, arrays):
      out[key][(np.asarray(members),) + tuple(slice(0, n) for n in array.shape[1:])] = array
  return out


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


def plan_chunks(grid: Grid, chunk_size: int, static_fields: Sequence[str] = ()) -> list[Chunk]:
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

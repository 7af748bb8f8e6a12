"""The engine interface: what the sweep layer needs from a simulator.

An engine advances a batch of independent runs (chains or nets), one per
member of a chunk, as one jitted computation over a leading member axis:

- ``init(points) -> state``: a pytree whose per-member leaves lead with the
  member axis; ``points`` maps each swept field, and ``seed``, to a
  ``[members]`` array (sharded over devices). A run's randomness must derive
  from its integer ``seed`` alone; members of different grid cells with the
  same seed then share their draws (common random numbers), so differences
  between cells come from the swept values, which smooths phase diagrams;
- ``advance(state, n) -> state``: ``n`` more units (epochs, or blocks of chain
  steps); running ``a`` then ``b`` units equals running ``a + b``, which is what
  lets a sweep checkpoint between calls and resume exactly;
- ``finalize(state) -> {name: [members, ...]}``: the per-member results.

Engines are built once per static group (the values of the shape-changing
fields, e.g. depth or chain length) and configured from ``config.<name>``,
where ``name`` is the engine's registry name (``config.engine``).
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Mapping
from typing import Any

import jax
import ml_collections
import numpy as np

from featurespring import grids as grid_lib

# Engine name (``config.engine``) -> "module:class"; imported lazily so that a
# spring sweep never imports Flax or the datasets.
ENGINES = {
    "springs": "featurespring.sweep.springs_engine:SpringsEngine",
    "dnn": "featurespring.sweep.dnn_engine:DnnEngine",
}


class Engine(abc.ABC):
  """A batch of runs that the sweep layer can init, advance and finalize."""

  name: str = ""
  unit_name: str = "unit"
  member_name: str = "run"  # one member of the grid, as progress lines count it
  # Sweep-level defaults that depend on the engine (see sweep.base_config).
  default_chunk_size: int = 4096
  default_plot_y: str = "alpha"
  # Fields that change array shapes; members differing in them compile apart.
  # Swept string or bool fields are static too, automatically.
  static_fields: tuple[str, ...] = ()

  def __init__(
      self, config: ml_collections.ConfigDict, static: Mapping[str, Any], grid: grid_lib.Grid
  ):
    """Builds the engine for ``config`` with the static fields set to ``static``.

    ``grid`` is the sweep's grid, built once per run (`runner.plan`).
    """
    self.config = config
    self.static = dict(static)
    self.grid = grid

  @classmethod
  def with_static(
      cls, config: ml_collections.ConfigDict, static: Mapping[str, Any]
  ) -> ml_collections.ConfigDict:
    """A copy of ``config`` with ``config.<name>`` set to one static group's values."""
    config = ml_collections.ConfigDict(config.to_dict())
    getattr(config, cls.name).update(dict(static))
    return config

  @classmethod
  def units_of(cls, config: ml_collections.ConfigDict, static: Mapping[str, Any]) -> int:
    """:meth:`num_units` of one static group: a swept length (``num_epochs``,
    ``num_steps``) is a static field, so groups can differ."""
    return cls.num_units(cls.with_static(config, static))

  @property
  def total_units(self) -> int:
    """Units one run of this engine's static group takes."""
    return self.units_of(self.config, self.static)

  @classmethod
  @abc.abstractmethod
  def settings(cls) -> list:
    """Every ``config.<name>`` field as a `featurespring.schema.Setting`."""

  @classmethod
  def default_config(cls) -> ml_collections.ConfigDict:
    """``config.<name>``: every engine setting with its default."""
    from featurespring import schema  # pylint: disable=g-import-not-at-top

    return schema.to_config(cls.settings())

  @classmethod
  def output_dims(cls, key: str, trailing_ndim: int) -> tuple[str, ...]:
    """Names of the per-run axes of output ``key`` (``sweep.load``'s dims).

    The default calls a load curve's axis ``layer``; engines name the rest.
    May return fewer names than ``trailing_ndim``: the others get generic ones.
    """
    del key
    return ("layer",) * min(trailing_ndim, 1)

  @classmethod
  def runlocal(cls, config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Shrinks ``config.<name>`` to a smoke test of seconds, in place."""
    return config

  @classmethod
  def static_fields_of(cls, config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """Static fields of this engine under ``config`` (declared + str/bool ones)."""
    fields = getattr(config, cls.name)
    implicit = tuple(f for f, v in fields.items() if isinstance(v, (str, bool)))
    return tuple(dict.fromkeys(cls.static_fields + implicit))

  @classmethod
  def static_groups(
      cls, config: ml_collections.ConfigDict, grid: grid_lib.Grid
  ) -> list[ml_collections.ConfigDict]:
    """``config.<name>`` once per distinct combination of swept static values."""
    groups = []
    for chunk in grid_lib.plan_chunks(grid, grid.size, cls.static_fields_of(config)):
      fields = ml_collections.ConfigDict(getattr(config, cls.name).to_dict())
      fields.update(chunk.static)
      groups.append(fields)
    return groups

  @classmethod
  def validate(cls, config: ml_collections.ConfigDict, grid: grid_lib.Grid) -> None:
    """Raises a ``ValueError`` naming the field for any bad config value.

    The base checks that every swept field exists in ``config.<name>`` and
    has values of the field's type; engines add range checks.
    """
    fields = getattr(config, cls.name, None)
    if fields is None:
      raise ValueError(f"config.engine={cls.name!r} needs a config.{cls.name} group")
    for field in grid.fields:
      if field == grid_lib.SEED_AXIS:
        continue
      if field not in fields:
        raise ValueError(
            f"config.grid sweeps {field!r}, which is not a field of "
            f"config.{cls.name} (fields: {sorted(fields.keys())})"
        )
      default, values = fields[field], grid.points(np.arange(grid.size))[field]
      if isinstance(default, (int, float)) and not isinstance(default, bool):
        if not np.issubdtype(values.dtype, np.number):
          raise ValueError(
              f"config.grid.{field} must hold numbers like "
              f"config.{cls.name}.{field}, got {values.tolist()}"
          )
      elif isinstance(default, (str, bool)) and values.dtype.kind != np.asarray(default).dtype.kind:
        raise ValueError(
            f"config.grid.{field} must hold {type(default).__name__} "
            f"values like config.{cls.name}.{field}, got {values.tolist()}"
        )

  @classmethod
  @abc.abstractmethod
  def num_units(cls, config: ml_collections.ConfigDict) -> int:
    """Units (epochs, blocks of steps) that one run of ``config`` takes."""

  @abc.abstractmethod
  def init(self, points: Mapping[str, jax.Array]):
    """Initial state of a batch; see the module docstring."""

  @abc.abstractmethod
  def advance(self, state, num_units: int):
    """``num_units`` more units of every run in ``state``."""

  @abc.abstractmethod
  def finalize(self, state) -> dict[str, jax.Array]:
    """Per-member results, each leading with the member axis."""

  def data_identity(self) -> dict | None:
    """The data this engine's runs see: ``{"settings": {...}, "sha256": ...}``.

    Recorded in every part and checkpoint, so that a chunk is never resumed,
    nor merged beside others, on other data than the same settings gave them
    (files replaced between two array tasks). None: no data (the default).
    """
    return None

  def member_bytes(self) -> int | None:
    """Device bytes one member needs, where the engine can tell without
    running (`featurespring.sweep.memory`); None: measure its state."""
    return None

  def shared_bytes(self) -> int:
    """Device bytes every device holds once, whatever the chunk (data)."""
    return 0

  def scalars(self, state, num_members: int, start: int, end: int):
    """``[(unit, {name: value})]`` for the units ``start < unit <= end`` just run.

    The live summaries of `featurespring.summaries` (quantiles over the
    chunk's ``num_members`` runs); none by default.
    """
    del state, num_members, start, end
    return []

  def summary(self, state, num_members: int) -> str | None:
    """One line on the population's health after an ``advance``, or None.

    Logged at every checkpoint of a chunk; ``num_members`` leaves out the
    padding members at the end of the member axis.
    """
    del state, num_members
    return None


def member_points(
    engine_cls: type[Engine],
    config: ml_collections.ConfigDict,
    grid: grid_lib.Grid,
    members: np.ndarray,
) -> dict[str, np.ndarray]:
  """``engine_cls.init``'s ``points``: the non-static fields of ``members``.

  Host values are float64/int64; the devices compute in JAX's default types,
  so they are cast here, as every caller (runner, dry run, memory) places them.
  """
  static_fields = set(engine_cls.static_fields_of(config))
  return {
      f: np.asarray(v, jax.dtypes.canonicalize_dtype(v.dtype))
      for f, v in grid.points(members).items()
      if f not in static_fields
  }


def engine_class_named(engine: str) -> type[Engine]:
  """The engine class called ``engine`` (a registry name or "module:Class")."""
  spec = ENGINES.get(engine, engine)
  if not isinstance(spec, str) or ":" not in spec:
    raise ValueError(
        f"config.engine must be one of {sorted(ENGINES)} or a "
        f"'module:Class' path, got {engine!r}"
    )
  module, cls = spec.split(":")
  return getattr(importlib.import_module(module), cls)


def engine_class(config: ml_collections.ConfigDict) -> type[Engine]:
  """The engine class that ``config.engine`` names (or a "module:Class" path)."""
  return engine_class_named(config.engine)

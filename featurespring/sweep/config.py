"""The sweep config: common fields, and the base that experiment files extend.

An experiment file in ``experiments/`` is ``get_config(arg)`` returning
``base_config(engine)`` with its grid and engine fields set. Every field can
be overridden from the command line (``--config.seeds=3``,
``--config.grid.noise='(0.0,0.1)'``, ``--config.springs.num_steps=500``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os

import ml_collections

from featurespring.sweep import engine as engine_lib


@dataclasses.dataclass(frozen=True)
class SweepSettings:
  """The fields of every sweep config, whatever its engine (``config.<field>``).

  Attributes:
    engine: which engine runs the grid: ``springs`` (chains), ``dnn``
      (networks) or a ``"module:Class"`` path to an engine of your own.
    seed: root seed; each run derives its randomness from ``seed`` plus its
      index on the seed axis, so a run does not depend on its chunk.
    seeds: independent runs per grid cell: the last grid axis, ``seed``.
    chunk_size: most runs per compiled batch (and per part file); 0 sizes
      chunks from the devices' free memory; None: the engine's default.
    checkpoint_every: units (epochs for networks, segments for chains)
      between checkpoints of an unfinished chunk.
  """

  engine: str = "springs"
  seed: int = 0
  seeds: int = 1
  chunk_size: int | None = None
  checkpoint_every: int = 10


@dataclasses.dataclass(frozen=True)
class ProgressSettings:
  """How a running sweep reports itself (``config.progress.<field>``).

  Attributes:
    log_every_s: seconds between progress lines (rate, ETA, metric
      quantiles).
    summaries: live per-unit summaries written under
      ``<workdir>/summaries/<chunk>/`` (`featurespring.summaries`):
      ``"jsonl"``, ``"tensorboard"`` (needs tensorboardX) or both,
      comma-separated; empty: none.
  """

  log_every_s: float = 10.0
  summaries: str = ""


@dataclasses.dataclass(frozen=True)
class PlotSettings:
  """What ``launch.plot`` draws of a finished sweep (``config.plot.<field>``).

  Attributes:
    x: the grid axis on the phase diagram's x axis (the noise knob).
    y: the grid axis on its y axis (nonlinearity for networks, friction for
      chains); None: the engine's default.
    log_x: a logarithmic x axis (learning rate, batch size).
    metric: the result array that colours the phase diagram.
  """

  x: str = "noise"
  y: str | None = None
  log_x: bool = False
  metric: str = "curvature"


def _defaults(cls, **engine_defaults) -> dict:
  values = {f.name: f.default for f in dataclasses.fields(cls)}
  values.update({k: v for k, v in engine_defaults.items() if values.get(k) is None})
  return values


def base_config(engine: str) -> ml_collections.ConfigDict:
  """Common sweep fields plus ``config.<engine>``, the engine's own defaults.

  The common fields are those of :class:`SweepSettings`,
  :class:`ProgressSettings` (``config.progress``) and :class:`PlotSettings`
  (``config.plot``); ``config.grid`` maps axis names to values, each axis
  sweeping ``config.<engine>.<axis>``.

  Args:
    engine: ``'springs'``, ``'dnn'`` or a ``"module:Class"`` engine path.
  """
  engine_cls = engine_lib.engine_class_named(engine)
  common = _defaults(SweepSettings, chunk_size=engine_cls.default_chunk_size)
  c = ml_collections.ConfigDict()
  c.engine = engine
  c.seed = common["seed"]
  c.seeds = common["seeds"]
  c.grid = ml_collections.ConfigDict()
  c.chunk_size = common["chunk_size"]
  c.checkpoint_every = common["checkpoint_every"]
  c.progress = ml_collections.ConfigDict(_defaults(ProgressSettings))
  c.plot = ml_collections.ConfigDict(_defaults(PlotSettings, y=engine_cls.default_plot_y))
  c[engine_cls.name] = engine_cls.default_config()
  return c


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """Parses a config-file argument ``"runlocal,variant=sgd"`` into flags.

  ``--config=experiments/x.py:runlocal`` passes ``"runlocal"`` to
  ``get_config``; each comma-separated ``name`` sets a bool default to True
  and ``name=value`` sets a string default. Unknown names raise, so a typo
  does not silently run the full-size sweep.
  """
  parsed = ml_collections.ConfigDict(defaults)
  for item in filter(None, (arg or "").split(",")):
    name, _, value = item.partition("=")
    if name not in parsed:
      raise ValueError(f"unknown config argument {name!r}; known: {sorted(defaults)}")
    parsed[name] = value if value else True
  return parsed


def load_config(spec: str) -> ml_collections.ConfigDict:
  """Loads ``"path/to/config.py[:arg]"`` as ``--config=`` would (for notebooks, tests)."""
  path, _, arg = spec.partition(":")
  module_spec = importlib.util.spec_from_file_location(
      "_featurespring_config_" + os.path.splitext(os.path.basename(path))[0], path
  )
  if module_spec is None:
    raise FileNotFoundError(f"no config file at {path}")
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg) if arg else module.get_config()


def runlocal(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Shrinks a figure's config to a smoke test of seconds (``:runlocal``).

  One seed and the first and last value of every independent grid axis
  (zipped axes are kept whole); then the engine shrinks its own settings
  (`Engine.runlocal`).
  """
  config.seeds = 1
  for name, values in config.grid.items():
    if not isinstance(values, ml_collections.ConfigDict):
      config.grid[name] = tuple(dict.fromkeys((values[0], values[-1])))
  return engine_lib.engine_class(config).runlocal(config)


def reference_markdown() -> str:
  """``docs/config.md``: every engine setting, its default, home and meaning.

  Regenerate with ``python -m launch.docs`` (a test checks that the file is
  current).
  """
  from featurespring import schema  # pylint: disable=g-import-not-at-top

  parts = [
      "# Config reference",
      "",
      "Generated from the dataclasses that define each setting "
      "(`python -m launch.docs`); each is "
      "`config.<engine>.<field>` in a sweep config, `--config.<engine>.<field>=...` "
      "on the command line, and a grid axis with `--config.grid.<field>='(a,b)'` "
      "(fields that change shapes compile once per value).",
  ]
  engines = [engine_lib.engine_class_named(name) for name in sorted(engine_lib.ENGINES)]
  per_engine = lambda attr: ", ".join(f"{e.name} `{getattr(e, attr)!r}`" for e in engines)
  common = [
      ("config", SweepSettings, f"chunk_size: the engine's ({per_engine('default_chunk_size')})"),
      ("config.progress", ProgressSettings, None),
      ("config.plot", PlotSettings, f"y: the engine's ({per_engine('default_plot_y')})"),
  ]
  for prefix, cls, note in common:
    parts += ["", f"## `{prefix}`", "", schema.markdown_table(schema.dataclass_settings(cls))]
    if note:
      parts += ["", f"None defaults: {note}."]
  parts += [
      "",
      "`config.grid`: axis name -> tuple of values (each sweeps "
      "`config.<engine>.<name>`), or a dict of equal-length tuples for a zipped axis "
      "whose fields move together; the `seed` axis comes from `config.seeds`.",
  ]
  for name in sorted(engine_lib.ENGINES):
    engine_cls = engine_lib.engine_class_named(name)
    parts += ["", f"## `config.{name}`", "", schema.markdown_table(engine_cls.settings())]
  return "\n".join(parts) + "\n"

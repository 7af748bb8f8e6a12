"""The sweep config: common fields, and the base that experiment files extend.

An experiment file in ``experiments/`` is ``get_config(arg)`` returning
``base_config(engine)`` with its grid and engine fields set. Every field can
be overridden from the command line (``--config.seeds=3``,
``--config.grid.noise='(0.0,0.1)'``, ``--config.springs.num_steps=500``).
"""

from __future__ import annotations

import importlib.util
import os

import ml_collections

from featurespring.sweep import engine as engine_lib


def base_config(engine: str) -> ml_collections.ConfigDict:
  """Common sweep fields plus ``config.<engine>``, the engine's own defaults.

  Args:
    engine: ``'springs'``, ``'dnn'`` or a ``"module:Class"`` engine path.
  """
  engine_cls = engine_lib.engine_class_named(engine)
  c = ml_collections.ConfigDict()
  c.engine = engine  # springs | dnn (or a "module:Class" engine)
  c.seed = 0  # root PRNG seed; member keys fold in the seed index
  c.seeds = 1  # independent runs per grid cell (the last grid axis)
  c.grid = ml_collections.ConfigDict()  # axis -> values; each sweeps config.<engine>.<axis>
  c.chunk_size = engine_cls.default_chunk_size  # most members per compiled batch (and part file)
  c.checkpoint_every = 10  # units (epochs, segments) between checkpoints of a chunk
  c.progress = ml_collections.ConfigDict()
  c.progress.log_every_s = 10.0  # seconds between progress lines
  c.plot = ml_collections.ConfigDict()
  c.plot.x = "noise"  # grid axis on the phase diagram's x axis (noise knob)
  c.plot.y = engine_cls.default_plot_y  # grid axis on its y axis (nonlinearity, friction)
  c.plot.log_x = False  # logarithmic x axis (learning rate, batch size)
  c.plot.metric = "curvature"  # colour of the phase diagram
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
  for name in sorted(engine_lib.ENGINES):
    engine_cls = engine_lib.engine_class_named(name)
    parts += ["", f"## `config.{name}`", "", schema.markdown_table(engine_cls.settings())]
  return "\n".join(parts) + "\n"

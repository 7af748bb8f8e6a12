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


def base_config(engine: str) -> ml_collections.ConfigDict:
  """Common sweep fields plus ``config.<engine>`` defaults.

  Args:
    engine: ``'springs'`` or ``'dnn'``.
  """
  c = ml_collections.ConfigDict()
  c.engine = engine                 # springs | dnn (or a "module:Class" engine)
  c.seed = 0                        # root PRNG seed; member keys fold in the seed index
  c.seeds = 1                       # independent runs per grid cell (the last grid axis)
  c.grid = ml_collections.ConfigDict()  # axis -> values; each sweeps config.<engine>.<axis>
  c.chunk_size = 4096               # most members per compiled batch (and per part file)
  c.checkpoint_every = 10           # units (epochs) between checkpoints of a chunk
  c.progress = ml_collections.ConfigDict()
  c.progress.log_every_s = 10.0     # seconds between progress lines
  c.plot = ml_collections.ConfigDict()
  c.plot.x = "noise"                # grid axis on the phase diagram's x axis (noise knob)
  c.plot.y = "alpha"                # grid axis on its y axis (nonlinearity)
  c.plot.log_x = False              # logarithmic x axis (learning rate, batch size)
  c.plot.metric = "curvature"       # colour of the phase diagram
  if engine == "springs":
    from featurespring.sweep import springs_engine  # pylint: disable=g-import-not-at-top
    c.springs = springs_engine.default_config()
    c.plot.y = "mu"
  elif engine == "dnn":
    from featurespring.sweep import dnn_engine  # pylint: disable=g-import-not-at-top
    c.dnn = dnn_engine.default_config()
    # Nets hold activations for the whole training + test set at evaluation.
    c.chunk_size = 128
  else:
    raise ValueError(f"engine must be 'springs' or 'dnn', got {engine!r}")
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
      "_featurespring_config_" + os.path.splitext(os.path.basename(path))[0], path)
  if module_spec is None:
    raise FileNotFoundError(f"no config file at {path}")
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg) if arg else module.get_config()


def runlocal(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Shrinks a figure's config to a smoke test of seconds (``:runlocal``).

  One seed, the first and last value of every independent grid axis (zipped
  axes are kept whole), and tiny engine settings: embedded MNIST subsets in
  place of file-backed datasets (built-in ones are kept), a 3 x 16 network
  and 2 epochs (a dropout switch moves to epoch 1); chains of 500 steps.
  """
  config.seeds = 1
  for name, values in config.grid.items():
    if not isinstance(values, ml_collections.ConfigDict):
      config.grid[name] = tuple(dict.fromkeys((values[0], values[-1])))
  if config.engine == "dnn":
    dnn = config.dnn
    if dnn.dataset == "orthogonal_binary":
      # Its examples are rows of a dim x dim matrix: at most dim of them.
      dnn.num_train, dnn.num_test = min(dnn.num_train, 100), min(dnn.num_test or 100, 100)
    else:
      if dnn.dataset not in ("synthetic", "mnist_embedded"):
        dnn.dataset = "mnist_embedded"  # no files needed
      dnn.num_train = dnn.num_test = 256
    dnn.test_eval_size = 0
    dnn.depth, dnn.width, dnn.num_epochs, dnn.eval_every = 3, 16, 2, 1
    dnn.batch_size = min(dnn.batch_size, dnn.num_train)
    if dnn.dropout_switch_epoch:
      dnn.dropout_switch_epoch = 1
    if "batch_size" in config.grid:
      config.grid.batch_size = tuple(dict.fromkeys(min(b, dnn.num_train)
                                                   for b in config.grid.batch_size))
    if dnn.eval_every_steps:
      # At most the steps per epoch of the largest batch.
      largest = max(config.grid.get("batch_size", (dnn.batch_size,)))
      dnn.eval_every_steps = min(dnn.eval_every_steps, dnn.num_train // largest)
    dnn.resize = (10, 10)
    dnn.grayscale = False
    config.checkpoint_every = 1
  elif config.engine == "springs":
    config.springs.num_steps = 500
    config.springs.record_every = 100 if config.springs.record_every else 0
    config.springs.unroll = 1
  return config

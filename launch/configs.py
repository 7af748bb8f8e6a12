"""Experiment configs by name or path: ``--config=fig1c_dropout`` as well as a file.

The figure configs ship with the package (``experiments/<name>.py``, and the
studies' own under ``experiments/<study>/``), so a name works from any
directory; a path that exists is used as it is. Mistakes end in one line
(:class:`ConfigError`) instead of a traceback from the config loader.
"""

from __future__ import annotations

import difflib
import glob
import os

import experiments
from featurespring import sweep

EXPERIMENTS_DIR = os.path.dirname(os.path.abspath(experiments.__file__))


class ConfigError(ValueError):
  """A config argument that names no config, or one that does not load."""


def shipped() -> list[str]:
  """Names of the shipped sweep configs (``fig1c_dropout``, ``control/control_fig1c``)."""
  names = []
  for path in glob.glob(os.path.join(EXPERIMENTS_DIR, "**", "*.py"), recursive=True):
    with open(path, encoding="utf-8") as f:
      if "def get_config" in f.read():
        names.append(os.path.relpath(path, EXPERIMENTS_DIR)[: -len(".py")])
  return sorted(names)


def resolve(spec: str) -> str:
  """``"name_or_path[:arg]"`` with a shipped name replaced by its file's path.

  Raises:
    ConfigError: neither an existing file nor a shipped name (with the
      closest shipped names).
  """
  path, sep, arg = spec.partition(":")
  if os.path.isfile(path):
    return spec
  name = path[: -len(".py")] if path.endswith(".py") else path
  name = name[len("experiments/") :] if name.startswith("experiments/") else name
  if name in shipped():
    return os.path.join(EXPERIMENTS_DIR, name + ".py") + sep + arg
  close = difflib.get_close_matches(name, shipped(), n=3)
  hint = f"; did you mean {', '.join(close)}?" if close else f"; shipped: {', '.join(shipped())}"
  raise ConfigError(f"--config={spec}: no config file at {path} and no shipped config {name}{hint}")


def check(spec: str) -> str:
  """Resolves ``spec`` and loads it once, so that its mistakes read as one line.

  Returns:
    The resolved spec (a path, with its ``:arg``).

  Raises:
    ConfigError: the file is missing, its ``:arg`` is unknown, or it fails
      to build (the first line of the error, naming the config).
  """
  resolved = resolve(spec)
  try:
    config = sweep.load_config(resolved)
  except Exception as err:  # pylint: disable=broad-except  (any failure of user code)
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    raise ConfigError(f"--config={spec}: {first}") from err
  try:
    sweep.check_common_fields(config)
  except ValueError as err:
    raise ConfigError(f"--config={spec}: {err}") from err
  return resolved

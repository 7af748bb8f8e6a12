"""Where the raw dataset files live on disk."""

from __future__ import annotations

import os
import pathlib

# Environment variable that overrides the default data directory.
DATA_DIR_ENV = "FEATURESPRING_DATA_DIR"

# Subfolder of the data directory that holds each dataset's raw files.
SUBDIRS = {
    "mnist": "mnist",
    "fashion_mnist": "fashion-mnist",
    "cifar10": "cifar-10-batches-py",
}


def default_data_dir() -> pathlib.Path:
  """The data root, holding mnist/, fashion-mnist/ and cifar-10-batches-py/.

  ``$FEATURESPRING_DATA_DIR`` if set, else ``<repo root>/../shared/data``. The
  repository root is found from this file's location rather than the working
  directory, so scripts and tests find the data wherever they are started.
  """
  env = os.environ.get(DATA_DIR_ENV)
  if env:
    return pathlib.Path(env).expanduser()
  repo_root = pathlib.Path(__file__).resolve().parents[2]
  return repo_root.parent / "shared" / "data"


def dataset_dir(name: str, data_dir: str | os.PathLike | None) -> pathlib.Path:
  """The folder with the raw files of dataset ``name``.

  Args:
    name: a key of `SUBDIRS`.
    data_dir: the data root (holding the per-dataset subfolders), or a
      dataset's own folder; None means `default_data_dir()`.

  Returns:
    ``data_dir / SUBDIRS[name]`` if that folder exists, else ``data_dir``
    itself (so a user may point straight at a folder of raw files). Whether
    the files are really there is checked by the readers, which name them.
  """
  root = default_data_dir() if data_dir is None else pathlib.Path(data_dir).expanduser()
  sub = root / SUBDIRS[name]
  return sub if sub.is_dir() else root

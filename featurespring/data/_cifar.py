"""Reader for CIFAR-10 in its official "python version" (pickled batches)."""

from __future__ import annotations

import os
import pathlib
import pickle

import numpy as np

from featurespring.data._dataset import RawData

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"

# The only globals an official CIFAR-10 batch needs: NumPy's array
# reconstruction (under its NumPy 1 and NumPy 2 module names) and the codec
# Python uses for bytes. Loading any other global is refused, so a tampered
# pickle cannot run code: unpickling untrusted files is otherwise unsafe.
_ALLOWED_GLOBALS = frozenset(
    {
        ("_codecs", "encode"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class _SafeUnpickler(pickle.Unpickler):

  def find_class(self, module, name):
    if module.startswith("numpy.core."):
      # NumPy 2 renamed numpy.core to numpy._core; old pickles use the old name.
      module = "numpy._core." + module[len("numpy.core.") :]
    if (module, name) not in _ALLOWED_GLOBALS:
      raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a CIFAR-10 batch")
    return super().find_class(module, name)


def _read_batch(path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
  """One batch file -> (images [N, 32, 32, 3] uint8, labels [N] int64)."""
  try:
    with open(path, "rb") as f:
      # encoding="bytes": the official batches were pickled by Python 2.
      batch = _SafeUnpickler(f, encoding="bytes").load()
  except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
    raise ValueError(f"{path} is not a CIFAR-10 python batch: {e}") from e
  if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
    raise ValueError(f"{path}: expected a dict with keys b'data' and b'labels'")
  data = np.asarray(batch[b"data"])
  labels = np.asarray(batch[b"labels"], np.int64)
  if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
    raise ValueError(f"{path}: b'data' must be uint8 [N, 3072], got " f"{data.dtype} {data.shape}")
  if labels.shape != (data.shape[0],):
    raise ValueError(f"{path}: {labels.shape[0]} labels for {data.shape[0]} images")
  # Each row stores the red, green and blue 32x32 planes one after another.
  images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return np.ascontiguousarray(images), labels


def read_cifar10(directory: str | os.PathLike) -> RawData:
  """Reads CIFAR-10 from the official tarball's ``cifar-10-batches-py`` folder.

  Args:
    directory: folder holding ``data_batch_1`` .. ``data_batch_5`` and
      ``test_batch``, each a pickled dict with ``b'data'`` (uint8
      ``[N, 3072]``, channel planes R, G, B) and ``b'labels'`` (N ints 0..9).
      There is no checksum table for CIFAR-10: no reference copy was at hand to
      measure one from, so the files are only checked for format.

  Returns:
    `RawData` with images ``[N, 32, 32, 3]`` uint8 (channels last).

  Raises:
    FileNotFoundError: one or more batch files is missing (all are named).
    ValueError: a batch is not in the official format.
  """
  directory = pathlib.Path(directory)
  names = TRAIN_BATCHES + (TEST_BATCH,)
  missing = [n for n in names if not (directory / n).is_file()]
  if missing:
    raise FileNotFoundError(
        f"cifar10: missing {missing} in {directory}. Expected the official "
        f"python batches {list(names)} (the folder cifar-10-batches-py of "
        "cifar-10-python.tar.gz); point data_dir (or $FEATURESPRING_DATA_DIR) "
        "at it."
    )
  train = [_read_batch(directory / n) for n in TRAIN_BATCHES]
  x_test, y_test = _read_batch(directory / TEST_BATCH)
  return RawData(
      x_train=np.concatenate([x for x, _ in train]),
      y_train=np.concatenate([y for _, y in train]),
      x_test=x_test,
      y_test=y_test,
      num_classes=10,
  )

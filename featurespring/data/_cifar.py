"""Reader for CIFAR-10 in either official format: python pickles or binary.

The dataset's page (https://www.cs.toronto.edu/~kriz/cifar.html) offers the
same 60000 images as three archives; two are read here, from their extracted
folders:

* ``cifar-10-python.tar.gz`` -> ``cifar-10-batches-py/``: ``data_batch_1`` ..
  ``data_batch_5`` and ``test_batch``, each a pickled dict (Python 2) with
  ``b'data'`` (uint8 ``[N, 3072]``) and ``b'labels'`` (N ints);
* ``cifar-10-binary.tar.gz`` -> ``cifar-10-batches-bin/``: ``data_batch_1.bin``
  .. ``data_batch_5.bin`` and ``test_batch.bin``, each N records of 3073
  bytes: 1 label byte, then 3072 pixel bytes.

In both, an image's 3072 bytes are the red, green and blue 32x32 planes one
after another, each plane row-major, and both are read into the same layout
(checked on generated files: no copy of the real archives was at hand). The
python folder is preferred; the binary one is used where it is absent.
"""

from __future__ import annotations

import os
import pathlib
import pickle

import numpy as np

from featurespring.data import _checksums
from featurespring.data._dataset import RawData

PY_DIR = "cifar-10-batches-py"
BIN_DIR = "cifar-10-batches-bin"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BIN_TRAIN_BATCHES = tuple(f"{n}.bin" for n in TRAIN_BATCHES)
BIN_TEST_BATCH = f"{TEST_BATCH}.bin"
# Folder -> (archive it comes from, its train files, its test file).
FORMATS = {
    PY_DIR: ("cifar-10-python.tar.gz", TRAIN_BATCHES, TEST_BATCH),
    BIN_DIR: ("cifar-10-binary.tar.gz", BIN_TRAIN_BATCHES, BIN_TEST_BATCH),
}
IMAGE_BYTES = 3 * 32 * 32
# One record of a binary batch: the label byte, then the image.
RECORD_BYTES = 1 + IMAGE_BYTES
NUM_CLASSES = 10

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


def _images(path, data, labels) -> tuple[np.ndarray, np.ndarray]:
  """Rows of R, G, B planes -> (images [N, 32, 32, 3] uint8, labels [N] int64)."""
  if labels.shape != (data.shape[0],):
    raise ValueError(f"{path}: {labels.shape[0]} labels for {data.shape[0]} images")
  if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
    # Also what a binary file of another layout (CIFAR-100's 2 label bytes)
    # would most likely show.
    raise ValueError(
        f"{path}: labels must be 0..{NUM_CLASSES - 1}, found " f"{labels.min()}..{labels.max()}"
    )
  images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return np.ascontiguousarray(images), labels


def _read_batch(path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
  """One python batch file -> (images [N, 32, 32, 3] uint8, labels [N] int64)."""
  try:
    with open(path, "rb") as f:
      # encoding="bytes": the official batches were pickled by Python 2.
      batch = _SafeUnpickler(f, encoding="bytes").load()
  except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
    raise ValueError(f"{path} is not a CIFAR-10 python batch: {e}") from e
  if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
    raise ValueError(f"{path}: expected a dict with keys b'data' and b'labels'")
  data = np.asarray(batch[b"data"])
  try:
    labels = np.asarray(batch[b"labels"], np.int64)
  except (OverflowError, TypeError, ValueError) as e:  # 2**70, a dict, a string ...
    raise ValueError(f"{path}: b'labels' must be N integers 0..9 ({type(e).__name__}: {e})") from e
  if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != IMAGE_BYTES:
    raise ValueError(f"{path}: b'data' must be uint8 [N, 3072], got " f"{data.dtype} {data.shape}")
  return _images(path, data, labels)


def _read_binary_batch(path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
  """One binary batch file -> (images [N, 32, 32, 3] uint8, labels [N] int64)."""
  raw = np.fromfile(path, np.uint8)
  if raw.size == 0 or raw.size % RECORD_BYTES:
    raise ValueError(
        f"{path} is not a CIFAR-10 binary batch: {raw.size} bytes is not a "
        f"positive whole number of {RECORD_BYTES}-byte records (1 label byte "
        f"+ {IMAGE_BYTES} pixel bytes)"
    )
  records = raw.reshape(-1, RECORD_BYTES)
  return _images(path, records[:, 1:], records[:, 0].astype(np.int64))


def _holds_batches(folder: pathlib.Path, subdir: str) -> bool:
  _, train, test = FORMATS[subdir]
  return any((folder / n).is_file() for n in train + (test,))


def locate(directory: str | os.PathLike) -> tuple[pathlib.Path, str] | None:
  """Finds the CIFAR-10 batches at or under ``directory``.

  Looks, in this order, in ``directory`` itself (python batches first, then
  binary ones), in ``directory / cifar-10-batches-py``, in ``directory /
  cifar-10-batches-bin``, and, where ``directory`` is a
  ``cifar-10-batches-py`` folder without batches, in its sibling
  ``cifar-10-batches-bin``. A folder counts where it holds any batch file of
  a format; whether all are there is `read_cifar10`'s check.

  Args:
    directory: a folder of batches, or a data root holding the folders.

  Returns:
    ``(folder, format)`` with format `PY_DIR` or `BIN_DIR`, or None where no
    batch file of either format is found.
  """
  directory = pathlib.Path(directory)
  candidates = [
      (directory, PY_DIR),
      (directory, BIN_DIR),
      (directory / PY_DIR, PY_DIR),
      (directory / BIN_DIR, BIN_DIR),
  ]
  if directory.name == PY_DIR:
    candidates.append((directory.parent / BIN_DIR, BIN_DIR))
  for folder, subdir in candidates:
    if _holds_batches(folder, subdir):
      return folder, subdir
  return None


def expected_files() -> str:
  """Both official layouts in words, for error messages."""
  return " or ".join(
      f"{list(train + (test,))} (the folder {subdir} of {archive})"
      for subdir, (archive, train, test) in FORMATS.items()
  )


def read_cifar10(directory: str | os.PathLike) -> RawData:
  """Reads CIFAR-10 from the official python or binary batches.

  The python folder (``cifar-10-batches-py``, from ``cifar-10-python.tar.gz``)
  is read where found, else the binary one (``cifar-10-batches-bin``, from
  ``cifar-10-binary.tar.gz``); see `locate` for the search. Both give the same
  arrays.

  Checksums: the files are checked for format (sizes, dtypes, labels 0..9),
  not against checksums. The published md5 values, which could not be
  verified here because no copy of CIFAR-10 was at hand, are in
  `_checksums.CIFAR10_MD5`: the archives ``cifar-10-python.tar.gz``
  ``c58f30108f718f92721af3b95e74349a`` and ``cifar-10-binary.tar.gz``
  ``c32a1d4ab5d03f1284b67883e8d87530`` (the dataset's page), and the six
  extracted python batches (as torchvision checks them). The extracted binary
  batches have no published per-file value that we know of; check their
  archive instead.
  `verify_cifar10` compares a folder against these values on request.

  Args:
    directory: a folder holding ``data_batch_1`` .. ``data_batch_5`` and
      ``test_batch`` (pickled dicts with ``b'data'``, uint8 ``[N, 3072]``, and
      ``b'labels'``, N ints 0..9), or ``data_batch_1.bin`` ..
      ``data_batch_5.bin`` and ``test_batch.bin`` (3073-byte records: label
      byte, then 3072 pixel bytes); or a data root holding such a folder. In
      both formats the pixels are the R, G, B 32x32 planes in turn.

  Returns:
    `RawData` with images ``[N, 32, 32, 3]`` uint8 (channels last).

  Raises:
    FileNotFoundError: no batches, or one or more batch files missing (all
      are named, with both folders' expected contents).
    ValueError: a batch is not in the official format.
  """
  directory = pathlib.Path(directory)
  found = locate(directory)
  if found is None:
    raise FileNotFoundError(
        f"cifar10: no CIFAR-10 batches in {directory}. Expected "
        f"{expected_files()}; point data_dir (or $FEATURESPRING_DATA_DIR) at "
        "that folder or at the folder holding it."
    )
  folder, subdir = found
  _, train_names, test_name = FORMATS[subdir]
  missing = [n for n in train_names + (test_name,) if not (folder / n).is_file()]
  if missing:
    raise FileNotFoundError(
        f"cifar10: missing {missing} in {folder}. Expected {expected_files()}; "
        "point data_dir (or $FEATURESPRING_DATA_DIR) at that folder or at the "
        "folder holding it."
    )
  read = _read_batch if subdir == PY_DIR else _read_binary_batch
  train = [read(folder / n) for n in train_names]
  x_test, y_test = read(folder / test_name)
  return RawData(
      x_train=np.concatenate([x for x, _ in train]),
      y_train=np.concatenate([y for _, y in train]),
      x_test=x_test,
      y_test=y_test,
      num_classes=NUM_CLASSES,
  )


def verify_cifar10(directory: str | os.PathLike) -> dict[str, str]:
  """Compares the batches `read_cifar10` would read with `_checksums.CIFAR10_MD5`.

  Not called by `read_cifar10` or `load`: the values are unverified here,
  and generated or re-encoded copies (test files) would fail them. Run it by
  hand on a new copy.

  Args:
    directory: as for `read_cifar10`.

  Returns:
    ``{file name: "ok"}`` for python batches that match, ``{file name: "no
    published md5"}`` for binary batches.

  Raises:
    FileNotFoundError: as `read_cifar10`.
    ValueError: a python batch's md5 differs from the published one.
  """
  found = locate(directory)
  if found is None:
    raise FileNotFoundError(
        f"cifar10: no CIFAR-10 batches in {directory}; expected {expected_files()}"
    )
  folder, subdir = found
  _, train_names, test_name = FORMATS[subdir]
  report = {}
  for name in train_names + (test_name,):
    path = folder / name
    if not path.is_file():
      raise FileNotFoundError(f"cifar10: missing {name} in {folder}")
    expected = _checksums.CIFAR10_MD5.get(name)
    if expected is None:
      report[name] = "no published md5"
      continue
    actual = _checksums.md5_file(path)
    if actual != expected:
      raise ValueError(
          f"md5 mismatch for {path}: {actual}, published {expected}. The file "
          "is corrupt or not the official CIFAR-10 python batch."
      )
    report[name] = "ok"
  return report

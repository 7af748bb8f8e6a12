"""Reader for the IDX files of MNIST and Fashion-MNIST (gzip-compressed)."""

from __future__ import annotations

import gzip
import math
import os
import pathlib
import zlib

import numpy as np

from featurespring.data import _checksums
from featurespring.data._dataset import RawData

# File names of the official distributions (MNIST and Fashion-MNIST share them).
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

_UINT8_CODE = 0x08  # IDX type code for unsigned bytes, the only one MNIST uses.


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """Reads an IDX file of uint8 data (gzip-compressed if its name ends in .gz).

  IDX: a big-endian header of two zero bytes, a type code, the number of
  dimensions ``d``, then ``d`` uint32 sizes, then the data in row-major order.

  Returns:
    A uint8 array of the stored shape, e.g. ``[60000, 28, 28]`` for images.

  Raises:
    FileNotFoundError: the file does not exist.
    ValueError: the file is not valid (g-zipped) IDX uint8 data.
  """
  path = pathlib.Path(path)
  if not path.is_file():
    raise FileNotFoundError(f"IDX file not found: {path}")
  try:
    if path.suffix == ".gz":
      with gzip.open(path, "rb") as f:
        data = f.read()
    else:
      data = path.read_bytes()
  except (OSError, EOFError, zlib.error) as e:
    raise ValueError(f"cannot decompress {path}: {e}") from e
  if len(data) < 4 or data[0] != 0 or data[1] != 0:
    raise ValueError(f"{path} is not an IDX file (bad magic number)")
  if data[2] != _UINT8_CODE:
    raise ValueError(f"{path}: IDX type code {data[2]:#04x} is not uint8 (0x08)")
  ndim = data[3]
  header = 4 + 4 * ndim
  shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
  # math.prod: Python ints, so a corrupt header's huge dimensions cannot overflow.
  if len(data) != header + math.prod(shape):
    raise ValueError(
        f"{path}: header says shape {shape} ({math.prod(shape)} "
        f"bytes) but the file holds {len(data) - header} data bytes"
    )
  return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read_idx_dataset(
    directory: str | os.PathLike, *, dataset: str = "mnist", verify: bool = True
) -> RawData:
  """Reads MNIST-format data: the four official IDX ``.gz`` files in a folder.

  Args:
    directory: folder holding ``train-images-idx3-ubyte.gz``,
      ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
      ``t10k-labels-idx1-ubyte.gz``.
    dataset: ``"mnist"`` or ``"fashion_mnist"``; selects the checksum table.
    verify: check each file's sha256 against the official one first.

  Returns:
    `RawData` with images ``[N, 28, 28, 1]`` uint8 and labels 0..9.

  Raises:
    FileNotFoundError: one or more of the four files is missing (all are named).
    ValueError: a checksum mismatch or malformed file.
  """
  directory = pathlib.Path(directory)
  paths = {key: directory / name for key, name in IDX_FILES.items()}
  missing = [p.name for p in paths.values() if not p.is_file()]
  if missing:
    raise FileNotFoundError(
        f"{dataset}: missing {missing} in {directory}. Expected the official "
        f"IDX files {list(IDX_FILES.values())}; point data_dir (or "
        "$FEATURESPRING_DATA_DIR) at the folder holding them."
    )
  if verify:
    for path in paths.values():
      _checksums.verify_file(path, dataset)
  arrays = {key: read_idx(path) for key, path in paths.items()}
  for split in ("train", "test"):
    x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
      raise ValueError(
          f"{dataset} {split}: images {x.shape} and labels "
          f"{y.shape} in {directory} do not match"
      )
    arrays[f"x_{split}"] = x[..., None]  # Channels-last, as for colour images.
  return RawData(num_classes=10, **arrays)

"""Datasets via tensorflow-datasets, read by `tfds.data_source` (no TensorFlow).

Two routes, both ending in ArrayRecord files read by `tfds.data_source`:

- offline: the project's own builder (`_tfds_builder.FeaturespringRaw`)
  prepares the official raw files from a local folder; nothing is downloaded
  and TensorFlow is not needed.
- stock: TFDS's own ``mnist`` / ``fashion_mnist`` / ``cifar10`` builders, for
  users with internet. Preparing them (download, then encode) needs
  TensorFlow; reading data already prepared as ArrayRecord does not.

tensorflow_datasets is imported here, inside the functions, so that importing
`featurespring.data` stays light.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

from featurespring.data._dataset import RawData

TFDS_NAMES = ("mnist", "fashion_mnist", "cifar10")
OWN_BUILDER = "featurespring_raw"
# Records decoded per call, bounding the list of dicts held in memory.
_CHUNK = 10000


def _to_arrays(source) -> tuple[np.ndarray, np.ndarray]:
  """A TFDS data source -> (images [N, H, W, C] uint8, labels [N] int64)."""
  if not len(source):  # pylint: disable=g-explicit-length-test
    raise ValueError("tensorflow-datasets returned an empty split")
  images, labels, indices = [], [], []
  for start in range(0, len(source), _CHUNK):
    stop = min(start + _CHUNK, len(source))
    records = source.__getitems__(list(range(start, stop)))
    images.extend(r["image"] for r in records)
    labels.extend(r["label"] for r in records)
    indices.extend(r["index"] for r in records if "index" in r)
  images = np.stack(images).astype(np.uint8)
  labels = np.asarray(labels, np.int64)
  if indices:
    # The own builder stores each example's position in the raw file; undo the
    # shuffle TFDS applied when writing.
    order = np.argsort(np.asarray(indices))
    images, labels = images[order], labels[order]
  return images, labels


def read_tfds(
    name: str,
    *,
    raw_dir: str | os.PathLike | None = None,
    tfds_data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> RawData:
  """Reads a dataset through tensorflow-datasets, preparing it if needed.

  Args:
    name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
    raw_dir: folder with the official raw files. If given, the project's
      builder prepares them offline (the first time; later calls reuse the
      prepared files in ``tfds_data_dir``, even if ``raw_dir`` changes) and
      nothing is downloaded. If None, TFDS's stock builder is used.
    tfds_data_dir: where TFDS keeps prepared data; None means TFDS's default
      (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).
    download: for the stock builder, download and prepare the data if it is
      not prepared yet; if False, a missing dataset is an error.

  Returns:
    `RawData` with both splits, in raw-file order for the offline route and
    in TFDS's stored order for the stock one.

  Raises:
    ValueError: unknown name.
    FileNotFoundError: the stock dataset is not prepared and ``download`` is
      False.
    ImportError: preparing the stock dataset needs TensorFlow, not installed.
  """
  if name not in TFDS_NAMES:
    raise ValueError(f"unknown tfds dataset {name!r}; allowed: {list(TFDS_NAMES)}")
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  kwargs = dict(
      split=["train", "test"],
      data_dir=tfds_data_dir,
      builder_kwargs={"file_format": "array_record"},
  )
  if raw_dir is not None:
    # Registers the builder with TFDS.
    from featurespring.data import _tfds_builder  # pylint: disable=g-import-not-at-top,unused-import

    tfds_name = f"{OWN_BUILDER}/{name}"
    kwargs.update(
        download=True,
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(
                manual_dir=str(pathlib.Path(raw_dir).resolve())
            )
        },
    )
  else:
    tfds_name = name
    kwargs.update(download=download)
  try:
    train, test = tfds.data_source(tfds_name, **kwargs)
  except KeyError as e:
    # What TFDS raises when asked for splits of a dataset that is not prepared.
    raise FileNotFoundError(
        f"tensorflow-datasets has no prepared {tfds_name!r} in "
        f"{tfds_data_dir or 'its default data dir'} and download=False: {e}"
    ) from e
  except ModuleNotFoundError as e:
    if e.name != "tensorflow" and not str(e.name).startswith("tensorflow."):
      raise
    raise ImportError(
        f"preparing TFDS's stock {name!r} needs TensorFlow, which is not "
        "installed. Install it (pip install 'featurespring[tensorflow]'), or "
        "put the official raw files in a folder and pass it as data_dir: the "
        "project's own builder prepares those without TensorFlow."
    ) from e
  x_train, y_train = _to_arrays(train)
  x_test, y_test = _to_arrays(test)
  return RawData(
      x_train=x_train,
      y_train=y_train,
      x_test=x_test,
      y_test=y_test,
      num_classes=10,
  )

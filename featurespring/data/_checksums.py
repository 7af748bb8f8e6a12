"""Checksums of the official raw dataset files, and their checking.

MNIST and Fashion-MNIST: sha256, checked on every load. CIFAR-10: published
md5 values, unverified here and checked only on request
(`featurespring.data._cifar.verify_cifar10`).
"""

from __future__ import annotations

import hashlib
import os
import pathlib

# sha256 of the official distribution files, as listed in shared/data/README.md
# (the local copies are byte-identical to the official ones). Keyed by dataset
# name, then file name.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
    },
}

# Published md5 values of CIFAR-10, none verified here: no copy of CIFAR-10
# was at hand to measure them on. The archives' are those on the dataset's
# page (https://www.cs.toronto.edu/~kriz/cifar.html); the extracted python
# batches' are those torchvision checks its copies against
# (torchvision/datasets/cifar.py, CIFAR10.train_list / test_list). No
# per-file value of the extracted binary batches (data_batch_*.bin,
# test_batch.bin) is published that we know of, so none is listed: for them
# only the archive can be checked. Not used by `load`: unverified values
# must not block a load, and generated test copies would fail them.
CIFAR10_MD5 = {
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}

# Hashing the ~40 MB of MNIST + Fashion-MNIST takes a noticeable fraction of a
# load, and sweeps load the same files many times; the hash is cached per
# (path, size, mtime), so an edited or replaced file is hashed again.
_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | os.PathLike) -> str:
  """Hex sha256 of a file's bytes (cached in-process by path, size, mtime)."""
  path = pathlib.Path(path).resolve()
  stat = path.stat()
  key = (str(path), stat.st_size, stat.st_mtime_ns)
  if key not in _CACHE:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
      for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
    _CACHE[key] = digest.hexdigest()
  return _CACHE[key]


def verify_file(path: str | os.PathLike, dataset: str) -> None:
  """Checks a raw file against the official sha256 of dataset ``dataset``.

  Raises:
    ValueError: the file's hash differs from the official one, or the file
      name is not one of the dataset's official files.
  """
  path = pathlib.Path(path)
  expected = SHA256.get(dataset, {}).get(path.name)
  if expected is None:
    raise ValueError(
        f"no reference checksum for {path.name!r} of dataset {dataset!r}; "
        f"known files: {sorted(SHA256.get(dataset, {}))}. Pass verify=False to "
        "skip checksum verification."
    )
  actual = sha256_file(path)
  if actual != expected:
    raise ValueError(
        f"checksum mismatch for {path}: sha256 {actual}, expected the official "
        f"{expected}. The file is corrupt or not the official {dataset} "
        "distribution file; replace it, or pass verify=False to use it anyway."
    )


def md5_file(path: str | os.PathLike) -> str:
  """Hex md5 of a file's bytes: the digest CIFAR-10's values are published in."""
  digest = hashlib.md5(usedforsecurity=False)
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()

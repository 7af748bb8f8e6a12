"""CIFAR-10 without CIFAR-10: both official formats on small files written here,
the folder search, the published checksums, and the S8 / S9 configs run on them.

No copy of CIFAR-10 exists on the test machines: every file here is generated,
in the layout of the official archives (see featurespring/data/_cifar.py).
"""

import pathlib
import pickle

import numpy as np
import pytest

from featurespring import data
from featurespring import sweep
from featurespring.data import _checksums
from featurespring.data import _cifar
from test_data import write_small_cifar_dir  # tests/ is on sys.path under pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def write_binary_dir(directory, written):
  """The same images as `write_small_cifar_dir` wrote, as official binary
  batches: per image 1 label byte, then its 3072 bytes (R, G, B planes)."""
  directory.mkdir(parents=True, exist_ok=True)
  for name, (pixels, labels) in written.items():
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], pixels], axis=1)
    (directory / f"{name}.bin").write_bytes(records.astype(np.uint8).tobytes())


def coded_image():
  """A 3072-byte row whose pixel values name their place: R = row, G = 64 +
  column, B = 128 + (row + column) % 32, planes in that order."""
  row, col = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
  return np.concatenate([row.ravel(), 64 + col.ravel(), 128 + ((row + col) % 32).ravel()]).astype(
      np.uint8
  )


def both_formats(root, seed=0):
  """Pickle batches in root/py/cifar-10-batches-py, the same images as binary
  batches in root/bin/cifar-10-batches-bin; the first training image is
  `coded_image`. Returns (py root, bin root, written arrays)."""
  written = write_small_cifar_dir(root / "py" / _cifar.PY_DIR, seed=seed)
  pixels, labels = written["data_batch_1"]
  pixels[0] = coded_image()
  labels[0] = 9
  # Rewrite the first batch with the coded image (the helper drew random ones).
  batch = {b"data": pixels, b"labels": [int(v) for v in labels]}
  with open(root / "py" / _cifar.PY_DIR / "data_batch_1", "wb") as f:
    pickle.dump(batch, f, protocol=2)
  write_binary_dir(root / "bin" / _cifar.BIN_DIR, written)
  return root / "py", root / "bin", written


# ------------------------------------------------------------------ format ---


def test_binary_batches_read_as_the_same_images_as_pickle_batches(tmp_path):
  py_root, bin_root, written = both_formats(tmp_path)
  from_py = data.read_local("cifar10", py_root)
  from_bin = data.read_local("cifar10", bin_root)
  for field in ("x_train", "y_train", "x_test", "y_test"):
    np.testing.assert_array_equal(getattr(from_bin, field), getattr(from_py, field))
    assert getattr(from_bin, field).dtype == getattr(from_py, field).dtype
  assert from_bin.x_train.shape == (60, 32, 32, 3) and from_bin.x_test.shape == (20, 32, 32, 3)
  assert from_bin.num_classes == 10
  # Pixel order, independently of the pickle reader: [row, column, channel].
  image = from_bin.x_train[0].astype(int)
  row, col = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
  np.testing.assert_array_equal(image[..., 0], row)
  np.testing.assert_array_equal(image[..., 1], 64 + col)
  np.testing.assert_array_equal(image[..., 2], 128 + (row + col) % 32)
  # Labels: the record's first byte, batches in order 1..5, then the test batch.
  expected = np.concatenate([written[f"data_batch_{i}"][1] for i in range(1, 6)])
  np.testing.assert_array_equal(from_bin.y_train, expected)
  assert from_bin.y_train[0] == 9
  np.testing.assert_array_equal(from_bin.y_test, written["test_batch"][1])
  # And through load's preprocessing: the same dataset from either format.
  a = data.load("cifar10", data_dir=py_root, num_train=30, num_test=10, seed=3)
  b = data.load("cifar10", data_dir=bin_root, num_train=30, num_test=10, seed=3)
  assert a.x_train.shape == (30, 300) and a.image_shape == (10, 10, 3)
  np.testing.assert_array_equal(a.x_train, b.x_train)
  np.testing.assert_array_equal(a.y_test, b.y_test)


def test_binary_folder_is_found_where_the_pickle_folder_is_absent(tmp_path, monkeypatch):
  py_root, bin_root, _ = both_formats(tmp_path)
  py_dir, bin_dir = py_root / _cifar.PY_DIR, bin_root / _cifar.BIN_DIR
  assert _cifar.locate(bin_root) == (bin_dir, _cifar.BIN_DIR)
  assert _cifar.locate(bin_dir) == (bin_dir, _cifar.BIN_DIR)
  assert _cifar.locate(py_root) == (py_dir, _cifar.PY_DIR)
  assert _cifar.locate(tmp_path / "nothing") is None
  # Both folders under one root: the python batches win. The binary copy is
  # made different (labels shifted) to tell which was read.
  both = tmp_path / "both"
  py_written = write_small_cifar_dir(both / _cifar.PY_DIR, seed=1)
  shifted = {n: (x, (y + 1) % 10) for n, (x, y) in py_written.items()}
  write_binary_dir(both / _cifar.BIN_DIR, shifted)
  np.testing.assert_array_equal(
      data.read_local("cifar10", both).y_test, py_written["test_batch"][1]
  )
  # An empty python folder beside the binary one: the binary one is read.
  for f in (both / _cifar.PY_DIR).iterdir():
    f.unlink()
  np.testing.assert_array_equal(data.read_local("cifar10", both).y_test, shifted["test_batch"][1])
  # The default data root ($FEATURESPRING_DATA_DIR) is searched the same way.
  monkeypatch.setenv(data.DATA_DIR_ENV, str(bin_root))
  assert data.load("cifar10", num_train=20, num_test=5).x_train.shape == (20, 300)


def test_tfds_route_reads_binary_batches(tmp_path):
  _, bin_root, _ = both_formats(tmp_path)
  kwargs = dict(data_dir=bin_root, num_train=30, seed=1)
  local = data.load("cifar10", source="local", **kwargs)
  via_tfds = data.load("cifar10", source="tfds", tfds_data_dir=tmp_path / "tfds", **kwargs)
  for field in ("x_train", "y_train", "x_test", "y_test"):
    np.testing.assert_array_equal(getattr(local, field), getattr(via_tfds, field))


def test_missing_and_malformed_binary_batches(tmp_path):
  empty = tmp_path / "empty"
  empty.mkdir()
  # Nothing found: both folders are named, for load and for the reader.
  for call in (
      lambda: data.load("cifar10", data_dir=empty),
      lambda: data.read_local("cifar10", empty),
      lambda: data.read_cifar10(empty),
  ):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*cifar-10-batches-bin"):
      call()
  _, bin_root, _ = both_formats(tmp_path)
  bin_dir = bin_root / _cifar.BIN_DIR
  (bin_dir / "test_batch.bin").unlink()
  for source in ("auto", "local", "tfds"):
    with pytest.raises(FileNotFoundError, match=r"\['test_batch.bin'\].*cifar-10-batches-py"):
      data.load("cifar10", data_dir=bin_root, source=source, tfds_data_dir=tmp_path / "t")
  (bin_dir / "test_batch.bin").write_bytes(bytes(_cifar.RECORD_BYTES * 2 + 5))
  with pytest.raises(ValueError, match="test_batch.bin is not a CIFAR-10 binary.*3073-byte"):
    data.read_cifar10(bin_dir)
  (bin_dir / "test_batch.bin").write_bytes(b"")
  with pytest.raises(ValueError, match="3073-byte"):
    data.read_cifar10(bin_dir)
  record = np.zeros(_cifar.RECORD_BYTES, np.uint8)
  record[0] = 10  # no such class: e.g. a file of another layout
  (bin_dir / "test_batch.bin").write_bytes(record.tobytes())
  with pytest.raises(ValueError, match=r"labels must be 0..9, found 10..10"):
    data.read_cifar10(bin_dir)


# --------------------------------------------------------------- checksums ---


def test_published_checksums_are_documented_and_checked_on_request(tmp_path, monkeypatch):
  # The archives' published md5 values, stated in the loader and the notices.
  md5 = _checksums.CIFAR10_MD5
  assert md5["cifar-10-python.tar.gz"] == "c58f30108f718f92721af3b95e74349a"
  assert md5["cifar-10-binary.tar.gz"] == "c32a1d4ab5d03f1284b67883e8d87530"
  notices = (REPO / "third_party" / "DATASETS.md").read_text()
  for name, value in md5.items():
    assert value in notices, name
    assert len(value) == 32 and int(value, 16) >= 0
  assert md5["cifar-10-python.tar.gz"] in _cifar.read_cifar10.__doc__
  assert md5["cifar-10-binary.tar.gz"] in _cifar.read_cifar10.__doc__
  # No per-file value of the binary batches is claimed.
  assert not [n for n in md5 if n.endswith(".bin")]
  py_root, bin_root, _ = both_formats(tmp_path)
  report = _cifar.verify_cifar10(bin_root)
  assert report == {n: "no published md5" for n in _cifar.BIN_TRAIN_BATCHES + ("test_batch.bin",)}
  # Generated python batches are not the official ones ...
  with pytest.raises(ValueError, match="md5 mismatch for .*data_batch_1"):
    _cifar.verify_cifar10(py_root)
  # ... and match once the table holds their own digests.
  py_dir = py_root / _cifar.PY_DIR
  own = {n: _checksums.md5_file(py_dir / n) for n in _cifar.TRAIN_BATCHES + ("test_batch",)}
  monkeypatch.setattr(_checksums, "CIFAR10_MD5", {**md5, **own})
  assert set(_cifar.verify_cifar10(py_root).values()) == {"ok"}
  # Loading never checks them: the generated files load with verify=True.
  assert data.load("cifar10", data_dir=py_root, num_train=20, verify=True).num_classes == 10


def test_md5_file_matches_hashlib(tmp_path):
  path = tmp_path / "f"
  path.write_bytes(b"abc")
  assert _checksums.md5_file(path) == "900150983cd24fb0d6963f7d28e17f72"  # RFC 1321


# ------------------------------------------------------------ experiments ---


def shrunk(path, data_dir):
  """The experiment's full config, shrunk by hand to seconds.

  Not ``:runlocal``: that swaps file-backed datasets for the embedded MNIST
  subset, and this is to run on (generated) CIFAR-10 files.
  """
  config = sweep.load_config(str(REPO / "experiments" / path))
  assert config.dnn.dataset == "cifar10"
  config.seeds = 1
  for name, values in config.grid.items():
    config.grid[name] = tuple(dict.fromkeys((values[0], values[-1])))
  dnn = config.dnn
  dnn.data_dir = str(data_dir)
  dnn.num_train, dnn.num_test, dnn.batch_size = 40, 20, 20
  dnn.depth, dnn.width, dnn.num_epochs, dnn.eval_every = 2, 8, 1, 1
  config.checkpoint_every = 1
  return config


@pytest.mark.parametrize(
    "path, layout",
    [("s8_cifar10.py", "py"), ("s9_cifar10_lr.py", "bin")],
)
def test_cifar_experiments_run_on_generated_files(tmp_path, path, layout):
  py_root, bin_root, _ = both_formats(tmp_path / "data")
  config = shrunk(path, py_root if layout == "py" else bin_root)
  stem = sweep.run(config, str(tmp_path / "run"))
  arrays, sidecar = sweep.load_result(str(tmp_path / "run"))
  assert stem is not None
  assert sidecar["config"]["dnn"]["dataset"] == "cifar10"
  assert sidecar["grid_names"] == [config.plot.y, config.plot.x, "seed"]
  assert arrays["curvature"].shape == (2, 2, 1)
  assert np.isfinite(arrays["curvature"]).all()
  assert ((arrays["accuracy"] >= 0) & (arrays["accuracy"] <= 1)).all()
  assert arrays["load_curve"].shape == (2, 2, 1, config.dnn.depth + 1)


def test_cifar_experiments_name_both_folders_without_files(tmp_path):
  config = shrunk("s8_cifar10.py", tmp_path / "no-data")
  with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*cifar-10-batches-bin"):
    sweep.run(config, str(tmp_path / "run"))


@pytest.mark.parametrize(
    "labels, problem",
    [
        ([2**70], "OverflowError"),
        ([{"a": 1}], "TypeError"),
        ({1: 2}, "TypeError"),
    ],
)
def test_labels_that_are_not_integers_are_named(tmp_path, labels, problem):
  path = tmp_path / "data_batch_1"
  with open(path, "wb") as f:
    pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": labels}, f, protocol=2)
  with pytest.raises(
      ValueError, match=rf"data_batch_1: b'labels' must be N integers 0..9 \({problem}"
  ):
    _cifar._read_batch(path)  # pylint: disable=protected-access


def test_an_idx_header_whose_size_overflows_int64_is_named(tmp_path):
  path = tmp_path / "huge-idx3-ubyte"
  path.write_bytes(bytes([0, 0, 0x08, 3]) + (2**32 - 1).to_bytes(4, "big") * 3 + b"\0" * 10)
  with pytest.raises(
      ValueError,
      match=r"header says shape \(4294967295, 4294967295, 4294967295\) "
      r"\(79228162458924105385300197375 bytes\) but the file holds 10 data bytes",
  ):
    data.read_idx(path)

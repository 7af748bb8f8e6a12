"""Result files: ``<stem>.npz`` arrays plus a ``<stem>.json`` sidecar.

Format (documented in ``launch/__init__.py`` for users):

- ``<stem>.npz``: one array per metric, keys may contain ``/``
  (``load_curve/train``). A merged result holds ``[*grid.shape, ...]`` arrays
  and ``axis/<name>`` coordinates; a chunk's part holds ``[members, ...]``
  arrays and ``members`` (their flat grid indices).
- ``<stem>.json``: the full resolved config, its hash, the grid axes, seeds,
  library versions, device kind and count, process count, wall time.

Every file is written to a temporary name in the same directory and moved into
place with ``os.replace`` (atomic on POSIX), arrays before the sidecar: a
result exists only when its sidecar does, and a killed writer leaves at worst
a stray ``*.tmp*`` file, never a half-written result.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Mapping
from importlib import metadata as importlib_metadata

import jax
import ml_collections
import numpy as np

# Config fields that change how a sweep reports or checkpoints, never its
# numbers; a workdir may be resumed with different values for them.
HARMLESS_FIELDS = ("progress", "checkpoint_every", "plot")

_LIBRARIES = ("jax", "jaxlib", "flax", "optax", "numpy", "ml_collections",
              "featurespring")


@contextlib.contextmanager
def _atomic_file(path: str):
  """Yields a temp file object next to ``path``; on success moves it there."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".",
                             suffix=".tmp")
  # mkstemp creates 0600 files; results are shared, so honour the umask instead.
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(tmp, 0o666 & ~umask)
  try:
    with os.fdopen(fd, "wb") as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp)
    raise


def write_npz(path: str, arrays: Mapping[str, np.ndarray]) -> None:
  """Atomically writes ``arrays`` (name -> array) to ``path``."""
  with _atomic_file(path) as f:
    np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})


def write_json(path: str, obj) -> None:
  """Atomically writes ``obj`` as indented JSON to ``path``."""
  with _atomic_file(path) as f:
    f.write(json.dumps(obj, indent=2, sort_keys=True, default=_json_default).encode())


def read_json(path: str):
  with open(path) as f:
    return json.load(f)


def read_npz(path: str) -> dict[str, np.ndarray]:
  with np.load(path) as data:
    return {k: data[k] for k in data.files}


def _json_default(value):
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, np.ndarray):
    return value.tolist()
  raise TypeError(f"not JSON serialisable: {type(value)}")


def save(stem: str, arrays: Mapping[str, np.ndarray], sidecar: Mapping) -> None:
  """Writes ``<stem>.npz`` then ``<stem>.json`` (the completion marker)."""
  write_npz(stem + ".npz", arrays)
  write_json(stem + ".json", sidecar)


def exists(stem: str) -> bool:
  """True when the result at ``stem`` was completely written."""
  return os.path.exists(stem + ".json") and os.path.exists(stem + ".npz")


def load(stem: str) -> tuple[dict[str, np.ndarray], dict]:
  """Reads ``(arrays, sidecar)`` written by :func:`save`."""
  if not exists(stem):
    raise FileNotFoundError(f"no complete result at {stem}.npz/.json")
  return read_npz(stem + ".npz"), read_json(stem + ".json")


def config_to_dict(config: ml_collections.ConfigDict) -> dict:
  """The config as plain JSON data (tuples become lists)."""
  return json.loads(config.to_json_best_effort(sort_keys=True))


def config_hash(config: ml_collections.ConfigDict | Mapping) -> str:
  """SHA-256 of the config without :data:`HARMLESS_FIELDS`."""
  as_dict = config_to_dict(config) if isinstance(config, ml_collections.ConfigDict) else dict(config)
  relevant = {k: v for k, v in as_dict.items() if k not in HARMLESS_FIELDS}
  return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def config_diff(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
  """Dotted names of the fields that differ between two config dicts."""
  diffs = []
  for key in sorted(set(old) | set(new)):
    if not prefix and key in HARMLESS_FIELDS:
      continue
    a, b = old.get(key), new.get(key)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
      diffs += config_diff(a, b, f"{prefix}{key}.")
    elif a != b:
      diffs.append(f"{prefix}{key}: {a!r} -> {b!r}")
  return diffs


def environment() -> dict:
  """Library versions and the devices this process runs on."""
  versions = {}
  for name in _LIBRARIES:
    with contextlib.suppress(importlib_metadata.PackageNotFoundError):
      versions[name] = importlib_metadata.version(name.replace("_", "-"))
  devices = jax.devices()
  return {"versions": versions, "python": platform.python_version(),
          "platform": devices[0].platform, "device_kind": devices[0].device_kind,
          "device_count": len(devices), "process_count": jax.process_count(),
          "host": platform.node()}

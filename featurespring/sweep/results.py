"""Result files: ``<stem>.npz`` arrays plus a ``<stem>.json`` sidecar.

Format (documented in ``launch/__init__.py`` for users):

- ``<stem>.npz``: one array per metric, keys may contain ``/``
  (``load_curve/train``). A merged result holds ``[*grid.shape, ...]`` arrays
  and ``axis/<name>`` coordinates; a chunk's part holds ``[members, ...]``
  arrays and ``members`` (their flat grid indices).
- ``<stem>.json``: the full resolved config, its hash, the grid axes, seeds,
  library versions, device kind and count, process count, wall time, and
  ``npz_sha256``, the SHA-256 of the ``.npz`` file.

Every file is written to a temporary name in the same directory and moved into
place with ``os.replace`` (atomic on POSIX), arrays before the sidecar: a
result exists only when its sidecar does, and a killed writer leaves at worst
a stray ``*.tmp*`` file, never a half-written result.

Files damaged afterwards (a full disk, a copy cut short, a bad block) are
caught on reading: :func:`load` checks the ``.npz`` against its checksum, and
every read error is a :class:`CorruptFileError` naming the file. Sidecars
written before checksums existed have none; their ``.npz`` is trusted if it
reads (zip CRCs still catch damaged arrays).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import platform
import tempfile
import zipfile
from collections.abc import Mapping
from importlib import metadata as importlib_metadata

import jax
import ml_collections
import numpy as np
from absl import logging

from featurespring import runtime

# Config fields that change how a sweep reports or checkpoints, never its
# numbers; a workdir may be resumed with different values for them.
HARMLESS_FIELDS = ("progress", "checkpoint_every", "plot")

_LIBRARIES = ("jax", "jaxlib", "flax", "optax", "numpy", "ml_collections", "featurespring")

# Sidecar key of the .npz file's SHA-256 (hex).
CHECKSUM = "npz_sha256"


class CorruptFileError(ValueError):
  """A file that cannot be read, or whose ``.npz`` does not match its sidecar."""

  def __init__(self, path: str, problem: str):
    super().__init__(f"{path}: {problem}")
    self.path, self.problem = path, problem


def check_workdir(workdir: str) -> None:
  """Raises ``NotADirectoryError`` if ``workdir`` is a file or a dangling link (absent is fine)."""
  if os.path.isfile(workdir):
    raise NotADirectoryError(f"--workdir {workdir} is a file, not a directory")
  if os.path.islink(workdir) and not os.path.exists(workdir):
    raise NotADirectoryError(
        f"--workdir {workdir} is a symbolic link to {os.readlink(workdir)}, which does not "
        "exist: create that directory (e.g. mount its filesystem), or remove the link"
    )


@contextlib.contextmanager
def _atomic_file(path: str, exclusive: bool = False):
  """Yields a temp file object next to ``path``; on success moves it there.

  With ``exclusive``, an existing ``path`` is kept and ``FileExistsError``
  raised: of concurrent writers, the first wins.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".tmp")
  # mkstemp creates 0600 files; results are shared, so honour the umask instead.
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(tmp, 0o666 & ~umask)
  try:
    with os.fdopen(fd, "w+b") as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    if exclusive:
      _link_new(tmp, path)
    else:
      os.replace(tmp, path)
  except BaseException as e:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp)
    if isinstance(e, OSError) and e.filename is None and e.errno is not None:
      # A failed write (ENOSPC, EDQUOT) names no file; the caller needs to know which.
      raise type(e)(e.errno, e.strerror, path) from None
    raise


def _link_new(tmp: str, path: str) -> None:
  """Moves ``tmp`` to ``path`` unless ``path`` exists (``FileExistsError``)."""
  try:
    os.link(tmp, path)  # atomic create-if-absent, unlike os.replace
  except FileExistsError:
    raise
  except OSError:
    # No hard links on this filesystem (some FUSE/SMB mounts): check, then
    # move, which only a concurrent writer in between can defeat.
    if os.path.exists(path):
      raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path) from None
    os.replace(tmp, path)
    return
  os.remove(tmp)


def _sha256(f) -> str:
  return hashlib.file_digest(f, "sha256").hexdigest()


def write_npz(path: str, arrays: Mapping[str, np.ndarray]) -> str:
  """Atomically writes ``arrays`` (name -> array) to ``path``.

  Returns:
    The SHA-256 (hex) of the written file.
  """
  with _atomic_file(path) as f:
    np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})
    f.seek(0)
    return _sha256(f)


def write_json(path: str, obj, exclusive: bool = False) -> None:
  """Atomically writes ``obj`` as indented JSON to ``path``.

  Raises:
    FileExistsError: with ``exclusive``, if ``path`` exists (it is kept).
  """
  with _atomic_file(path, exclusive) as f:
    f.write(json.dumps(obj, indent=2, sort_keys=True, default=_json_default).encode())


def write_text(path: str, text: str) -> None:
  """Atomically writes ``text`` (UTF-8) to ``path``."""
  with _atomic_file(path) as f:
    f.write(text.encode())


def read_json(path: str):
  """The JSON data in ``path``; ``CorruptFileError`` if it does not parse."""
  try:
    with open(path, encoding="utf-8") as f:
      return json.load(f)
  except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
    raise CorruptFileError(path, f"not valid JSON ({e})") from e
  except IsADirectoryError as e:
    raise CorruptFileError(path, "is a directory, not a file") from e


def read_npz(path: str) -> dict[str, np.ndarray]:
  """The arrays in ``path``; ``CorruptFileError`` if it does not read."""
  try:
    with np.load(path) as data:
      return {k: data[k] for k in data.files}
  except (zipfile.BadZipFile, EOFError, ValueError) as e:
    # A truncated file has no zip directory; a damaged array fails its CRC.
    raise CorruptFileError(path, f"not a readable .npz ({type(e).__name__}: {e})") from e
  except IsADirectoryError as e:
    raise CorruptFileError(path, "is a directory, not a file") from e


def _json_default(value):
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, np.ndarray):
    return value.tolist()
  raise TypeError(f"not JSON serialisable: {type(value)}")


def save(stem: str, arrays: Mapping[str, np.ndarray], sidecar: Mapping) -> None:
  """Writes ``<stem>.npz`` then ``<stem>.json`` (the completion marker).

  The sidecar gets the ``.npz`` file's checksum under :data:`CHECKSUM`.
  """
  digest = write_npz(stem + ".npz", arrays)
  write_json(stem + ".json", {**sidecar, CHECKSUM: digest})


def exists(stem: str) -> bool:
  """True when the result at ``stem`` was completely written."""
  return os.path.exists(stem + ".json") and os.path.exists(stem + ".npz")


def _checked_sidecar(stem: str) -> dict:
  """The sidecar of ``stem``, after checking the ``.npz`` against its checksum."""
  if not exists(stem):
    raise FileNotFoundError(f"no complete result at {stem}.npz/.json")
  sidecar = read_json(stem + ".json")
  if not isinstance(sidecar, dict):
    raise CorruptFileError(
        stem + ".json", f"holds a {type(sidecar).__name__}, not a sidecar object"
    )
  expected = sidecar.get(CHECKSUM)
  if expected is not None:
    if os.path.isdir(stem + ".npz"):
      raise CorruptFileError(stem + ".npz", "is a directory, not a file")
    with open(stem + ".npz", "rb") as f:
      actual = _sha256(f)
    if actual != expected:
      raise CorruptFileError(
          stem + ".npz",
          f"SHA-256 {actual} does not match {expected} in {stem}.json "
          "(the file was truncated, damaged or replaced after it was written)",
      )
  return sidecar


def load(stem: str) -> tuple[dict[str, np.ndarray], dict]:
  """Reads ``(arrays, sidecar)`` written by :func:`save`.

  Raises:
    FileNotFoundError: if either file is missing.
    CorruptFileError: if either file is unreadable or they do not match.
  """
  sidecar = _checked_sidecar(stem)
  return read_npz(stem + ".npz"), sidecar


def verify(stem: str) -> None:
  """Raises as :func:`load` does, reading the arrays only if there is no checksum."""
  if CHECKSUM not in _checked_sidecar(stem):
    read_npz(stem + ".npz")


def set_aside(path: str) -> str:
  """Moves a bad file to ``<path>.corrupt`` (``.corrupt.1``, ... if taken).

  Returns:
    Its new path.
  """
  target, n = path + ".corrupt", 0
  while os.path.exists(target):
    n += 1
    target = f"{path}.corrupt.{n}"
  os.replace(path, target)
  return target


def set_aside_if_corrupt(stem: str) -> bool:
  """Moves the result at ``stem`` aside (see :func:`set_aside`) if it fails :func:`verify`.

  Returns:
    True if it was set aside: it no longer :func:`exists`.
  """
  if not exists(stem):
    return False
  try:
    verify(stem)
  except CorruptFileError as e:
    # The sidecar first: without it the result stops existing at once.
    moved = [set_aside(stem + ext) for ext in (".json", ".npz")]
    logging.warning("%s; moved it aside to %s so that it is computed again", e, " and ".join(moved))
    return True
  return False


def config_to_dict(config: ml_collections.ConfigDict) -> dict:
  """The config as plain JSON data (tuples become lists)."""
  return json.loads(config.to_json_best_effort(sort_keys=True))


def config_hash(config: ml_collections.ConfigDict | Mapping) -> str:
  """SHA-256 of the config without :data:`HARMLESS_FIELDS`."""
  as_dict = (
      config_to_dict(config) if isinstance(config, ml_collections.ConfigDict) else dict(config)
  )
  relevant = {k: v for k, v in as_dict.items() if k not in HARMLESS_FIELDS}
  return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def config_diff(
    old: Mapping, new: Mapping, prefix: str = "", skip: tuple[str, ...] = HARMLESS_FIELDS
) -> list[str]:
  """Dotted names of the fields that differ between two config dicts (not ``skip``'s)."""
  diffs = []
  for key in sorted(set(old) | set(new)):
    if not prefix and key in skip:
      continue
    a, b = old.get(key), new.get(key)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
      diffs += config_diff(a, b, f"{prefix}{key}.")
    elif a != b:
      diffs.append(f"{prefix}{key}: {a!r} -> {b!r}")
  return diffs


def harmless_changes(old: Mapping, new: Mapping) -> list[str]:
  """What differs between two config dicts in :data:`HARMLESS_FIELDS` (``plot.x: 'a' -> 'b'``)."""

  def harmless(config):
    return {k: v for k, v in config.items() if k in HARMLESS_FIELDS}

  return config_diff(harmless(old), harmless(new), skip=())


def fields_added_at_default(old: Mapping, new: Mapping, defaults: Mapping, prefix: str = ""):
  """The dotted fields ``new`` has and ``old`` lacks, if all of them equal ``defaults``.

  A workdir written before a setting existed ran with what that setting's
  default now means (a new field's default keeps old behaviour; the tests
  check bit-identity for each), so it may resume under the new code. Returns
  ``None`` when any other field differs, or an added field is not at its
  default.
  """
  added = []
  for key in sorted(set(old) | set(new)):
    if not prefix and key in HARMLESS_FIELDS:
      continue
    if key not in old and key in new:
      if not isinstance(defaults, Mapping) or key not in defaults or defaults[key] != new[key]:
        return None
      added.append(prefix + key)
    elif isinstance(old.get(key), Mapping) and isinstance(new.get(key), Mapping):
      inner = fields_added_at_default(
          old[key],
          new[key],
          defaults.get(key, {}) if isinstance(defaults, Mapping) else {},
          f"{prefix}{key}.",
      )
      if inner is None:
        return None
      added += inner
    elif old.get(key) != new.get(key):
      return None
  return added


def environment() -> dict:
  """Library versions and the devices this process runs on."""
  versions = {}
  for name in _LIBRARIES:
    with contextlib.suppress(importlib_metadata.PackageNotFoundError):
      versions[name] = importlib_metadata.version(name.replace("_", "-"))
  devices = jax.devices()
  return {
      "versions": versions,
      "python": platform.python_version(),
      "platform": devices[0].platform,
      "device_kind": devices[0].device_kind,
      "device_count": len(devices),
      "process_count": jax.process_count(),
      "precision": runtime.precision(),
      "host": platform.node(),
  }

"""A lock on a sweep's workdir for the duration of a run (POSIX ``flock``).

Two runs on one workdir would both compute every chunk, so a run holds:

- a single-task run: ``<workdir>/.lock``, exclusively;
- a task of an array job: ``.lock`` shared (the tasks of one array job run on
  one workdir at the same time on purpose, with different chunks) and
  ``.lock.task-<i>-of-<n>`` exclusively. Two copies of one task are refused,
  and so is a single-task run while array tasks run, or the reverse;
- a multi-host run (``jax.process_count() > 1``): process 0 alone locks, as
  it alone writes; the hosts of one run share the workdir by design.

Whoever holds a lock exclusively writes its pid, host and start time into
the lock file, and a refused run names it. The OS releases an ``flock`` when
the holding process ends, however it ends (``kill -9``, a crash, an
out-of-memory kill), so a stale lock never blocks a rerun and nothing needs
cleaning up; the lock files stay (removing one would race with a run opening
it). On NFS, Linux emulates ``flock`` with byte-range locks, which the server
frees only when a dead client's lease expires (about 90 s). Where the
filesystem has no locks (some FUSE mounts, Lustre without ``-o flock``) or
the OS no ``fcntl``, the run warns and goes on unlocked.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import socket

import jax
from absl import logging

from featurespring.sweep import results

try:
  import fcntl
except ImportError:  # not POSIX
  fcntl = None

LOCK_FILE = ".lock"


class WorkdirLockedError(RuntimeError):
  """Another run holds the workdir (or this task of it)."""


class WorkdirLock:
  """Holds the workdir lock of one task of a run; a context manager.

  Use ``with WorkdirLock(workdir, task_index, num_tasks):``, or ``acquire()``
  and ``release()``. The lock also goes when the object is garbage-collected
  (its files close), and when the process ends.
  """

  def __init__(self, workdir: str, task_index: int = 0, num_tasks: int = 1):
    self.workdir = workdir
    self.task_index, self.num_tasks = task_index, num_tasks
    self._files = []

  def __enter__(self) -> WorkdirLock:
    return self.acquire()

  def __exit__(self, *exc_info) -> None:
    self.release()

  def acquire(self) -> WorkdirLock:
    """Takes the lock (creating ``workdir`` if needed); returns ``self``.

    Raises:
      WorkdirLockedError: naming the holder, if another run holds it.
      NotADirectoryError: if ``workdir`` is a file.
    """
    results.check_workdir(self.workdir)
    if jax.process_index() != 0:
      return self
    if fcntl is None:
      logging.warning(
          "no fcntl on this OS: %s is not locked; a concurrent run on it " "would not be detected",
          self.workdir,
      )
      return self
    os.makedirs(self.workdir, exist_ok=True)
    try:
      if self.num_tasks == 1:
        self._lock(LOCK_FILE, fcntl.LOCK_EX)
      else:
        self._lock(LOCK_FILE, fcntl.LOCK_SH)
        self._lock(f"{LOCK_FILE}.task-{self.task_index}-of-{self.num_tasks}", fcntl.LOCK_EX)
    except BaseException:
      self.release()
      raise
    return self

  def release(self) -> None:
    """Releases the lock (closing a file releases its ``flock``)."""
    for f in self._files:
      f.close()
    self._files = []

  def _lock(self, name: str, mode: int) -> None:
    path = os.path.join(self.workdir, name)
    # "a+" creates the file without erasing the details of a current holder.
    f = open(path, "a+", encoding="utf-8")  # pylint: disable=consider-using-with
    try:
      fcntl.flock(f, mode | fcntl.LOCK_NB)
    except BlockingIOError:
      message = self._refusal(f, path, mode)
      f.close()
      raise WorkdirLockedError(message) from None
    except OSError as e:
      f.close()
      logging.warning(
          "cannot lock %s (%s): this filesystem has no flock, so a "
          "concurrent run on %s would not be detected",
          path,
          e,
          self.workdir,
      )
      return
    self._files.append(f)
    if mode == fcntl.LOCK_EX:
      f.seek(0)
      f.truncate()
      f.write(
          json.dumps(
              {
                  "pid": os.getpid(),
                  "host": socket.gethostname(),
                  "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "task_index": self.task_index,
                  "num_tasks": self.num_tasks,
              }
          )
      )
      f.flush()

  def _refusal(self, f, path: str, mode: int) -> str:
    """Why ``path`` could not be locked in ``mode``, naming who holds it."""
    retry = (
        "Wait for it to finish or stop it; the OS frees the lock of a run "
        "that ends in any way, killed ones too."
    )
    if mode == fcntl.LOCK_EX and os.path.basename(path) == LOCK_FILE:
      try:
        fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
      except BlockingIOError:
        pass  # an exclusive holder: another single-task run, named below
      else:  # only shared holders: an array job's tasks (the lock goes with f)
        tasks = sorted(glob.glob(glob.escape(path) + ".task-*"))
        return (
            f"workdir {self.workdir} is in use by the tasks of an array job, which "
            f"hold {path} shared; running the whole sweep now would compute their "
            f"chunks again. Their task lock files (the running ones among them): "
            f"{'; '.join(f'{t}: {_holder(t)}' for t in tasks) or 'none yet'}. {retry}"
        )
    return (
        f"workdir {self.workdir} is in use by another run: {_holder(path)} holds "
        f"{path}. {retry}"
    )


def _holder(path: str) -> str:
  """The holder's details that ``path`` records."""
  try:
    with open(path, encoding="utf-8") as f:
      info = json.load(f)
    return (
        f"pid {info['pid']} on host {info['host']} since {info['since']} (task "
        f"{info['task_index']} of {info['num_tasks']})"
    )
  except (OSError, ValueError, KeyError, TypeError):
    return "a process that has not written its details yet"

"""Test-session setup shared by all test modules."""

import atexit
import gc
import os
import shutil
import tempfile

# One persistent compilation cache for the test session, inherited by the
# subprocesses the tests start: `_release_compiled_programs` below drops
# every module's programs, and later modules and the entry points run in
# subprocesses compile many of the same ones again (13 min 49 s for the
# suite against 14 min 40 s without, on 2026-12-07). A fresh directory each
# session, removed by the process that made it, unless the caller set
# JAX_COMPILATION_CACHE_DIR, which is then used (under pytest-xdist, one
# subdirectory of it per worker, below). Its writes are not
# atomic: tests that kill a process, or run two on the same programs at
# once, leave it out of their subprocesses' environment.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _CACHE_DIR = tempfile.mkdtemp(prefix="featurespring-tests-xla-")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE_DIR
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  _OWNER = os.getpid()
  atexit.register(lambda: os.getpid() == _OWNER and shutil.rmtree(_CACHE_DIR, ignore_errors=True))
# pytest-xdist's workers inherit that directory and run at once: each writes
# into its own subdirectory, so that no entry is written by two at a time.
if os.environ.get("PYTEST_XDIST_WORKER"):
  os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(
      os.environ["JAX_COMPILATION_CACHE_DIR"], os.environ["PYTEST_XDIST_WORKER"]
  )

from featurespring import runtime

# Before any test touches JAX: see featurespring.runtime for the hang it avoids.
runtime.configure_xla_cpu()

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position  (after the XLA setting)
import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


def pytest_xdist_auto_num_workers(config):  # pylint: disable=unused-argument
  """`-n auto` (pyproject.toml): one worker per CPU this process may run on.

  pytest-xdist's own count is psutil's physical cores, which is 1 on a host
  with two hyperthreads and ignores the CPUs that `taskset` or a
  container's cpuset leaves. PYTEST_XDIST_AUTO_NUM_WORKERS still decides
  when it is set;
  `--maxprocesses` caps either.
  """
  if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
    return None  # xdist's own hook reads it
  return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
  """Frees each module's compiled programs when it is done.

  XLA:CPU maps every compiled executable's code into memory; one process
  running the whole suite kept them all, reached the kernel's
  vm.max_map_count (65530 mappings; 20 000 after three test files) and
  crashed inside a later compile (a segfault or an abort, not a test
  failure). With this, a module's mappings are released when it ends (back
  to about 800); later modules recompile what they use.
  """
  yield
  jax.clear_caches()
  gc.collect()

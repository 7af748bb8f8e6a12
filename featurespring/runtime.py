"""Process-level runtime settings that must be made before JAX starts.

XLA's multi-threaded Eigen pool on CPU has been seen to wedge (worker threads
parked on a futex, no CPU use, the process waiting forever) while
materialising results of vmapped training graphs: here in about 3 of 10 DNN
sweep runs, and upstream (PyAutoFit issues 1528/1530: 14 hangs in 16 runs
with the pool, none in 12 without). The single-threaded Eigen path avoids
it; XLA's own fusion-level parallelism is unaffected. Entry points and the
test suite call :func:`configure_xla_cpu` first; a user who sets the flag
explicitly in ``XLA_FLAGS`` (either value) keeps their choice.
"""

import os

EIGEN_FLAG = "--xla_cpu_multi_thread_eigen"


def configure_xla_cpu() -> None:
  """Adds ``--xla_cpu_multi_thread_eigen=false`` to XLA_FLAGS unless set.

  Only effective before the XLA backend initialises (the first JAX
  computation); subprocesses inherit it through the environment.
  """
  flags = os.environ.get("XLA_FLAGS", "")
  if EIGEN_FLAG not in flags:
    os.environ["XLA_FLAGS"] = f"{flags} {EIGEN_FLAG}=false".strip()

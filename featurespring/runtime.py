"""Process-level runtime settings that must be made before JAX starts.

XLA's multi-threaded Eigen pool on CPU has been seen to wedge (worker threads
parked on a futex, no CPU use, the process waiting forever) while
materialising results of vmapped training graphs: here in about 3 of 10 DNN
sweep runs, and upstream (PyAutoFit issues 1528/1530: 14 hangs in 16 runs
with the pool, none in 12 without). The single-threaded Eigen path avoids
it; XLA's own fusion-level parallelism is unaffected. Importing
``featurespring`` calls :func:`configure_xla_cpu`, so entry points, tests and
notebooks all get it; a user who sets the flag explicitly in ``XLA_FLAGS``
(either value) keeps their choice. The flag only concerns the CPU backend:
GPU and TPU runs ignore it. Why: XLA_FLAGS is parsed once per process into
XLA's DebugOptions, which every backend accepts, and the ``xla_cpu_*``
options are read only by the CPU compiler and runtime (this one chooses
how the CPU runtime runs Eigen matmuls and convolutions); a GPU or TPU
program never goes through them. In such a process only computations on
``jax.devices('cpu')`` (host-side work) are affected, and they stay correct,
single-threaded in Eigen. benchmarks/accelerator.py records XLA_FLAGS with
its results.
"""

import os
import sys
import warnings

EIGEN_FLAG = "--xla_cpu_multi_thread_eigen"


def configure_xla_cpu() -> None:
  """Adds ``--xla_cpu_multi_thread_eigen=false`` to XLA_FLAGS unless set.

  Only effective before the XLA backend initialises (the first JAX
  computation); subprocesses inherit it through the environment.
  """
  flags = os.environ.get("XLA_FLAGS", "")
  if EIGEN_FLAG in flags:
    return
  os.environ["XLA_FLAGS"] = f"{flags} {EIGEN_FLAG}=false".strip()
  if "jax" in sys.modules and _jax_backends_started():
    warnings.warn(
        "JAX started before featurespring was imported, so XLA_FLAGS "
        f"{EIGEN_FLAG}=false is not in effect; vmapped training on CPU may "
        "hang. Import featurespring before running any JAX computation, or "
        f"set XLA_FLAGS='{EIGEN_FLAG}=false' before starting Python.",
        RuntimeWarning,
        stacklevel=3,
    )


def _jax_backends_started() -> bool:
  """Whether JAX has created its backends (after which flags are fixed)."""
  try:
    from jax._src import xla_bridge  # pylint: disable=g-import-not-at-top

    return bool(xla_bridge.backends_are_initialized())
  except (ImportError, AttributeError):  # a JAX without this private probe
    return False


def check_float32(what: str) -> None:
  """Raises ``ValueError`` if ``jax_enable_x64`` is on: ``what`` is float32 only.

  With x64 on, JAX makes Python floats and NumPy float64 inputs float64
  arrays: the networks' training loop, whose carries are float32, would not
  trace, and the chains' closed forms would come out float64 under an
  unchanged config. Refused instead, before anything compiles.
  """
  import jax  # pylint: disable=g-import-not-at-top

  if jax.config.jax_enable_x64:
    raise ValueError(
        f"jax_enable_x64 is on (JAX_ENABLE_X64 or jax.config): {what} computes in "
        "float32 only; unset JAX_ENABLE_X64, or call "
        "jax.config.update('jax_enable_x64', False) first"
    )


def precision() -> dict:
  """The numeric precision of this process's computations, for manifests and sidecars."""
  import jax  # pylint: disable=g-import-not-at-top

  return {
      "dtype": "float64" if jax.config.jax_enable_x64 else "float32",
      # None: the backend's default (on GPU, TF32 matmuls where supported).
      "default_matmul_precision": jax.config.jax_default_matmul_precision,
  }

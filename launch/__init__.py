"""Command-line entry points: sweeps, merges, figures, the main job.

``python -m launch.sweep``  run (or resume) one figure's sweep into a workdir;
                            ``--task_index/--num_tasks`` (or SLURM array
                            variables) split it, ``--merge_only`` joins parts.
``python -m launch.plot``   draw a merged sweep's figures.
``python -m launch.main``   the main job: both engines' small sweeps + figures.

Batch-job templates (each header says how to submit it and what to edit):

``launch/slurm_submit.sh``     makes logs/, submits the array job, then the merge
                               job after it (``--dependency=afterok``).
``launch/slurm_array.sh``      SLURM array job: each task runs a share of chunks.
``launch/slurm_merge.sh``      SLURM merge job: 1 CPU, no GPU, ``--merge_only``.
``launch/slurm_multinode.sh``  one sweep over many nodes: ``srun``, one
                               ``--multihost`` process per GPU.
``launch/tpu_vm.sh``           multi-host sweep on a TPU VM slice via gcloud ssh,
                               in the background with a log per worker.

Workdirs must be local or POSIX paths (incl. NFS, Lustre and gcsfuse mounts),
not ``gs://`` URLs: the sweep writes through ``os.path`` and ``open`` and
commits every file with an atomic ``os.replace`` rename, which needs a POSIX
filesystem (a URL would silently become a local directory named ``gs:``). For
GCS, mount the bucket with gcsfuse on every host and pass the mount path.

Workdir format (``featurespring.sweep``)::

  sweep.json                 manifest: full resolved config, config_hash, grid
                             axes (names, values, zipped fields), precision
                             (float32; sweeps refuse JAX_ENABLE_X64), chunk list
  parts/chunk_NNNNN.npz      one chunk's arrays, leading axis = its members,
                             plus ``members`` (flat indices into the grid)
  parts/chunk_NNNNN.json     its sidecar (its last invocation's wall time and
                             the chunk's time before that invocation,
                             wall_time_s_before_resume; resumed_from_unit,
                             environment,
                             npz_sha256: the checksum its .npz must match)
  checkpoints/chunk_NNNNN.npz  state of an unfinished chunk and its wall time so
                             far (removed when done), with the previous one
                             kept as chunk_NNNNN.prev.npz
  *.corrupt                  a damaged part or checkpoint, moved aside (its
                             chunk is computed again)
  .lock, .lock.task-I-of-N   flock files of the running run / array tasks
  results.npz                merged arrays ``[*grid_shape, ...]`` and
                             ``axis/<name>`` coordinates; grid axes are the
                             config.grid keys in sorted order, then ``seed``
  results.json               config, config_hash, grid, grid_names, grid_shape,
                             dims (each array's dimension names, for
                             ``sweep.load``), seeds, array shapes, units, wall
                             time (summed over the chunks' last invocations;
                             sweep.total_wall_time adds the time before
                             resumes), environment (library versions, python,
                             platform, device kind and count, process count,
                             precision)
  figures/*.png, *.pdf       from launch.plot

Every file is written to a temporary name and moved into place with
``os.replace``; a result exists when its ``.json`` sidecar does and its
``.npz`` matches the checksum there. Load a merged sweep with
``featurespring.sweep.load(workdir)`` (an ``xarray.Dataset`` with named
dimensions) or ``featurespring.sweep.load_result(workdir) -> (arrays, sidecar)``.

Arrays are named as everywhere in featurespring (``featurespring.vocabulary``;
the README's table): both engines give ``load_curve`` ``[..., L+1]``,
``curvature``, ``spread``, ``diverged`` and ``history/load_curve``
``[..., T, L+1]`` (its snapshots: epochs 1..E for networks, ``history/time``
and ``history/step`` for chains); chains add ``positions``, ``stop_step``,
``theory/{mu_eff,load_curve,curvature}``; networks add ``accuracy`` (test),
``accuracy_train``, ``load_curve_test``, ``load_curve_pinv[_test]``,
``curvature_{test,pinv,pinv_test}``, ``stop_epoch`` and ``history/<name>``
for every per-epoch metric of ``featurespring.train.train_epochs``
(``history/accuracy``, ``history/loss`` ...). Regression sweeps
(``config.dnn.regression``) have regression-load curves (RMSE of the best
affine fit per layer) in ``load_curve[_test]``, the nets' test RMSE in
``rmse``, and no accuracy or pinv arrays. Results merged by earlier releases
(``trajectory``, ``history/sep/train`` ...) load under these names.
"""

import contextlib as _contextlib
import errno as _errno
import logging as _logging
import os as _os
import sys as _sys

# Batch jobs draw into files; a forwarded DISPLAY must not pick a GUI backend.
_os.environ.setdefault("MPLBACKEND", "Agg")
# JAX probes every backend it knows and logs, at INFO, each one it cannot
# start ("Unable to initialize backend 'tpu'") on every CPU or GPU run; the
# entry points log at INFO, so that line would open every log as if it were
# a problem. A backend that is asked for and fails still raises.
_logging.getLogger("jax._src.xla_bridge").setLevel(_logging.WARNING)

# Imported before JAX starts: featurespring's import applies the XLA:CPU
# setting that avoids the thread-pool hang (see featurespring.runtime).
import featurespring  # pylint: disable=unused-import,wrong-import-position

# Exit statuses of the entry points, for batch scripts: 2 a mistake in the
# command or config (fix it first); 75 (EX_TEMPFAIL) the machine refused
# (disk full, read-only or unwritable path, a peer that never came): fix that
# and rerun the same command; 130 interrupted (Ctrl-C, SIGINT): rerun it.
EXIT_USAGE, EXIT_RETRY, EXIT_INTERRUPTED = 2, 75, 130

_OS_ADVICE = {
    _errno.ENOSPC: "free space there, or pass another --workdir",
    _errno.EDQUOT: "free space under the quota, or pass another --workdir",
    _errno.EROFS: "pass a --workdir on a writable filesystem",
    _errno.EACCES: "make it writable for this user, or pass another --workdir",
    _errno.EPERM: "make it writable for this user, or pass another --workdir",
}


def fail(program: str, message: str, status: int = EXIT_USAGE):
  """Ends the program with one line on stderr."""
  print(f"{program}: error: {message}", file=_sys.stderr)
  _sys.exit(status)


def os_error_message(err: OSError) -> str:
  """One line for an OS refusal: the path, what the OS said, what to do."""
  where = err.filename if err.filename is not None else "a file"
  advice = _OS_ADVICE.get(err.errno, "fix the cause")
  return f"{where}: {err.strerror or err}; {advice}"


@_contextlib.contextmanager
def resumable(program: str, resume: str):
  """Turns Ctrl-C and OS refusals into one line and an exit status.

  Everything the entry points write is atomic and resumable, so a traceback
  there tells a user nothing that ``resume`` (what rerunning does) does not.
  Mistakes a user makes (``FileNotFoundError``, ``NotADirectoryError``, ...)
  are the caller's to report; any other ``OSError`` the machine raised.
  """
  try:
    yield
  except KeyboardInterrupt:
    fail(program, f"interrupted; nothing written is damaged: {resume}", EXIT_INTERRUPTED)
  except (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError):
    raise
  except OSError as err:
    fail(program, f"{os_error_message(err)}; then {resume}", EXIT_RETRY)


def run_main(main, module_name, doc, **kwargs):
  """``app.run(main)`` for ``python -m launch.<x>`` and its ``featurespring-<x>`` script.

  A console script's ``__main__`` is a stub, and absl's ``--help`` lists the
  flags of the main module under ``sys.argv[0]``: name the entry module
  instead, and give the stub its usage text.
  """
  from absl import app  # pylint: disable=g-import-not-at-top

  if module_name != "__main__":
    _sys.argv[0] = module_name
    _sys.modules["__main__"].__doc__ = doc
  app.run(main, **kwargs)

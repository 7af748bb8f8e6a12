"""Sweeps over phase diagrams: array tasks, devices, resumable results, engines.

The pieces, one concept per module:

- :mod:`~featurespring.grids` (below this package): named grid axes <-> one
  flat member axis, and its compiled batches (chunks).
- :mod:`~featurespring.sweep.chunks`: which array task runs which chunk.
- :mod:`featurespring.sharding`: the member axis over devices and hosts (shared with
  :func:`featurespring.train.train_grid`).
- :mod:`~featurespring.sweep.engine`: the interface an engine implements
  (springs in ``springs_engine``, networks in ``dnn_engine``).
- :mod:`~featurespring.sweep.results`: atomic ``.npz`` + JSON result files.
- :mod:`~featurespring.sweep.checkpoint`: atomic state checkpoints.
- :mod:`~featurespring.sweep.lock`: one run per workdir (array tasks share it).
- :mod:`~featurespring.sweep.memory`: device-memory footprints and chunk sizing.
- :mod:`~featurespring.sweep.dryrun`: plan, task shares and a measured estimate.
- :mod:`featurespring.progress` (below this package): progress lines with rate
  and ETA, shared with :func:`featurespring.train.train_grid`.
- :mod:`~featurespring.sweep.runner`: running a task's chunks into a workdir.
- :mod:`~featurespring.sweep.merging`: joining parts into one result.
- :mod:`~featurespring.sweep.dataset`: a merged result as a named ``xarray.Dataset``.
- :mod:`~featurespring.sweep.config`: the common config fields.

Typical use (what ``python -m launch.sweep`` does)::

  config = sweep.base_config("springs"); config.grid.noise = (0.0, 0.1)
  sweep.run(config, workdir)
  ds = sweep.load(workdir)      # xarray.Dataset: grid axes, layer, epoch, ...
"""

from featurespring.grids import SEED_AXIS, Axis, Chunk, Grid, plan_chunks
from featurespring.sweep.chunks import chunks_for_task, task_from_env
from featurespring.sweep.dataset import load
from featurespring.sweep.config import base_config, load_config, parse_arg, runlocal
from featurespring.sweep.engine import ENGINES, Engine, engine_class
from featurespring.sweep.merging import load_result, merge, total_wall_time
from featurespring.progress import Progress
from featurespring.sweep.results import HARMLESS_FIELDS, config_hash
from featurespring.sweep.runner import (
    WorkdirMismatchError,
    check_common_fields,
    plan,
    run,
    validate,
    workdir_status,
)
from featurespring.sharding import initialize_distributed, member_mesh

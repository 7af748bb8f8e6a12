r"""Runs a sweep (one paper figure) into a workdir; rerun the same command to resume.

  python -m launch.sweep --config=experiments/fig3_springs.py --workdir=runs/fig3
  python -m launch.sweep --config=experiments/fig3_springs.py:runlocal --workdir=/tmp/fig3
  python -m launch.sweep --config=experiments/fig1a_label_noise.py \
      --config.seeds=3 --config.grid.alpha='(0.0,0.5,1.0)' --workdir=runs/fig1a

Array job (each task writes its own parts; merge once all are done):

  python -m launch.sweep --config=... --workdir=... --task_index=3 --num_tasks=16
  python -m launch.sweep --workdir=... --merge_only

Without --task_index/--num_tasks, SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
are used when set. Results: see ``launch/__init__.py``.
"""

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from featurespring import sweep

_CONFIG = config_flags.DEFINE_config_file(
    "config", None,
    "Experiment config file, e.g. experiments/fig3_springs.py (append ':runlocal' "
    "for a smoke-test size). Override any field with --config.<field>=<value>.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Directory for the manifest, parts, checkpoints and results; "
    "rerunning with the same workdir resumes.", required=True)
_TASK_INDEX = flags.DEFINE_integer(
    "task_index", None, "This task's index in an array job (default: "
    "SLURM_ARRAY_TASK_ID, else 0).", lower_bound=0)
_NUM_TASKS = flags.DEFINE_integer(
    "num_tasks", None, "Number of tasks in the array job (default: "
    "SLURM_ARRAY_TASK_COUNT, else 1).", lower_bound=1)
_MERGE = flags.DEFINE_enum(
    "merge", "auto", ["auto", "always", "never"],
    "Merge the parts into results.npz after running: 'auto' does it for a "
    "single-task job only.")
_MERGE_ONLY = flags.DEFINE_bool(
    "merge_only", False, "Only merge the finished parts in --workdir (no "
    "--config needed); fails naming the missing chunks if any.")
_MULTIHOST = flags.DEFINE_bool(
    "multihost", False, "Call jax.distributed.initialize() first and shard "
    "every chunk over the devices of all hosts (TPU pods, multi-node GPU).")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  if _MERGE_ONLY.value:
    logging.info("merged into %s.npz", sweep.merge(_WORKDIR.value))
    return
  if _CONFIG.value is None:
    raise app.UsageError("--config is required (unless --merge_only)")
  if _MULTIHOST.value:
    sweep.initialize_distributed()
  merge = {"auto": None, "always": True, "never": False}[_MERGE.value]
  stem = sweep.run(_CONFIG.value, _WORKDIR.value, task_index=_TASK_INDEX.value,
                   num_tasks=_NUM_TASKS.value, merge=merge)
  if stem:
    logging.info("results: %s.npz and %s.json", stem, stem)


if __name__ == "__main__":
  app.run(main)

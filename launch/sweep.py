r"""Runs a sweep (one paper figure) into a workdir; rerun the same command to resume.

  python -m launch.sweep --config=experiments/fig3_springs.py --workdir=runs/fig3
  python -m launch.sweep --config=experiments/fig3_springs.py:runlocal --workdir=/tmp/fig3
  featurespring-sweep --config=fig3_springs:runlocal --workdir=/tmp/fig3   # from any directory
  python -m launch.sweep --config=experiments/fig1a_label_noise.py \
      --config.seeds=3 --config.grid.alpha='(0.0,0.5,1.0)' --workdir=runs/fig1a

A grid axis the config does not have yet is added the same way
(``--config.grid.dropout='(0.0,0.1)'`` sweeps ``config.<engine>.dropout``).
Plan first, without writing anything (grid, chunks, each task's share, a
measured run-time estimate):

  python -m launch.sweep --config=experiments/fig1a_label_noise.py --workdir=runs/fig1a \
      --num_tasks=8 --dry_run

Array job (each task writes its own parts; merge once all are done):

  python -m launch.sweep --config=... --workdir=... --task_index=3 --num_tasks=16
  python -m launch.sweep --workdir=... --merge_only

Without --task_index/--num_tasks, SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
are used when set. Mistakes in the config or the command line end in one line
naming the config path (exit status 2), not a traceback. Results: see
``launch/__init__.py``.
"""

import ast
import difflib
import sys

from absl import flags
from absl import logging
import ml_collections
from ml_collections import config_flags

import launch
from featurespring import sweep
from featurespring.sweep import dryrun
from featurespring.sweep import lock
from launch import configs

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    None,
    "Experiment config: a shipped name (fig3_springs, control/control_fig1c) or a "
    "file, e.g. experiments/fig3_springs.py (append ':runlocal' for a smoke-test size). Override any field with --config.<field>=<value>; "
    "--config.grid.<name>=<values> adds or replaces a grid axis.",
    lock_config=True,
)
_WORKDIR = flags.DEFINE_string(
    "workdir",
    None,
    "Directory for the manifest, parts, checkpoints and results; "
    "rerunning with the same workdir resumes.",
    required=True,
)
_TASK_INDEX = flags.DEFINE_integer(
    "task_index",
    None,
    "This task's index in an array job (default: " "SLURM_ARRAY_TASK_ID, else 0).",
    lower_bound=0,
)
_NUM_TASKS = flags.DEFINE_integer(
    "num_tasks",
    None,
    "Number of tasks in the array job (default: " "SLURM_ARRAY_TASK_COUNT, else 1).",
    lower_bound=1,
)
_MERGE = flags.DEFINE_enum(
    "merge",
    "auto",
    ["auto", "always", "never"],
    "Merge the parts into results.npz after running: 'auto' does it for a " "single-task job only.",
)
_MERGE_ONLY = flags.DEFINE_bool(
    "merge_only",
    False,
    "Only merge the finished parts in --workdir (no "
    "--config needed); fails naming the missing chunks if any.",
)
_MULTIHOST = flags.DEFINE_bool(
    "multihost",
    False,
    "Call jax.distributed.initialize() first and shard "
    "every chunk over the devices of all hosts (TPU pods, multi-node GPU).",
)
_MULTIHOST_TIMEOUT = flags.DEFINE_float(
    "multihost_timeout_s",
    300.0,
    "With --multihost: seconds to wait for every process to join; a process "
    "still waiting then ends (exit status 75) with one line saying what to check.",
    lower_bound=1.0,
)
_DRY_RUN = flags.DEFINE_bool(
    "dry_run",
    False,
    "Print the grid, the chunks and each task's share, and "
    "estimate the run time from one short measured step; writes nothing.",
)
_DRY_RUN_MEASURE = flags.DEFINE_bool(
    "dry_run_measure",
    True,
    "With --dry_run: also compile and time one step "
    "(seconds to minutes); false prints the plan alone.",
)

_GRID_PREFIX = "--config.grid."

# Errors a user can fix from the command line or the config: shown as one line.
_USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    FileExistsError,
    sweep.WorkdirMismatchError,
    lock.WorkdirLockedError,
)


_RESUME = (
    "rerun the same command to resume (finished chunks are kept; the unfinished "
    "one goes on from its last checkpoint)"
)


def _fail(message: str):
  """Ends the program with one line on stderr and exit status 2."""
  launch.fail("launch.sweep", message)


def _grid_overrides(argv: list[str]) -> tuple[list[str], dict[str, str]]:
  """Takes ``--config.grid.<name>=<values>`` out of ``argv``.

  ml_collections refuses to override a field the locked config lacks, so a
  new grid axis could not be added from the command line; these flags are
  applied after parsing instead (see :func:`_apply_grid_overrides`). Zipped
  axes' fields (``--config.grid.case.k=...``) stay with config_flags.
  """
  rest, grid = [], {}
  args = iter(argv)
  for arg in args:
    if arg.startswith(_GRID_PREFIX) and "." not in arg[len(_GRID_PREFIX) :].split("=")[0]:
      name, has_value, value = arg[len(_GRID_PREFIX) :].partition("=")
      if not has_value:
        value = next(args, None)
        if value is None:
          _fail(f"{arg} needs a value, e.g. {arg}='(0.0,0.1)'")
      grid[name] = value
    else:
      rest.append(arg)
  return rest, grid


def _parse_values(name: str, text: str):
  """``'(0.0,0.1)'`` -> ``(0.0, 0.1)``; ``'relu,tanh'`` -> ``('relu', 'tanh')``."""
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    value = tuple(v.strip() for v in text.strip("()[] ").split(",") if v.strip())
    if not value:
      _fail(
          f"config.grid.{name}: cannot read values from {text!r}; write e.g. "
          f"--config.grid.{name}='(0.0,0.1)'"
      )
  return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _apply_grid_overrides(config: ml_collections.ConfigDict, grid: dict[str, str]) -> None:
  with config.unlocked():
    for name, text in grid.items():
      config.grid[name] = _parse_values(name, text)


def _unknown_field_message(argv: list[str], error: Exception) -> str:
  """One line for a ``--config.<path>`` override that names no field."""
  spec = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
  config = None
  if spec is not None:
    try:
      config = sweep.load_config(spec)
    except Exception:  # pylint: disable=broad-except
      config = None
  for arg in argv:
    if not arg.startswith("--config."):
      continue
    path = arg[len("--config.") :].split("=", 1)[0].split(".")
    node, walked = config, ["config"]
    for part in path:
      if not isinstance(node, ml_collections.ConfigDict):
        break
      if part not in node:
        close = difflib.get_close_matches(part, list(node.keys()), n=1)
        hint = (
            f"; did you mean {'.'.join(walked + close)}?"
            if close
            else (f"; fields there: {', '.join(sorted(node.keys()))}")
        )
        return f"{'.'.join(walked + [part])} is not a field of the config{hint}"
      node, walked = node[part], walked + [part]
  return f"could not apply a --config override: {error}"


def _resolve_config_arg(argv: list[str]) -> list[str]:
  """``argv`` with ``--config``'s name or path resolved and loaded once (one-line errors)."""
  out = list(argv)
  for i, arg in enumerate(out):
    if arg.startswith("--config="):
      out[i] = "--config=" + configs.check(arg[len("--config=") :])
    elif arg == "--config" and i + 1 < len(out):
      out[i + 1] = configs.check(out[i + 1])
  return out


def _parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, with config mistakes reported in one line."""
  try:
    argv = _resolve_config_arg(argv)
  except configs.ConfigError as err:
    _fail(str(err))
  rest, grid = _grid_overrides(argv)
  # config_flags finds its overrides in sys.argv, not in the argv passed here.
  sys.argv[:] = rest
  try:
    remaining = flags.FLAGS(rest)
  except flags.Error as err:
    _fail(str(err))
  except (AttributeError, KeyError, TypeError, ValueError) as err:
    _fail(_unknown_field_message(rest, err))
  if grid:
    if _CONFIG.value is None:
      _fail("--config.grid.* needs --config")
    _apply_grid_overrides(_CONFIG.value, grid)
  return remaining


def _dry_run(config: ml_collections.ConfigDict) -> None:
  plan = sweep.plan(config)
  _, num_tasks = sweep.task_from_env(_TASK_INDEX.value, _NUM_TASKS.value)
  lines = dryrun.describe(plan, num_tasks) + dryrun.memory_lines(plan)
  lines.append(sweep.workdir_status(_WORKDIR.value, plan))
  # Printed before measuring: a chunk too large for the device fails the
  # measurement, and the memory warning above is what explains it.
  print("\n".join(lines), flush=True)
  if _DRY_RUN_MEASURE.value:
    print("\n".join(dryrun.estimate_lines(plan, dryrun.measure(plan), num_tasks)))


def main(argv):
  if len(argv) > 1:
    _fail(f"unexpected arguments: {argv[1:]}")
  if "://" in _WORKDIR.value:
    _fail(
        f"--workdir {_WORKDIR.value}: only local or mounted POSIX paths are "
        "supported (atomic renames and file locks); mount the bucket (gcsfuse) "
        "and pass the mount path"
    )
  resume = "rerun the same command" if _MERGE_ONLY.value else _RESUME
  try:
    with launch.resumable("launch.sweep", resume):
      stem = _run(_CONFIG.value)
  except _USER_ERRORS as err:
    _fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
  if stem:
    logging.info("results: %s.npz and %s.json", stem, stem)


def _run(config: ml_collections.ConfigDict | None) -> str | None:
  """Merges, plans or runs, as the flags say; the merged stem, if any."""
  if _MERGE_ONLY.value:
    stem = sweep.merge(_WORKDIR.value)
    logging.info("merged into %s.npz", stem)
    return None
  if config is None:
    _fail("--config is required (unless --merge_only)")
  if _DRY_RUN.value:
    _dry_run(config)
    return None
  if _MULTIHOST.value:
    sweep.initialize_distributed(timeout_s=_MULTIHOST_TIMEOUT.value)
  # Validated once, before anything compiles; the plan is what runs.
  plan = sweep.plan(config)
  merge = {"auto": None, "always": True, "never": False}[_MERGE.value]
  return sweep.run(
      plan, _WORKDIR.value, task_index=_TASK_INDEX.value, num_tasks=_NUM_TASKS.value, merge=merge
  )


def run():
  """The ``featurespring-sweep`` console script."""
  launch.run_main(main, __name__, __doc__, flags_parser=_parse_flags)


if __name__ == "__main__":
  run()

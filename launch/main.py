r"""The main job: both engines' small sweeps and their figures, one command.

  python -m launch.main --workdir=runs/main
  python -m launch.main --workdir=/tmp/main --runlocal    # seconds-long smoke test

Runs experiments/main.py for chains (<workdir>/springs) and networks
(<workdir>/dnn), with progress lines, then draws each sweep's figures and
the paper's Fig. 4 layout (networks beside chains) into <workdir>/figures.
Rerunning resumes, as with launch.sweep.
"""

import os

from absl import app
from absl import flags
from absl import logging

import launch
from featurespring import sweep
from featurespring.analysis import figures
from launch import configs

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Where both sweeps and the figures go.", required=True
)
_RUNLOCAL = flags.DEFINE_bool("runlocal", False, "Smoke-test sizes (seconds).")

CONFIG = os.path.join(configs.EXPERIMENTS_DIR, "main.py")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  with launch.resumable("launch.main", "rerun the same command to resume"):
    _main_job()


def _main_job():
  workdirs = {}
  for engine in ("springs", "dnn"):
    arg = f"engine={engine}" + (",runlocal" if _RUNLOCAL.value else "")
    workdirs[engine] = os.path.join(_WORKDIR.value, engine)
    logging.info("main job: %s sweep into %s", engine, workdirs[engine])
    sweep.run(sweep.load_config(f"{CONFIG}:{arg}"), workdirs[engine])
  outdir = os.path.join(_WORKDIR.value, "figures")
  figures.make_figures(workdirs["springs"], os.path.join(outdir, "springs"))
  written = figures.make_figures(
      workdirs["dnn"], os.path.join(outdir, "dnn"), beside=workdirs["springs"]
  )
  logging.info("figures in %s (e.g. %s)", outdir, written[-2])


def run():
  """The ``featurespring-main`` console script."""
  launch.run_main(main, __name__, __doc__)


if __name__ == "__main__":
  run()

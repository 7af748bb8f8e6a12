r"""Every spring-block figure in one command: paper Fig. 3, S13, S14 and Fig. 4 (chains).

A wrapper around the main route, for each config below what

  python -m launch.sweep --config=experiments/<config> --workdir=<outdir>/<name>
  python -m launch.plot --workdir=<outdir>/<name>

do: the sweep into a resumable workdir (rerun to resume; a finished sweep is
only re-plotted), its figures into ``<outdir>/<name>/figures``. ``--outdir``
laid out so is what ``experiments/reproduction/report.py --runs`` reads.

  python experiments/springs_phase_diagram.py --outdir=runs/springs
  # smoke test (each config's :runlocal): --quick --outdir=/tmp/springs
"""

from __future__ import annotations

import os

from absl import app
from absl import flags
from absl import logging

from featurespring import springs
from featurespring import sweep
from featurespring.analysis import figures

_OUTDIR = flags.DEFINE_string(
    "outdir", "runs/springs", "Where the sweep workdirs go, one " "per config."
)
_SEEDS = flags.DEFINE_integer(
    "seeds", None, "Independent chains per grid cell (default: " "each config's seeds)."
)
_DYNAMICS = flags.DEFINE_list(
    "dynamics", list(springs.DYNAMICS), "Dynamics to run: the " "configs whose chains have them."
)
_QUICK = flags.DEFINE_bool("quick", False, "Each config's :runlocal (smoke test).")

# Workdir name -> sweep config in experiments/ and its argument.
CONFIGS = {
    "fig3": ("fig3_springs.py", ""),
    "s13": ("s13_springs_second_order.py", ""),
    "s14": ("s14_springs_langevin.py", ""),
    "fig4_springs": ("fig4_dynamics.py", "engine=springs"),
}


def load_config(name, quick=False, seeds=None):
  """The sweep config of workdir ``name``, as ``--config=...[:runlocal]`` loads it."""
  path, arg = CONFIGS[name]
  arg = ",".join(filter(None, (arg, "runlocal" if quick else "")))
  config = sweep.load_config(
      os.path.join(os.path.dirname(os.path.abspath(__file__)), path) + (f":{arg}" if arg else "")
  )
  if seeds is not None:
    config.seeds = seeds
  return config


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  unknown = set(_DYNAMICS.value) - set(springs.DYNAMICS)
  if unknown:
    raise app.UsageError(f"--dynamics must be among {springs.DYNAMICS}, got {sorted(unknown)}")
  for name in CONFIGS:
    config = load_config(name, _QUICK.value, _SEEDS.value)
    if config.springs.dynamics not in _DYNAMICS.value:
      continue
    workdir = os.path.join(_OUTDIR.value, name)
    sweep.run(config, workdir)
    logging.info("%s: wrote %s", name, ", ".join(figures.make_figures(workdir)))
  print(f"Spring sweeps and figures written to {os.path.abspath(_OUTDIR.value)}")


if __name__ == "__main__":
  app.run(main)

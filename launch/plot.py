r"""Draws a merged sweep's figures (PNG + PDF) into <workdir>/figures.

  python -m launch.plot --workdir=runs/fig3
  python -m launch.plot --workdir=runs/fig1c --x=dropout --y=alpha
  python -m launch.plot --workdir=runs/fig4_dnn --beside=runs/fig4_springs   # Fig. 4

Figures: phase_diagram (mean curvature on a zero-centred diverging map;
accuracy contours and best cell for networks; the theory's zero-curvature
line for first-order chains), load_curves (lazy / linear / active cells of
the most nonlinear row, seed bands; test curves dashed), dynamics (load
curves over epochs / steps, when the sweep recorded them), dnn_beside_chain
(with --beside: the paper's Fig. 4 layout).
"""

from absl import app
from absl import flags
from absl import logging

import launch
from featurespring.analysis import figures

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "A workdir holding a merged sweep " "(results.npz/.json).", required=True
)
_OUTDIR = flags.DEFINE_string(
    "outdir", None, "Where the figures go (default: " "<workdir>/figures)."
)
_BESIDE = flags.DEFINE_string(
    "beside",
    None,
    "Workdir of a sweep of the other "
    "engine (recorded dynamics) for the DNN-beside-chain "
    "figure (paper Fig. 4).",
)
_X = flags.DEFINE_string(
    "x", None, "Grid axis on the phase diagram's x axis " "(default: the config's plot.x)."
)
_Y = flags.DEFINE_string(
    "y", None, "Grid axis on the phase diagram's y axis " "(default: the config's plot.y)."
)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    with launch.resumable("launch.plot", "rerun the same command"):
      paths = figures.make_figures(_WORKDIR.value, _OUTDIR.value, _BESIDE.value, _X.value, _Y.value)
  except FileNotFoundError as err:
    # Most often a sweep that has not been merged yet (an array job's tasks).
    launch.fail(
        "launch.plot",
        f"{err}; merge the sweep first "
        f"(python -m launch.sweep --workdir={_WORKDIR.value} --merge_only)",
    )
  for path in paths:
    logging.info("wrote %s", path)


def run():
  """The ``featurespring-plot`` console script."""
  launch.run_main(main, __name__, __doc__)


if __name__ == "__main__":
  run()

r"""Phase 1 -> phase 2: each row's short-run crossing and the cells its full runs get.

  python -m experiments.crossing_vs_order.refine --short=runs/crossing_vs_order/mnist_dropout_short \
      --out=runs/crossing_vs_order/mnist_dropout_cells.json

The crossing is the first test's (experiments/central_claim/central.py: the
first sign change of the seed-mean final curvature from negative to
non-negative, interpolated), read in knob units; a censored one (no sign
change) is the grid's end on its side. The cells follow design.full_cells.
"""

import numpy as np
from absl import app
from absl import flags

from experiments.central_claim import central
from experiments.crossing_vs_order import design
from featurespring import sweep
from featurespring.sweep import results

_SHORT = flags.DEFINE_string("short", None, "Workdir of a merged phase-1 sweep.", required=True)
_OUT = flags.DEFINE_string("out", None, "Where the cells (JSON) go.", required=True)


def rows_from_short(workdir: str) -> dict:
  """``{"family", "knob", "rows": [{alpha, width, crossing_position, crossing_knob, cells}]}``."""
  ds = sweep.load(workdir)
  family = next(f for f in design.FAMILIES.values() if f.knob in ds.dims)
  curvature = ds.curvature.where(~ds.diverged).mean("seed").transpose("alpha", "width", family.knob)
  cells = ds[family.knob].values
  rows = []
  for i, alpha in enumerate(ds.alpha.values):
    for j, width in enumerate(ds.width.values):
      position = float(central.crossing(curvature.values[i, j]))
      at = design.knob_at(position, cells)
      rows.append(
          {
              "alpha": float(alpha),
              "width": int(width),
              "crossing_position": position if np.isfinite(position) else str(position),
              "crossing_knob": at,
              "cells": list(design.full_cells(at, family)),
          }
      )
  return {"family": family.name, "knob": family.knob, "short_workdir": workdir, "rows": rows}


def main(argv):
  del argv
  results.write_json(_OUT.value, rows_from_short(_SHORT.value))


if __name__ == "__main__":
  app.run(main)

r"""The second test's sweeps (README.md): cheap runs for the crossing, full runs for the peak.

  # phase 1: every row on the family's short grid, 3 seeds, 50 epochs
  python -m launch.sweep --config=experiments/crossing_vs_order/sweep_config.py:family=mnist_dropout \
      --workdir=runs/crossing_vs_order/mnist_dropout_short
  # phase 2: each row on its own cells (refine.py writes them), 10 seeds, 100 epochs
  python -m launch.sweep \
      --config=experiments/crossing_vs_order/sweep_config.py:family=mnist_dropout,cells=CELLS.json \
      --workdir=runs/crossing_vs_order/mnist_dropout_full
  # smoke test: append ,runlocal

The default MLP (docs/theory.md §2) on 10x10 images; rows are alpha x width
(design.py). Phase 2's grid is one zipped ``cell`` axis: every (alpha,
width, knob) triple of every row.
"""

import json

import ml_collections

from experiments.crossing_vs_order import design
from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, family="mnist_dropout", cells="")
  if arg.family not in design.FAMILIES:
    raise ValueError(f"unknown family {arg.family!r}; known: {sorted(design.FAMILIES)}")
  family = design.FAMILIES[arg.family]
  config = sweep.base_config("dnn")
  config.dnn.dataset = family.dataset
  config.dnn.eval_every = 10  # the analysis reads the final epoch, an evaluation epoch
  config.chunk_size = 32
  if not arg.cells:
    config.seed, config.seeds = design.SHORT_SEED, design.SHORT_SEEDS
    config.dnn.num_epochs = design.SHORT_EPOCHS
    config.grid.alpha = design.ALPHAS
    config.grid.width = design.WIDTHS
    config.grid[family.knob] = family.short_cells
    config.plot.x, config.plot.y = family.knob, "alpha"
  else:
    with open(arg.cells, encoding="utf-8") as f:
      rows = json.load(f)["rows"]
    config.seed, config.seeds = design.FULL_SEED, design.FULL_SEEDS
    config.dnn.num_epochs = design.FULL_EPOCHS
    config.dnn.num_val = design.NUM_VAL
    config.grid.cell = ml_collections.ConfigDict(
        {
            "alpha": tuple(r["alpha"] for r in rows for _ in r["cells"]),
            "width": tuple(r["width"] for r in rows for _ in r["cells"]),
            family.knob: tuple(c for r in rows for c in r["cells"]),
        }
    )
    config.plot.x, config.plot.y = "cell", "seed"
  return sweep.runlocal(config) if arg.runlocal else config

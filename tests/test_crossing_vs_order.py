"""The second pre-registered test's design, configs and generated plan block."""

import json

import numpy as np
import pytest

from experiments.crossing_vs_order import design
from experiments.crossing_vs_order import power
from featurespring import sweep

CONFIG = "experiments/crossing_vs_order/sweep_config.py"
DROPOUT = design.FAMILIES["mnist_dropout"]


def test_full_cells_refine_around_the_crossing_inside_the_range():
  assert design.full_cells(0.13, DROPOUT) == (0.0, 0.09, 0.1, 0.11, 0.13, 0.15, 0.17, 0.2, 0.3, 0.4)
  assert design.full_cells(0.4, DROPOUT) == (0.0, 0.1, 0.2, 0.3, 0.36, 0.38, 0.4)
  assert design.full_cells(float("nan"), DROPOUT) == DROPOUT.coarse_cells


def test_censored_crossings_sit_at_the_grid_ends():
  cells = DROPOUT.short_cells
  assert design.knob_at(-np.inf, cells) == 0.0 and design.knob_at(np.inf, cells) == 0.4
  assert design.knob_at(2.5, cells) == pytest.approx(0.125)


@pytest.mark.parametrize("family", sorted(design.FAMILIES))
def test_both_phases_plan_as_designed(family, tmp_path):
  short = sweep.plan(sweep.load_config(f"{CONFIG}:family={family}"))
  knob = design.FAMILIES[family].knob
  assert short.grid.shape == (3, 9, 3, 3) and short.config.dnn.num_epochs == 50
  assert short.grid.names == tuple(sorted(("alpha", knob, "width"))) + ("seed",)
  rows = [
      {"alpha": a, "width": w, "cells": [0.0, 0.1]} for a in design.ALPHAS for w in design.WIDTHS
  ]
  cells = tmp_path / "cells.json"
  cells.write_text(json.dumps({"rows": rows}))
  full = sweep.plan(sweep.load_config(f"{CONFIG}:family={family},cells={cells}"))
  assert full.grid.shape == (18, 10) and full.config.dnn.num_val == design.NUM_VAL
  assert int(full.grid.axis("seed").values[0]) == design.FULL_SEED
  assert {c.static["width"] for c in full.chunks} == set(design.WIDTHS)


def test_the_plans_power_block_is_current():
  with open(power.README, encoding="utf-8") as f:
    text = f.read()
  assert f"{power.BEGIN}\n{power.block()}\n{power.END}" in text

"""The fixed design of the second test (README.md, "Design"): families, rows, grids, seeds.

Everything the plan fixes before any run lives here, once: the configs, the
refinement and the analysis read it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# Rows: nonlinearity (LeakyReLU slope) crossed with width, the second knob
# that moves the crossing within a nonlinearity.
ALPHAS = (0.0, 0.2, 0.4)
WIDTHS = (50, 100, 200)

# Phase 1, the cheap runs that measure each row's crossing.
# Half the paper's epochs: training is full-batch (one step per epoch), and
# 20 epochs left the nets near chance (README.md, "Changes to this plan").
SHORT_SEED, SHORT_SEEDS, SHORT_EPOCHS = 200, 3, 50
# Phase 2, the full runs: the paper's epochs, 10 seeds, a validation split.
FULL_SEED, FULL_SEEDS, FULL_EPOCHS = 100, 10, 100
NUM_VAL = 2560
# Refined cells around the short-run crossing, in units of the family's step.
REFINE_OFFSETS = (-2, -1, 0, 1, 2)


@dataclasses.dataclass(frozen=True)
class Family:
  """One family of rows: a dataset, a training-noise knob and its grids.

  Attributes:
    name: workdir and report name.
    dataset: ``config.dnn.dataset``.
    knob: the noise field swept along each row (``config.dnn.<knob>``).
    top: the knob's largest value; cells lie in ``[0, top]``.
    short_cells: the knob's cells in the cheap runs.
    coarse_cells: the cells every row gets in the full runs.
    step: the spacing of the refined cells around the crossing.
    decimals: refined cells are rounded to this many decimals.
  """

  name: str
  dataset: str
  knob: str
  top: float
  short_cells: tuple[float, ...]
  coarse_cells: tuple[float, ...]
  step: float
  decimals: int


FAMILIES = {
    # Fig. 1(c)'s setting: MNIST, dropout after every hidden activation.
    "mnist_dropout": Family(
        name="mnist_dropout",
        dataset="mnist",
        knob="dropout",
        top=0.4,
        short_cells=tuple(round(0.05 * i, 2) for i in range(9)),
        coarse_cells=(0.0, 0.1, 0.2, 0.3, 0.4),
        step=0.02,
        decimals=3,
    ),
    # Paper S7's setting: Fashion-MNIST, label + data noise.
    "s7_fashion_noise": Family(
        name="s7_fashion_noise",
        dataset="fashion_mnist",
        knob="noise",
        top=0.8,
        short_cells=tuple(round(0.1 * i, 1) for i in range(9)),
        coarse_cells=(0.0, 0.2, 0.4, 0.6, 0.8),
        step=0.04,
        decimals=2,
    ),
}


def knob_at(position, cells):
  """The knob value at fractional cell indices; a censored (infinite) one at the grid's end, NaN
  stays NaN. A float for a scalar ``position``."""
  cells = np.asarray(cells, np.float64)
  position = np.asarray(position, np.float64)
  inside = np.interp(np.where(np.isfinite(position), position, 0.0), np.arange(len(cells)), cells)
  out = np.where(position == -np.inf, cells[0], np.where(position == np.inf, cells[-1], inside))
  out = np.where(np.isnan(position), np.nan, out)
  return float(out) if out.ndim == 0 else out


def full_cells(crossing_knob: float, family: Family) -> tuple[float, ...]:
  """The full runs' cells of a row whose short-run crossing is at ``crossing_knob``.

  The coarse cells, and :data:`REFINE_OFFSETS` steps around the crossing,
  clipped to ``[0, top]``, rounded, without repeats, ascending; the coarse
  cells alone where no cell of the short runs had a valid net (NaN).
  """
  offsets = np.asarray(REFINE_OFFSETS if np.isfinite(crossing_knob) else ())
  refined = np.clip(crossing_knob + offsets * family.step, 0.0, family.top)
  cells = np.round(np.concatenate([family.coarse_cells, refined]), family.decimals)
  return tuple(float(c) for c in np.unique(cells))

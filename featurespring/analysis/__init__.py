"""Finished sweeps read back and measured: cells, statistics, crossings, figures.

The pieces, one concept per module:

- :mod:`~featurespring.analysis.finished`: :class:`FinishedSweep`, a merged
  sweep as ``[Y, X, seed, ...]`` phase-diagram cells, diverged runs masked.
- :mod:`~featurespring.analysis.stats`: cell mean / std / count, curvature
  signs, |curvature|-accuracy correlations with seeded bootstrap CIs.
- :mod:`~featurespring.analysis.crossings`: zero crossings along a row, the
  axis value at one, the last evaluated entry of a history.
- :mod:`~featurespring.analysis.phase`: everything measured on one
  phase-diagram grid; load curves of chosen cells of a row.
- :mod:`~featurespring.analysis.cases`: sweeps over a few named settings
  along a zipped axis (curvature over time, final load curves).
- :mod:`~featurespring.analysis.switch`: dropout raised mid-training.
- :mod:`~featurespring.analysis.chains`: chain phase diagrams over friction
  and noise, beside the closed-form theory; damping compared.
- :mod:`~featurespring.analysis.fluctuations`: settled chains' fluctuations
  (independent against synchronous noise).
- :mod:`~featurespring.analysis.docblocks`: the generated block of a
  hand-written document, rewritten atomically.
- :mod:`~featurespring.analysis.figures`: the figures of a finished sweep
  (phase diagram, load curves, dynamics; what ``launch.plot`` draws),
  imported on its own: it needs matplotlib's pyplot.

The studies of this repository (``experiments/<study>/``) are written over
this package; their verdict rules, thresholds and pre-registered statistics
live with them, not here.

Typical use::

  sweep = analysis.FinishedSweep.load("runs/fig1c")
  numbers = analysis.analyse_phase_grid(sweep, num_boot=2000, boot_seed=0)
  numbers["correlation_pooled"]["pearson"], numbers["curvature"]["sign"]
"""

from featurespring.analysis.cases import (
    case_labels,
    curvature_over_time,
    final_load_curves,
    one_at_a_time,
)
from featurespring.analysis.chains import analyse_chain_phases, damping_comparison
from featurespring.analysis.crossings import last_finite, x_at, zero_crossings
from featurespring.analysis.finished import FinishedSweep
from featurespring.analysis.fluctuations import (
    increment_correlation,
    independent_vs_synchronous,
    stationary_half,
)
from featurespring.analysis.phase import (
    CURVATURE_KEYS,
    NOISE_DIRECTION,
    analyse_phase_grid,
    matched_columns,
    row_load_curves,
)
from featurespring.analysis.stats import (
    MONOTONE_RHO,
    SIGN_SE_FACTOR,
    bootstrap_rng,
    cell_stats,
    correlation_summary,
    curvature_accuracy_correlation,
    pearson,
    quiet,
    sign_pattern,
    spearman,
    stats_entry,
)
from featurespring.analysis.switch import before_and_after_switch

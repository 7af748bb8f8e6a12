"""Reading finished sweeps and measuring them: the numbers behind the report.

The pieces, one concept per module:

- :mod:`~featurespring.analysis.finished`: :class:`FinishedSweep`, a merged
  sweep as ``[Y, X, seed, ...]`` phase-diagram cells, diverged runs masked.
- :mod:`~featurespring.analysis.stats`: cell mean / std / count, curvature
  signs, |curvature|-accuracy correlations with seeded bootstrap CIs.
- :mod:`~featurespring.analysis.crossings`: zero crossings along a row, the
  axis value at one, the last evaluated entry of a history.
- :mod:`~featurespring.analysis.phase`: everything measured on one
  phase-diagram grid; load curves of chosen cells of a row.
- :mod:`~featurespring.analysis.pooled`: the central check pooled over grids.
- :mod:`~featurespring.analysis.cases`: sweeps over a few named settings
  (curvature over time, Fig. 4; final load curves, Fig. 5a).
- :mod:`~featurespring.analysis.switch`: dropout raised mid-training (S2).
- :mod:`~featurespring.analysis.chains`: the chain phase diagrams of the
  Fig. 3 / S13 / S14 sweeps, beside the closed-form theory.
- :mod:`~featurespring.analysis.fluctuations`: settled chains' fluctuations
  (independent against synchronous noise, Fig. 2).
- :mod:`~featurespring.analysis.left_friction`: chains with leftward friction
  only, curvature over noise beside the large-noise limit (Fig. 5(b)).
- :mod:`~featurespring.analysis.central`: the pre-registered test of
  ``docs/central_claim.md`` (accuracy peak against curvature crossing per
  row, shared-seed bootstrap, permutation link test, decision rule).
- :mod:`~featurespring.analysis.control`: the load-curve controller against
  fixed-dropout baselines (``docs/control.md``).
- :mod:`~featurespring.analysis.verdicts`: the reproduction's claims split
  into checks with named thresholds, and the one rule from checks to a
  verdict.
- :mod:`~featurespring.analysis.docblocks`: the generated block of a
  hand-written document, rewritten atomically.
- :mod:`~featurespring.analysis.figures`: small PNGs of the above
  (imported on its own: it needs matplotlib's pyplot; ``central`` and
  ``control`` too, for their figures).

Typical use (what ``experiments/reproduction_report.py`` does per grid)::

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
from featurespring.analysis.left_friction import left_friction_only
from featurespring.analysis.phase import (
    CURVATURE_KEYS,
    NOISE_DIRECTION,
    analyse_phase_grid,
    matched_columns,
    row_load_curves,
)
from featurespring.analysis.pooled import pooled_correlations
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

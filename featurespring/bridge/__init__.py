"""Bridges from trained networks to spring-block chains.

Fit a chain to every load curve of a grid: ``fit_shape`` finds, per curve,
the effective friction ``mu`` whose closed-form equilibrium (docs/theory.md §3, with
``k = 1``, ``y = 1``) matches the curve up to an affine map
``D_l ~ scale * d_l + offset``; ``fitted_chain`` builds the chain that
settles there.

    from featurespring import bridge, springs
    fit = bridge.fit_shape(load_curves)          # [..., L+1] -> fields [...]
    mu = jnp.where(fit.valid, fit.friction, jnp.nan)
    cfg = bridge.fitted_chain(fit, num_blocks=L)  # every entry valid
    sim = springs.simulate(cfg, jax.random.key(0), num_steps=4000)

Then follow the friction along the noise axis of each row: ``fit_noise_map``
fits the bounded-noise law ``mu_eff = max(mu_r - b eps / sqrt(dt),
(mu_r - mu_l) / 2)`` with ``eps = s * g(knob)`` (``g`` from ``KNOB_MAPS``)
to every row at once. (This repository's tests of the law, held-out
prediction against baselines and universality across knobs, are a study
over this package: ``experiments/bridge/``.) ``fit_dynamics`` fits a chain and a time map ``t = s * epoch`` to each
network's load-curve trajectory over training (a vmapped search over
simulated candidate chains, all cells at once).

    mu_cells = np.nanmean(bridge.fit_shape(curves).friction, -1)  # [rows, N] seed mean
    law = bridge.fit_noise_map(dropout_rates, mu_cells, knob_map="dropout_std")
    law.mu_right, law.mu_left, law.critical_knob       # per row
    bridge.predict_friction(law, dropout_rates)         # [rows, N]
"""

from featurespring.bridge._dynamics import NOISE_MODES
from featurespring.bridge._dynamics import REASONS as DYNAMICS_REASONS
from featurespring.bridge._dynamics import CandidateGrid
from featurespring.bridge._dynamics import DynamicsFit
from featurespring.bridge._dynamics import candidate_grid
from featurespring.bridge._dynamics import dynamics_chain
from featurespring.bridge._dynamics import fit_dynamics
from featurespring.bridge._dynamics import fitted_trajectory
from featurespring.bridge._dynamics import refine_dynamics
from featurespring.bridge._dynamics import relaxation_time
from featurespring.bridge._dynamics import trajectory_r2
from featurespring.bridge._noise_map import KNOB_CANDIDATES
from featurespring.bridge._noise_map import KNOB_MAPS
from featurespring.bridge._noise_map import NOISE_REASONS
from featurespring.bridge._noise_map import NOISE_SLOPE
from featurespring.bridge._noise_map import REFERENCE_CHAIN
from featurespring.bridge._noise_map import KnobMap
from featurespring.bridge._noise_map import NoiseMapFit
from featurespring.bridge._noise_map import collapse_coordinate
from featurespring.bridge._noise_map import fit_noise_map
from featurespring.bridge._noise_map import get_knob_map
from featurespring.bridge._noise_map import knob_coordinate
from featurespring.bridge._noise_map import noise_level
from featurespring.bridge._noise_map import predict_friction
from featurespring.bridge._shape import FLAT_TOL
from featurespring.bridge._shape import MONOTONE_TOL
from featurespring.bridge._shape import REASONS
from featurespring.bridge._shape import ShapeFit
from featurespring.bridge._shape import fit_shape
from featurespring.bridge._shape import fitted_chain
from featurespring.bridge._shape import fitted_curve
from featurespring.bridge._shape import shape_basis
from featurespring.bridge._shape import shape_curve

__all__ = [
    "CandidateGrid",
    "DYNAMICS_REASONS",
    "DynamicsFit",
    "NOISE_MODES",
    "candidate_grid",
    "dynamics_chain",
    "fit_dynamics",
    "fitted_trajectory",
    "refine_dynamics",
    "relaxation_time",
    "trajectory_r2",
    "FLAT_TOL",
    "KNOB_CANDIDATES",
    "KNOB_MAPS",
    "MONOTONE_TOL",
    "NOISE_REASONS",
    "NOISE_SLOPE",
    "REASONS",
    "REFERENCE_CHAIN",
    "KnobMap",
    "NoiseMapFit",
    "ShapeFit",
    "collapse_coordinate",
    "fit_noise_map",
    "fit_shape",
    "fitted_chain",
    "fitted_curve",
    "get_knob_map",
    "knob_coordinate",
    "noise_level",
    "predict_friction",
    "shape_basis",
    "shape_curve",
]

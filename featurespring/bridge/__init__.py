"""Bridges from trained networks to spring-block chains.

Fit a chain to every load curve of a grid: ``fit_shape`` finds, per curve,
the effective friction ``mu`` whose closed-form equilibrium (SPEC §3, with
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
to every row at once; ``held_out`` / ``compare_knob_maps`` test it on cells
it has not seen against two baselines; ``fit_joint`` /
``compare_universality`` share one chain between grids of different knobs
(``fit_universal``: and one noise scale per knob for every network).
``fit_dynamics`` fits a chain and a time map ``t = s * epoch`` to each
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
from featurespring.bridge._heldout import BASELINES
from featurespring.bridge._heldout import PREDICTORS
from featurespring.bridge._heldout import SPLITS
from featurespring.bridge._heldout import TRAIN_FRACTION
from featurespring.bridge._heldout import compare_knob_maps
from featurespring.bridge._heldout import held_out
from featurespring.bridge._heldout import linear_baseline
from featurespring.bridge._heldout import seed_bootstrap_means
from featurespring.bridge._heldout import split_levels
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
from featurespring.bridge._universal_strict import UniversalFit
from featurespring.bridge._universal_strict import fit_universal
from featurespring.bridge._universal_strict import predict_universal
from featurespring.bridge._universal_strict import refit_universal
from featurespring.bridge._shape import FLAT_TOL
from featurespring.bridge._shape import MONOTONE_TOL
from featurespring.bridge._shape import REASONS
from featurespring.bridge._shape import ShapeFit
from featurespring.bridge._shape import fit_shape
from featurespring.bridge._shape import fitted_chain
from featurespring.bridge._shape import fitted_curve
from featurespring.bridge._shape import shape_basis
from featurespring.bridge._shape import shape_curve
from featurespring.bridge._universal import JointFit
from featurespring.bridge._universal import compare_universality
from featurespring.bridge._universal import fit_joint
from featurespring.bridge._universal import information_criteria
from featurespring.bridge._universal import separate_fits
from featurespring.bridge._universal import verdict

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
    "UniversalFit",
    "fit_universal",
    "predict_universal",
    "refit_universal",
    "BASELINES",
    "FLAT_TOL",
    "KNOB_CANDIDATES",
    "KNOB_MAPS",
    "MONOTONE_TOL",
    "NOISE_REASONS",
    "NOISE_SLOPE",
    "PREDICTORS",
    "REASONS",
    "REFERENCE_CHAIN",
    "SPLITS",
    "TRAIN_FRACTION",
    "JointFit",
    "KnobMap",
    "NoiseMapFit",
    "ShapeFit",
    "collapse_coordinate",
    "compare_knob_maps",
    "compare_universality",
    "fit_joint",
    "fit_noise_map",
    "fit_shape",
    "fitted_chain",
    "fitted_curve",
    "get_knob_map",
    "held_out",
    "information_criteria",
    "knob_coordinate",
    "linear_baseline",
    "noise_level",
    "predict_friction",
    "seed_bootstrap_means",
    "separate_fits",
    "shape_basis",
    "shape_curve",
    "split_levels",
    "verdict",
]

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
"""

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
    "FLAT_TOL",
    "MONOTONE_TOL",
    "REASONS",
    "ShapeFit",
    "fit_shape",
    "fitted_chain",
    "fitted_curve",
    "shape_basis",
    "shape_curve",
]

"""Spring-block chains with asymmetric friction, simulated a grid at a time.

The chain of docs/theory.md §3: blocks joined by springs between a wall and a pulled
end, friction ``mu_right`` / ``mu_left`` against rightward / leftward motion,
shaken by noise. Its load curve ``d_l = y - x_l`` is the mechanical analogue
of a deep net's layerwise data separation.

    from featurespring import springs, metrics
    mu = jnp.linspace(0.0, 0.03, 16)[:, None, None]       # friction axis
    eps = jnp.linspace(0.0, 0.01, 16)[None, :, None]      # noise axis
    cfg = springs.ChainConfig(mu_right=mu, mu_left=2 * mu, noise=eps)
    keys = jax.random.split(jax.random.key(0), 16)         # seed axis
    result = springs.simulate(cfg, keys, num_steps=10_000)
    curv = metrics.curvature(result.load_curve).mean(-1)   # [16, 16]
    theory = springs.effective_friction(mu, 2 * mu, eps, cfg.dt)
    bad = result.diverged                                  # non-finite chains

Bad input (a string for a number, fields that do not broadcast, an unstable
``k`` / ``dt``, values that overflow float32, a wrong key or run length)
raises a ValueError naming it before anything is compiled.
"""

from featurespring.springs._config import ChainConfig
from featurespring.springs._config import DYNAMICS
from featurespring.springs._config import GENERATORS
from featurespring.springs._config import NOISE_DISTS
from featurespring.springs._simulate import MAX_NUM_STEPS
from featurespring.springs._simulate import ChainState
from featurespring.springs._simulate import SimulationResult
from featurespring.springs._simulate import advance
from featurespring.springs._simulate import check_run_args
from featurespring.springs._simulate import init_state
from featurespring.springs._simulate import result
from featurespring.springs._simulate import simulate
from featurespring.springs._theory import critical_noise
from featurespring.springs._theory import effective_friction
from featurespring.springs._theory import equilibrium_load_curve
from featurespring.springs._theory import mean_friction_activation
from featurespring.springs._theory import partial_expectation

__all__ = [
    "ChainConfig",
    "DYNAMICS",
    "GENERATORS",
    "MAX_NUM_STEPS",
    "NOISE_DISTS",
    "ChainState",
    "SimulationResult",
    "advance",
    "check_run_args",
    "init_state",
    "result",
    "simulate",
    "critical_noise",
    "effective_friction",
    "equilibrium_load_curve",
    "mean_friction_activation",
    "partial_expectation",
]

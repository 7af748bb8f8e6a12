r"""Paper SM S6.2: with unbounded Gaussian noise a chain keeps drifting towards convex.

First-order chains (L = 7, k = 1, y = 1, dt = 0.05, ``mu_r = 0.01``,
``mu_l = 2 mu_r``) under untruncated Gaussian noise, 10 seeds, a million
steps, the load curve recorded every 1000 steps. With Gaussian kicks the
mean friction activation has the single root ``(mu_r - mu_l) / 2 < 0`` for
every noise level, so every noisy chain ends convex; rare large kicks get it
there only after a time that grows exponentially with ``(mu_r sqrt(dt) /
eps)^2``. The finite-horizon theory (``springs.effective_friction(...,
horizon=)``) predicts the step at which the curve turns linear,
``1 / (1 - Phi(mu_r sqrt(dt) / eps))``; the noise levels put it between a few
thousand steps and beyond the run. ``:noise_dist=truncated_normal`` runs the
same chains with the noise cut at 2 std, which never turn convex at these
levels (``mu_eff = mu_r - 2 eps / sqrt(dt) > 0``).

  python -m launch.sweep --config=experiments/s6_2_gaussian_drift.py --workdir=runs/s6_2
  python -m launch.sweep --config=experiments/s6_2_gaussian_drift.py:noise_dist=truncated_normal \
      --workdir=runs/s6_2_truncated
  # smoke test: append ,runlocal
"""

from featurespring import sweep

MU_RIGHT = 0.01
NOISE = (0.0, 0.0004, 0.00045, 0.0005, 0.00055, 0.0006, 0.00065)


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, noise_dist="gaussian")
  config = sweep.base_config("springs")
  config.seeds = 10
  config.springs.noise_dist = arg.noise_dist
  config.springs.mu_ratio = 2.0
  config.springs.num_steps = 1_000_000
  config.springs.record_every = 1000
  config.grid.mu = (MU_RIGHT,)
  config.grid.noise = NOISE
  config.plot.x, config.plot.y = "noise", "mu"
  return sweep.runlocal(config) if arg.runlocal else config

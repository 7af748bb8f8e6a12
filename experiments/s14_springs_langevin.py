r"""Paper S14: phase diagram of the Langevin chain (SM S6.3 reference values).

Friction from the velocity before the noise, Gaussian noise into the velocity,
decayed as eps exp(-0.001 t); L = 7, k = 0.1, gamma = 1, dt = 0.05,
t_max = 700 (14000 steps), synchronous noise, mu_l / mu_r = 4/3 (0.004 / 0.003).

  python -m launch.sweep --config=experiments/s14_springs_langevin.py --workdir=runs/s14
  python -m launch.plot --workdir=runs/s14
  # smoke test: --config=experiments/s14_springs_langevin.py:runlocal
"""

import numpy as np

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("springs")
  config.seeds = 10
  c = config.springs
  c.dynamics, c.noise_dist, c.synchronous = "langevin", "gaussian", True
  c.k, c.gamma, c.dt, c.noise_decay = 0.1, 1.0, 0.05, 0.001
  c.mu_ratio = 4.0 / 3.0
  c.num_steps = 14_000
  config.grid.mu = tuple(np.round(np.linspace(0.0, 0.003, 13), 6).tolist())
  config.grid.noise = tuple(np.round(np.linspace(0.0, 0.008, 17), 6).tolist())
  config.plot.x, config.plot.y = "noise", "mu"
  return sweep.runlocal(config) if arg.runlocal else config

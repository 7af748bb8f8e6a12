r"""Paper S13: phase diagram of the second-order chain (unit masses, damping 1).

Same chain and grid axes as Fig. 3 with inertia; friction acts on the noisy
force (SM S6.1). The first-order theory line is not drawn: inertia moves the
zero-curvature line to larger noise.

  python -m launch.sweep --config=experiments/s13_springs_second_order.py --workdir=runs/s13
  python -m launch.plot --workdir=runs/s13
  # smoke test: --config=experiments/s13_springs_second_order.py:runlocal
"""

import numpy as np

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("springs")
  config.seeds = 10
  config.springs.dynamics = "second_order"
  config.springs.gamma = 1.0
  config.springs.num_steps = 20_000
  config.grid.mu = tuple(np.round(np.linspace(0.0, 0.03, 13), 6).tolist())
  config.grid.noise = tuple(np.round(np.linspace(0.0, 0.012, 17), 6).tolist())
  config.plot.x, config.plot.y = "noise", "mu"
  return sweep.runlocal(config) if arg.runlocal else config

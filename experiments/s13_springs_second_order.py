r"""Paper S13: phase diagram of the second-order chain (unit masses, damping 1).

Same chain and grid axes as Fig. 3 with inertia; friction acts on the noisy
force (SM S6.1). The first-order theory line is not drawn: inertia moves the
zero-curvature line to larger noise.

Damping 1 with ``k = 1`` leaves the chain underdamped: its normal modes have
frequencies ``2 sqrt(k) sin(j pi / (2 (L + 1)))``, up to 1.96 for ``L = 7``,
so every mode above ``gamma / 2`` rings. The paper asks for damping that
avoids oscillation; ``:gamma=4`` (critical for the top mode, ``2 x 1.96``,
rounded up) overdamps every mode, and the report compares the two phase
diagrams (``CRITICAL_GAMMA`` below).

  python -m launch.sweep --config=experiments/s13_springs_second_order.py --workdir=runs/s13
  python -m launch.sweep --config=experiments/s13_springs_second_order.py:gamma=4 --workdir=runs/s13_damped
  python -m launch.plot --workdir=runs/s13
  # smoke test: --config=experiments/s13_springs_second_order.py:runlocal
"""

import numpy as np

from featurespring import sweep

# Twice the top normal-mode frequency of the default chain (L = 7, k = 1):
# the smallest damping without any ringing mode.
CRITICAL_GAMMA = 2 * 2 * float(np.sin(7 * np.pi / 16))


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, gamma="1.0")
  config = sweep.base_config("springs")
  config.seeds = 10
  config.springs.dynamics = "second_order"
  config.springs.gamma = float(arg.gamma)
  config.springs.num_steps = 20_000
  config.grid.mu = tuple(np.round(np.linspace(0.0, 0.03, 13), 6).tolist())
  config.grid.noise = tuple(np.round(np.linspace(0.0, 0.012, 17), 6).tolist())
  config.plot.x, config.plot.y = "noise", "mu"
  return sweep.runlocal(config) if arg.runlocal else config

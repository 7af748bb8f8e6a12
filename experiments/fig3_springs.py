r"""Paper Fig. 3: spring-block phase diagram, friction (y) against noise (x).

First-order chains (L = 7, k = 1, y = 1, dt = 0.05) with rightward friction
``mu`` and leftward ``2 mu``, truncated-normal noise (cut at 2 std), 10 seeds:
low noise gives concave load curves (mu_eff > 0), more noise linear then
convex ones, along the theory's zero-curvature line ``mu_eff(eps, mu) = 0``.

  python -m launch.sweep --config=experiments/fig3_springs.py --workdir=runs/fig3
  python -m launch.plot --workdir=runs/fig3
  # smoke test: --config=experiments/fig3_springs.py:runlocal
"""

import numpy as np

from featurespring import sweep


def get_config(arg=None):
  """The Fig. 3 sweep; ``arg="runlocal"`` shrinks it to seconds."""
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("springs")
  config.seeds = 10
  # Friction mu_r up to where the noiseless chain still moves every block
  # (y / (L + 1) >= mu L / (2k), i.e. mu <= 0.0357).
  config.grid.mu = tuple(np.round(np.linspace(0.0, 0.03, 13), 6).tolist())
  # Noise up to well past the linear line (eps* = mu sqrt(dt) / b ~ 0.003).
  config.grid.noise = tuple(np.round(np.linspace(0.0, 0.008, 17), 6).tolist())
  config.springs.mu_ratio = 2.0
  config.springs.num_steps = 20_000
  config.plot.x = "noise"
  config.plot.y = "mu"
  return sweep.runlocal(config) if arg.runlocal else config

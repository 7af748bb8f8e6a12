r"""Paper Fig. 5(b): chains with leftward friction only (mu_r = 0 < mu_l).

First-order chains (L = 7, k = 1, y = 1, dt = 0.05, truncated-normal noise
cut at 2 std) with no rightward friction (``mu = 0``) and leftward friction
``mu_left`` in (0.01, 0.02, 0.04), over noise, 10 seeds. Without noise the
blocks only ever slide right and stop at zero force, so the load curve ends
linear (mu_eff = 0) whatever mu_l is; noise makes it convex (mu_eff < 0),
reaching the large-noise limit mu_eff = -mu_l / 2 (curvature 3 mu_l) once
the kicks beat mu_l.

  python -m launch.sweep --config=experiments/fig5b_left_friction_only.py --workdir=runs/fig5b
  python -m launch.plot --workdir=runs/fig5b
  # smoke test: --config=experiments/fig5b_left_friction_only.py:runlocal
"""

import numpy as np

from featurespring import sweep


def get_config(arg=None):
  """The Fig. 5(b) sweep; ``arg="runlocal"`` shrinks it to seconds."""
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("springs")
  config.seeds = 10
  config.springs.mu = 0.0  # mu_r: no friction against rightward motion
  config.springs.num_steps = 20_000
  config.grid.mu_left = (0.01, 0.02, 0.04)
  # Up to where the largest mu_l saturates (mu_eff = -mu_l / 2 from noise ~0.002).
  config.grid.noise = tuple(np.round(np.linspace(0.0, 0.006, 13), 6).tolist())
  config.plot.x = "noise"
  config.plot.y = "mu_left"
  return sweep.runlocal(config) if arg.runlocal else config

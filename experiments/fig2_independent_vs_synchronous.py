r"""Paper Fig. 2: chain dynamics with independent noise per block beside synchronous noise.

First-order chains (L = 7, k = 1, y = 1, dt = 0.05, mu_r = 0.02, mu_l = 2 mu_r,
truncated-normal noise cut at 2 std) at twice the critical noise of the
effective-friction theory, with a fresh draw per block and step
(``synchronous=False``) or one draw per step shared by all blocks (``True``,
as in Fig. 4), 10 seeds, load curves recorded. There mu_eff has reached its
large-noise value (mu_r - mu_l) / 2 (convex, curvature 0.06) and the chains
settle by t ~ 300 of 1000 into a state whose blocks keep sliding both ways.
The effective friction depends only on each block's noise law, not on how
the draws are shared, so the final load curves agree; the fluctuations
differ (shared kicks move the blocks together).

  python -m launch.sweep --config=experiments/fig2_independent_vs_synchronous.py --workdir=runs/fig2
  python -m launch.plot --workdir=runs/fig2
  # smoke test: --config=experiments/fig2_independent_vs_synchronous.py:runlocal
"""

from featurespring import springs
from featurespring import sweep


def get_config(arg=None):
  """The Fig. 2 sweep; ``arg="runlocal"`` shrinks it to seconds."""
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("springs")
  config.seeds = 10
  c = config.springs
  c.mu, c.mu_ratio = 0.02, 2.0
  c.num_steps, c.record_every = 20_000, 100
  critical = springs.critical_noise(
      c.mu, c.dt, c.noise_dist, c.noise_cut, mu_left=c.mu_ratio * c.mu
  )
  c.noise = round(2 * float(critical), 6)
  config.grid.synchronous = (False, True)
  config.grid.mu = (c.mu,)  # a one-row phase diagram: the columns are the noise modes
  config.plot.x = "synchronous"
  config.plot.y = "mu"
  return sweep.runlocal(config) if arg.runlocal else config

r"""Paper Fig. 4: load-curve dynamics of networks (left) beside chains (right).

Three settings each, lazy / balanced / active (SM S3): ReLU MLPs with
(learning rate, dropout, batch size) = (1e-4, 0, 200), (1e-3, 0.1, 100),
(3e-3, 0.2, 50); chains with synchronous noise (one draw for all blocks, as
the networks' noise is shared across layers) at no noise, the critical noise
of the effective-friction theory, and three times it.

  python -m launch.sweep --config=experiments/fig4_dynamics.py:engine=dnn --workdir=runs/fig4_dnn
  python -m launch.sweep --config=experiments/fig4_dynamics.py:engine=springs --workdir=runs/fig4_springs
  python -m launch.plot --workdir=runs/fig4_dnn --beside=runs/fig4_springs
  # smoke test: append ,runlocal (e.g. :engine=springs,runlocal)
"""

import ml_collections

from featurespring import springs
from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, engine="dnn")
  config = sweep.base_config(arg.engine)
  config.seeds = 3
  config.plot.x = "case"  # 0: lazy, 1: balanced, 2: active
  if arg.engine == "dnn":
    config.grid.alpha = (0.0,)  # ReLU
    config.grid.case = ml_collections.ConfigDict(
        {
            "learning_rate": (1e-4, 1e-3, 3e-3),
            "dropout": (0.0, 0.1, 0.2),
            "batch_size": (200, 100, 50),
        }
    )
    config.plot.y = "alpha"
  else:
    c = config.springs
    c.mu, c.mu_ratio, c.synchronous = 0.02, 2.0, True
    c.num_steps, c.record_every = 20_000, 200
    critical = float(
        springs.critical_noise(c.mu, c.dt, c.noise_dist, c.noise_cut, mu_left=c.mu_ratio * c.mu)
    )
    config.grid.mu = (c.mu,)
    config.grid.case = ml_collections.ConfigDict(
        {"noise": (0.0, round(critical, 6), round(3 * critical, 6))}
    )
    config.plot.y = "mu"
  return sweep.runlocal(config) if arg.runlocal else config

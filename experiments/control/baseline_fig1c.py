r"""Load balancing (experiments/control/README.md): the fixed-dropout grid the controller is judged by.

The Fig. 1(c) setting of control_fig1c.py (same data, validation split,
seeds and nets) with fixed dropout rates 0 to 0.3 instead of the
controller. It yields the baselines: (a) rate 0, (b) the rate with the best
validation accuracy, (c) the rate whose final load curve is nearest linear,
(d) the rate with the best test accuracy (an oracle).

  python -m launch.sweep --config=experiments/control/baseline_fig1c.py --workdir=runs/control/baseline_fig1c
  # variants: :dataset=fashion_mnist, :depth=4 (hidden layers), :width=50, into
  # runs/control/baseline_{fashion_mnist,depth4,width50}
  # smoke test: --config=experiments/control/baseline_fig1c.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, dataset="mnist", depth="7", width="100")
  config = sweep.base_config("dnn")
  config.seeds = 5
  config.dnn.dataset = arg.dataset
  config.dnn.depth, config.dnn.width = int(arg.depth), int(arg.width)  # hidden layers, units
  config.dnn.num_val = 1000  # held out of the training pool, for baseline (b)
  # Every 4 epochs: the final epoch for (a)-(d), epochs 4 and 16 for successive
  # halving's rungs (analysis.HALVING_RUNGS). Training does not depend on it.
  config.dnn.eval_every = 4
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8)  # LeakyReLU slope
  config.grid.dropout = tuple(round(0.02 * i, 2) for i in range(16))  # 0 .. 0.3
  config.plot.x, config.plot.y = "dropout", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

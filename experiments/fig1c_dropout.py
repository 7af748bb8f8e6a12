r"""Paper Fig. 1(c): DNN phase diagram, nonlinearity against dropout rate.

Default MLP (docs/theory.md §2) on MNIST 10x10 with dropout after every hidden
activation, rates 0 to 0.3; 100 epochs, 10 seeds.

  python -m launch.sweep --config=experiments/fig1c_dropout.py --workdir=runs/fig1c_dropout
  python -m launch.plot --workdir=runs/fig1c_dropout
  # smoke test: --config=experiments/fig1c_dropout.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, no_batch_norm=False)
  config = sweep.base_config("dnn")
  # The supplement's variant: BatchNorm replaced by the activation's
  # variance-preserving scaling constant (models.variance_preserving_gain).
  config.dnn.batch_norm = not arg.no_batch_norm
  config.seeds = 10
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.dropout = tuple(round(0.02 * i, 2) for i in range(16))  # 0 .. 0.3
  config.plot.x, config.plot.y = "dropout", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

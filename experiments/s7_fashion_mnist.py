r"""Paper S7: Fashion-MNIST, (a) the default setting and (b) another optimiser.

Nonlinearity against label + data noise as in Fig. 1(a); ``:optimizer=sgd``
gives panel (b) (plain SGD, learning rate 0.05).

  python -m launch.sweep --config=experiments/s7_fashion_mnist.py --workdir=runs/s7a
  python -m launch.sweep --config=experiments/s7_fashion_mnist.py:optimizer=sgd --workdir=runs/s7b
  python -m launch.plot --workdir=runs/s7a
  # smoke test: --config=experiments/s7_fashion_mnist.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, optimizer="adam")
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.dnn.dataset = "fashion_mnist"
  config.dnn.optimizer = arg.optimizer
  if arg.optimizer == "sgd":
    config.dnn.learning_rate = 0.05  # SGD needs a larger step than Adam
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.noise = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
  config.plot.x, config.plot.y = "noise", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

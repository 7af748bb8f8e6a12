r"""Paper Fig. 1(a): DNN phase diagram, nonlinearity against label + data noise.

MLP of depth 8 (7 hidden layers of 100) on MNIST 10x10, 2560 examples, Adam
1e-3, full batch, 100 epochs, 10 seeds; at every step a fraction ``noise`` of
the labels is reset at random and Gaussian noise of std ``noise * std(X)``
is added to the inputs (docs/theory.md §2(a)).

  python -m launch.sweep --config=experiments/fig1a_label_noise.py --workdir=runs/fig1a
  python -m launch.plot --workdir=runs/fig1a
  # smoke test (embedded MNIST, seconds): --config=experiments/fig1a_label_noise.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.noise = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
  config.plot.x, config.plot.y = "noise", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

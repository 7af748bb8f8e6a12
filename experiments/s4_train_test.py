r"""Paper S4: training (solid) vs test (dashed) load curves as the learning rate grows.

ReLU MLP; small learning rates give concave curves on both sets, larger ones
linear then convex; the most linear has the best test accuracy.

  python -m launch.sweep --config=experiments/s4_train_test.py --workdir=runs/s4_train_test
  python -m launch.plot --workdir=runs/s4_train_test
  # smoke test: --config=experiments/s4_train_test.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (0.0,)  # ReLU
  config.grid.learning_rate = (1e-4, 1e-3, 1e-2, 5e-2)
  config.dnn.num_epochs = 200
  config.plot.x, config.plot.y, config.plot.log_x = "learning_rate", "alpha", True
  return sweep.runlocal(config) if arg.runlocal else config

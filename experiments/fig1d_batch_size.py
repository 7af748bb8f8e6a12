r"""Paper Fig. 1(d): DNN phase diagram, nonlinearity against batch size.

Batch size changes the program (steps per epoch), so each value compiles
separately: chunks are grouped by it automatically.

  python -m launch.sweep --config=experiments/fig1d_batch_size.py --workdir=runs/fig1d_batch_size
  python -m launch.plot --workdir=runs/fig1d_batch_size
  # smoke test: --config=experiments/fig1d_batch_size.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.batch_size = (5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560)
  config.plot.x, config.plot.y, config.plot.log_x = "batch_size", "alpha", True
  return sweep.runlocal(config) if arg.runlocal else config

r"""Paper S5: linear load curves have the best accuracy at every depth.

ReLU MLPs of 4 to 10 hidden layers against dropout; depth changes shapes,
so each depth compiles separately (the plot shows one depth per --y).

  python -m launch.sweep --config=experiments/s5_depth.py --workdir=runs/s5_depth
  python -m launch.plot --workdir=runs/s5_depth
  # smoke test: --config=experiments/s5_depth.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (0.0,)  # ReLU
  config.grid.depth = (4, 6, 8, 10)
  config.grid.dropout = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
  config.plot.x, config.plot.y = "dropout", "depth"
  return sweep.runlocal(config) if arg.runlocal else config

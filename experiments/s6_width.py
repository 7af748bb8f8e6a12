r"""Paper S6: linear load curves have the best accuracy at every width.

ReLU MLPs of width 50 to 400 against dropout.

  python -m launch.sweep --config=experiments/s6_width.py --workdir=runs/s6_width
  python -m launch.plot --workdir=runs/s6_width
  # smoke test: --config=experiments/s6_width.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (0.0,)  # ReLU
  config.grid.width = (50, 100, 200, 400)
  config.grid.dropout = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
  config.plot.x, config.plot.y = "dropout", "width"
  return sweep.runlocal(config) if arg.runlocal else config

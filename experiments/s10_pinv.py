r"""Paper S10: the pinv separation log tr(S_w S_b^+) gives the same phase diagram.

Fig. 1(c)'s sweep, coloured by the pinv load curve's curvature (every sweep
records both metrics; --config.plot.metric=curvature shows the trace one).

  python -m launch.sweep --config=experiments/s10_pinv.py --workdir=runs/s10_pinv
  python -m launch.plot --workdir=runs/s10_pinv
  # smoke test: --config=experiments/s10_pinv.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.dropout = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
  config.plot.x, config.plot.y = "dropout", "alpha"
  config.plot.metric = "curvature_pinv"
  return sweep.runlocal(config) if arg.runlocal else config

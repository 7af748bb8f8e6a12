r"""Paper S11: in linear networks the pinv metric stays flat, the trace one moves.

Linear MLPs (alpha = 1) against dropout; compare the phase diagrams of
--config.plot.metric=curvature (trace) and curvature_pinv.

  python -m launch.sweep --config=experiments/s11_linear_pinv.py --workdir=runs/s11_linear_pinv
  python -m launch.plot --workdir=runs/s11_linear_pinv
  # smoke test: --config=experiments/s11_linear_pinv.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.grid.alpha = (1.0,)  # linear network
  config.grid.dropout = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
  config.plot.x, config.plot.y = "dropout", "alpha"
  config.plot.metric = "curvature_pinv"
  return sweep.runlocal(config) if arg.runlocal else config

r"""Paper S12: regression load curves, nonlinearity against dropout.

The default MLP (docs/theory.md §2) on MNIST 10x10 inputs, trained with MSE on a real
target; the load of layer l is the RMSE of the best affine fit of the target
from its features (SM S5). Noisier training should give convex load curves,
lazy training concave ones, as for classification (Fig. 1(c)). The paper
does not say which regression task it used; ours is a fixed random smooth
nonlinear teacher of the input (``featurespring.data.regression_targets``,
``:target=digit`` regresses the digit value instead). No accuracy: the
result's ``rmse`` is each net's test RMSE.

  python -m launch.sweep --config=experiments/s12_regression.py --workdir=runs/s12_regression
  python -m launch.plot --workdir=runs/s12_regression
  # smoke test: --config=experiments/s12_regression.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, target="teacher")
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.dnn.regression = arg.target
  config.dnn.loss = "mse"
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.dropout = tuple(round(0.02 * i, 2) for i in range(16))  # 0 .. 0.3
  config.plot.x, config.plot.y = "dropout", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

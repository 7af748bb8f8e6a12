r"""Paper Fig. 5(a): a linear network's load curve is linear under gradient flow,
convex with a large step or dropout.

Linear MLP (alpha = 1), orthogonal initial weights, no BatchNorm, full-batch
SGD at learning rate 1e-3 (case 0), a large step (case 1) and dropout 0.1
(case 2). Deviation from the paper: the data are the built-in synthetic
Gaussian mixture, not a random orthogonal matrix with random binary labels
(``featurespring.data`` has no such set yet).

  python -m launch.sweep --config=experiments/fig5a_linear_dnn.py --workdir=runs/fig5a
  python -m launch.plot --workdir=runs/fig5a
  # smoke test: --config=experiments/fig5a_linear_dnn.py:runlocal
"""

import ml_collections

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 5
  d = config.dnn
  d.dataset, d.batch_norm, d.init_scheme, d.optimizer = "synthetic", False, "orthogonal", "sgd"
  d.num_epochs = 200
  config.grid.alpha = (1.0,)  # linear network
  config.grid.case = ml_collections.ConfigDict({
      "learning_rate": (1e-3, 5e-2, 1e-3), "dropout": (0.0, 0.0, 0.1)})
  config.plot.x, config.plot.y = "case", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

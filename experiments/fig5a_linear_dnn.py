r"""Paper Fig. 5(a): a linear network's load curve is linear under gradient flow,
convex with a large step or dropout.

The setting of He & Su (SM S3): a linear MLP (alpha = 1; 7 hidden layers of
100), every weight matrix a random orthogonal matrix, no biases, no
BatchNorm; the data are the rows of a random 100 x 100 orthogonal matrix with
random binary labels (``featurespring.data.orthogonal_binary``, 2 classes);
full-batch SGD at learning rate 1e-3 (case 0), a large step (case 1), and
dropout 0.1 at learning rate 1e-3 (case 2). Choices, not from the paper: the
large step 5e-2 (the paper's value was lost in extraction), the dropout rate,
full batches, no biases, and 1000 epochs (steps). The test set is an
independent orthogonal matrix with its own random labels: accuracy there is
chance by construction and not part of this figure. Unchecked at full size:
on a 3 x 16 smoke net, 200 steps at 1e-3 barely lower the loss (0.691 ->
0.690) while 5e-2 trains (-> 0.50), so the small-step case may need many more
epochs (``--config.dnn.num_epochs``) to approach gradient flow's end point.

  python -m launch.sweep --config=experiments/fig5a_linear_dnn.py --workdir=runs/fig5a
  python -m launch.plot --workdir=runs/fig5a
  # smoke test: --config=experiments/fig5a_linear_dnn.py:runlocal
"""

import ml_collections

from featurespring import sweep

LARGE_STEP = 5e-2  # a choice: the paper's value was lost in extraction


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 5
  d = config.dnn
  d.dataset, d.num_train, d.num_test = "orthogonal_binary", 100, 100
  d.batch_size = 100  # full batch
  d.batch_norm, d.init_scheme, d.use_bias, d.optimizer = False, "orthogonal", False, "sgd"
  d.num_epochs = 1000
  config.grid.alpha = (1.0,)  # linear network
  config.grid.case = ml_collections.ConfigDict(
      {"learning_rate": (1e-3, LARGE_STEP, 1e-3), "dropout": (0.0, 0.0, 0.1)}
  )
  config.plot.x, config.plot.y = "case", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

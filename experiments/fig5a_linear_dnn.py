r"""Paper Fig. 5(a): a linear network's load curve is linear under gradient flow,
convex with a large step or dropout.

The setting of He & Su (SM S3): a linear MLP (alpha = 1; 7 hidden layers of
100), every weight matrix a random orthogonal matrix, no biases, no
BatchNorm; the data are the rows of a random 100 x 100 orthogonal matrix with
random binary labels (``featurespring.data.orthogonal_binary``, 2 classes);
full-batch SGD.

The paper gives the small step (1e-3) but not the large step or the dropout
rate, so both are swept rather than guessed (a zipped ``case`` axis): the
learning rate from 1e-3 up (``LEARNING_RATES``, no dropout), and the dropout
rate at the small step (``DROPOUTS``). Every net trains 20 000 full-batch
steps, long enough for the small step to converge: at 1e-3 the train loss is
still about 0.02 after 5 000 steps (a measured pilot), and the claim is about
where training ends, not where it passes through. The early-stopping
rule (train loss below 1e-4) ends the noiseless runs; dropout runs cannot get
there and run all steps. The report gives each case's final train loss. The
test set is an independent orthogonal matrix with its own random labels:
accuracy there is chance by construction and not part of this figure.

  python -m launch.sweep --config=experiments/fig5a_linear_dnn.py --workdir=runs/fig5a
  python -m launch.plot --workdir=runs/fig5a
  # smoke test: --config=experiments/fig5a_linear_dnn.py:runlocal
"""

import ml_collections

from featurespring import sweep

SMALL_STEP = 1e-3  # the paper's
LEARNING_RATES = (1e-3, 3e-3, 1e-2, 3e-2, 5e-2, 1e-1)
DROPOUTS = (0.02, 0.05, 0.1, 0.2)


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 5
  d = config.dnn
  d.dataset, d.num_train, d.num_test = "orthogonal_binary", 100, 100
  d.batch_size = 100  # full batch
  d.batch_norm, d.init_scheme, d.use_bias, d.optimizer = False, "orthogonal", False, "sgd"
  d.num_epochs = 20_000  # one full-batch step per epoch
  d.eval_every = 1000
  config.grid.alpha = (1.0,)  # linear network
  config.grid.case = ml_collections.ConfigDict(
      {
          "learning_rate": LEARNING_RATES + (SMALL_STEP,) * len(DROPOUTS),
          "dropout": (0.0,) * len(LEARNING_RATES) + DROPOUTS,
      }
  )
  config.plot.x, config.plot.y = "case", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

r"""Fig. 1(d) at a fixed number of steps: is it the batch noise or the step count?

At a fixed epoch count (`fig1d_batch_size.py`, the paper's) a smaller batch
also takes more steps: 2560 / B per epoch, so batch 10 takes 256 times as
many as full batch. Both make a load curve more convex, so the fixed-epoch
grid cannot say which one bent it (the 3-seed reproduction found batch 640
*more* concave than 2560, against the noise reading). Here every net takes
the same ``STEPS`` optimiser steps: ``num_epochs = STEPS * B / 2560`` is
zipped with the batch size, so only the batch noise (and the number of
examples seen) varies along a row. The report sets the two grids side by side.

``STEPS = 1024`` is the largest power of two that keeps batch 10 at whole
epochs (4) while full batch trains 1024 epochs, about ten times the paper's
100, so that every cell trains; the evaluation runs every 4 epochs
(``eval_every``, so batch 10's only evaluation is its last epoch) and costs
full batch about a quarter of its steps.

  python -m launch.sweep --config=experiments/fig1d_fixed_steps.py --workdir=runs/fig1d_fixed_steps
  python -m launch.plot --workdir=runs/fig1d_fixed_steps
  # smoke test: --config=experiments/fig1d_fixed_steps.py:runlocal
"""

import ml_collections

from featurespring import sweep

STEPS = 1024
BATCH_SIZES = (10, 40, 160, 640, 2560)


def fixed_steps(batch_sizes, steps, num_train):
  """The zipped ``batch`` axis: each batch size with the epochs of ``steps`` steps."""
  for b in batch_sizes:
    if steps * b % num_train:
      raise ValueError(f"{steps} steps at batch size {b} are not whole epochs of {num_train}")
  return ml_collections.ConfigDict(
      {
          "batch_size": tuple(batch_sizes),
          "num_epochs": tuple(steps * b // num_train for b in batch_sizes),
      }
  )


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 3
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.batch = fixed_steps(BATCH_SIZES, STEPS, config.dnn.num_train)
  config.dnn.eval_every = 4
  config.plot.x, config.plot.y = "batch", "alpha"
  if arg.runlocal:
    config = sweep.runlocal(config)
    # Two batch sizes of the smoke test's training set, 4 steps each.
    n = config.dnn.num_train
    config.grid.batch = fixed_steps((n // 4, n), 4, n)
    config.dnn.eval_every = 1
  return config

r"""Paper S2: a CNN trained near convergence, then dropout raised mid-training.

SM S3: 7 convolutional layers of 16 channels on MNIST 10x10, BatchNorm and
ReLU, 2x2 max pooling then 2x upsampling after each activation (so every
layer keeps the input's shape), a linear read-out; Adam. The nets train
``dropout_switch_epoch`` epochs without dropout (a concave load curve), then
continue with the dropout of the ``dropout_switch_rate`` axis: 0 (keep
training as before, the reference), 0.1 (the paper: linear curve, better
accuracy) and 0.3 (convex, worse). Choices, not from the paper (its values
were lost in extraction): learning rate 1e-3, 300 epochs before the switch
and 300 after, no early stopping (the paper stops only at loss < 1e-15).

  python -m launch.sweep --config=experiments/s2_cnn_dropout.py --workdir=runs/s2_cnn_dropout
  python -m launch.plot --workdir=runs/s2_cnn_dropout
  # smoke test: --config=experiments/s2_cnn_dropout.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  # A net of this CNN holds about 1.6 GB on CPU while it trains (measured,
  # featurespring/sweep/memory.py): the engine's default of 128 nets per
  # chunk put all 30 in one and asked for 51 GB. Six per chunk (about
  # 10 GB) leave room on a 24 GB host, and each of the five chunks commits
  # on its own. A fixed size, not 0 (sized from the free memory), so that
  # every host plans the same chunks and a resumed sweep merges with parts
  # finished elsewhere.
  config.chunk_size = 6
  d = config.dnn
  d.model, d.depth, d.width = "cnn", 7, 16
  d.learning_rate = 1e-3
  d.num_epochs, d.dropout_switch_epoch = 600, 300
  d.early_stop_loss, d.early_stop_delta = 0.0, 0.0  # train every epoch
  config.grid.alpha = (0.0,)  # ReLU
  config.grid.dropout_switch_rate = (0.0, 0.1, 0.3)
  config.plot.x, config.plot.y = "dropout_switch_rate", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

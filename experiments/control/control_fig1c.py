r"""Load balancing (experiments/control/README.md): the controller on the Fig. 1(c) setting.

Every net starts without dropout; the load-curve controller
(`featurespring.train.controller`) then moves its rate every 2 epochs, after
a 10-epoch warm-up, towards a target curvature of its training-set load
curve. Pre-registered primary setting: gain 1, target 0; the other gains and
targets measure sensitivity. MNIST 10x10, MLP of 7 hidden layers of 100
(depth 8), Adam, full batch, 100 epochs, 5 seeds, 1000 validation examples
held out of the training pool. Its fixed-dropout baseline is
control_baseline_fig1c.py, run with the same argument.

  python -m launch.sweep --config=experiments/control/control_fig1c.py --workdir=runs/control/control_fig1c
  # variants: :dataset=fashion_mnist, :depth=4 (hidden layers), :width=50, into
  # runs/control/control_{fashion_mnist,depth4,width50}
  python -m experiments.control.report
  # smoke test: --config=experiments/control/control_fig1c.py:runlocal
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, dataset="mnist", depth="7", width="100")
  config = sweep.base_config("dnn")
  config.seeds = 5
  config.dnn.dataset = arg.dataset
  config.dnn.depth, config.dnn.width = int(arg.depth), int(arg.width)  # hidden layers, units
  config.dnn.num_val = 1000  # held out of the training pool (as in the baseline)
  config.dnn.test_eval_size = 1000  # per-epoch test metrics; final ones on the full set
  config.dnn.control_every = config.dnn.eval_every = 2  # the controller reads every 2 epochs
  config.dnn.control_warmup = 10  # epochs before its first move
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8)  # LeakyReLU slope
  config.grid.control_gain = (0.5, 1.0, 2.0)  # logit step per unit of curvature error
  config.grid.control_target = (-0.2, 0.0, 0.2)  # target curvature
  config.plot.x, config.plot.y = "control_target", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

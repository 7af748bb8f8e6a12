r"""The main job: a small but real sweep of both engines, minutes on a laptop CPU.

Networks: the default MLP (7 hidden layers of 100, BatchNorm, Adam 1e-3, full
batch) on the embedded MNIST subset (2560 training examples, the other 2440
held out; no download), ReLU / LeakyReLU 0.5 / linear against label + data
noise, 2 seeds, 60 epochs, load curves recorded every epoch. Chains: the
Fig. 3 grid at 5 x 7 cells, 4 seeds, load curves recorded over time.

  python -m launch.main --workdir=runs/main          # both sweeps + figures
  python -m launch.sweep --config=experiments/main.py:engine=springs --workdir=runs/main/springs
  python -m launch.sweep --config=experiments/main.py:engine=dnn --workdir=runs/main/dnn
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False, engine="dnn")
  config = sweep.base_config(arg.engine)
  config.progress.log_every_s = 15.0
  if arg.engine == "dnn":
    config.seeds = 2
    config.dnn.dataset = "mnist_embedded"
    config.dnn.num_epochs = 60
    config.checkpoint_every = 10
    config.grid.alpha = (0.0, 0.5, 1.0)  # LeakyReLU slope
    config.grid.noise = (0.0, 0.2, 0.4, 0.6)
    config.plot.x, config.plot.y = "noise", "alpha"
  else:
    config.seeds = 4
    config.grid.mu = (0.0, 0.0075, 0.015, 0.0225, 0.03)
    config.grid.noise = (0.0, 0.001, 0.002, 0.003, 0.004, 0.006, 0.008)
    config.springs.num_steps = 20_000
    config.springs.record_every = 10  # resolves the transient (figures zoom into it)
    config.plot.x, config.plot.y = "noise", "mu"
  return sweep.runlocal(config) if arg.runlocal else config

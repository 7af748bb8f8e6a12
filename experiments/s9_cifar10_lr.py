r"""Paper S9: CIFAR-10, nonlinearity against learning rate (200 epochs).

python -m launch.sweep --config=experiments/s9_cifar10_lr.py --workdir=runs/s9_cifar10_lr
python -m launch.plot --workdir=runs/s9_cifar10_lr
# smoke test: --config=experiments/s9_cifar10_lr.py:runlocal

Needs CIFAR-10 on disk (it is not downloaded): ``--config.dnn.data_dir`` (or
$FEATURESPRING_DATA_DIR) names a folder holding ``cifar-10-batches-py/``
(from cifar-10-python.tar.gz) or ``cifar-10-batches-bin/`` (from
cifar-10-binary.tar.gz), or one of those folders itself; see
third_party/DATASETS.md for the archives' published checksums. The
``:runlocal`` smoke test swaps in the embedded MNIST subset, so it needs no
files; tests/test_cifar.py runs this config on generated CIFAR-10 files.
"""

from featurespring import sweep


def get_config(arg=None):
  arg = sweep.parse_arg(arg, runlocal=False)
  config = sweep.base_config("dnn")
  config.seeds = 10
  config.dnn.dataset = "cifar10"
  config.grid.alpha = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # LeakyReLU slope
  config.grid.learning_rate = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2)
  config.dnn.num_epochs = 200
  config.plot.x, config.plot.y, config.plot.log_x = "learning_rate", "alpha", True
  return sweep.runlocal(config) if arg.runlocal else config

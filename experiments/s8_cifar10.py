r"""Paper S8: CIFAR-10 (resized to 10x10x3, 300 features), nonlinearity against dropout.

python -m launch.sweep --config=experiments/s8_cifar10.py --workdir=runs/s8_cifar10
python -m launch.plot --workdir=runs/s8_cifar10
# smoke test: --config=experiments/s8_cifar10.py:runlocal

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
  config.grid.dropout = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
  config.plot.x, config.plot.y = "dropout", "alpha"
  return sweep.runlocal(config) if arg.runlocal else config

"""Writes docs/config.md, the config reference, from the engines' dataclasses.

python -m launch.docs
"""

import os

import launch
from featurespring.sweep import config as config_lib

PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "config.md"
)


def main(argv):
  del argv
  with open(PATH, "w") as f:
    f.write(config_lib.reference_markdown())
  print(f"wrote {PATH}")


def run():
  """The ``featurespring-docs`` console script."""
  launch.run_main(main, __name__, __doc__)


if __name__ == "__main__":
  run()

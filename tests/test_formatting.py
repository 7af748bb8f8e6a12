"""One formatter for the whole tree: pyink at the settings of pyproject.toml."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_the_tree_is_formatted_with_pyink():
  result = subprocess.run(
      [
          sys.executable,
          "-m",
          "pyink",
          "--check",
          "--quiet",
          "featurespring",
          "launch",
          "experiments",
          "benchmarks",
          "tests",
      ],
      cwd=REPO,
      capture_output=True,
      text=True,
      timeout=300,
  )
  assert result.returncode == 0, (
      "files not formatted; run `pyink .` from the repository root:\n"
      + result.stdout
      + result.stderr
  )

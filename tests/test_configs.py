"""Every experiment config loads, validates and composes with overrides."""

import glob
import os
import subprocess
import sys

import pytest

from featurespring import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Experiment files that are sweep configs: the figures' at the top, the studies'
# own in their folders (springs_phase_diagram.py and the reports are scripts).
CONFIGS = sorted(
    p
    for p in glob.glob(os.path.join(REPO, "experiments", "**", "*.py"), recursive=True)
    if "def get_config" in open(p).read()
)


def test_there_is_a_config_per_figure():
  names = {os.path.basename(p) for p in CONFIGS}
  for prefix in (
      "fig1a",
      "fig1b",
      "fig1c",
      "fig1d",
      "fig3",
      "fig4",
      "fig5a",
      "s4",
      "s5",
      "s2",
      "s6",
      "s7",
      "s8",
      "s9",
      "s10",
      "s11",
      "s12",
      "s13",
      "s14",
      "main",
  ):
    assert any(n.startswith(prefix + "_") or n == prefix + ".py" for n in names), prefix


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
@pytest.mark.parametrize("arg", ["", "runlocal"])
def test_config_plans_and_runlocal_is_small(path, arg):
  config = sweep.load_config(path + (":" + arg if arg else ""))
  plan = sweep.plan(config)  # validates every field, compiles nothing
  assert plan.grid.names[-1] == "seed"
  for axis in (config.plot.x, config.plot.y):
    assert axis in plan.grid.names, (axis, plan.grid.names)
  if arg:
    assert plan.grid.size <= 12
    assert config.seeds == 1


def test_config_arguments_are_checked():
  with pytest.raises(ValueError, match="unknown config argument 'runlocall'"):
    sweep.load_config(os.path.join(REPO, "experiments/fig3_springs.py:runlocall"))
  config = sweep.load_config(os.path.join(REPO, "experiments/fig4_dynamics.py:engine=springs"))
  assert config.engine == "springs" and config.springs.synchronous
  fig1c = os.path.join(REPO, "experiments/fig1c_dropout.py")
  assert sweep.load_config(fig1c).dnn.batch_norm
  variant = sweep.load_config(fig1c + ":no_batch_norm")
  assert not variant.dnn.batch_norm and sweep.plan(variant).grid.shape == (6, 16, 10)


def test_command_line_overrides_reach_the_config(tmp_path):
  # --config.<field> overrides, parsed as launch.sweep parses them (lock_config).
  script = tmp_path / "show.py"
  script.write_text(
      "from absl import app\nfrom ml_collections import config_flags\n"
      "C = config_flags.DEFINE_config_file('config', lock_config=True)\n"
      "def main(_):\n  c = C.value\n"
      "  print(c.seeds, c.grid.mu, c.springs.num_steps, c.grid.noise)\n"
      "app.run(main)\n"
  )
  out = subprocess.run(
      [
          sys.executable,
          str(script),
          "--config=experiments/fig3_springs.py",
          "--config.seeds=3",
          "--config.grid.mu=(0.0,0.5)",
          "--config.springs.num_steps=7",
          "--config.grid.noise=0.1,0.2",
      ],
      cwd=REPO,
      check=True,
      capture_output=True,
      text=True,
  ).stdout
  assert out.split() == ["3", "(0.0,", "0.5)", "7", "(0.1,", "0.2)"]
  bad = subprocess.run(
      [
          sys.executable,
          str(script),
          "--config=experiments/fig3_springs.py",
          "--config.springs.no_such_field=1",
      ],
      cwd=REPO,
      capture_output=True,
      text=True,
  )
  assert bad.returncode != 0 and "no_such_field" in bad.stderr

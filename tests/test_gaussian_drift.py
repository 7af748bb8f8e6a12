"""SM S6.2's analysis on the config's `:runlocal` sweeps (experiments/reproduction/gaussian_drift.py)."""

import math

import numpy as np
import pytest

from experiments.reproduction import gaussian_drift
from featurespring import springs
from featurespring import sweep

CONFIG = "experiments/s6_2_gaussian_drift.py"


def test_the_turn_step_is_where_the_finite_horizon_friction_reaches_zero():
  step = gaussian_drift.theory_turn_step(0.01, 0.0006, 0.05)
  for horizon, sign in ((step * 0.9, 1), (step * 1.1, -1)):
    mu_eff = springs.effective_friction(0.01, 0.02, 0.0006, 0.05, "gaussian", horizon=horizon)
    assert np.sign(mu_eff) == sign
  assert gaussian_drift.theory_turn_step(0.01, 0.0, 0.05) == math.inf


def test_the_turn_is_the_return_to_zero_after_the_curve_went_concave():
  steps = np.arange(6) * 10
  assert gaussian_drift.turn_step([0.0, -0.2, -0.1, 0.01, -0.01, 0.1], steps) == 30
  assert gaussian_drift.turn_step([0.0, -0.2, -0.1, -0.05, -0.01, -0.001], steps) is None
  assert gaussian_drift.turn_step([0.0, 0.0, 0.1, 0.2, 0.3, 0.4], steps) is None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  root = tmp_path_factory.mktemp("s6_2")
  for name, arg in (
      ("s6_2", "runlocal"),
      ("s6_2_truncated", "noise_dist=truncated_normal,runlocal"),
  ):
    config = sweep.load_config(f"{CONFIG}:{arg}")
    config.seeds = 2
    sweep.run(config, str(root / name))
  return root


def test_the_analysis_reads_both_sweeps_and_draws_its_figure(runs, tmp_path):
  drift = gaussian_drift.gaussian_drift(str(runs / "s6_2"), str(runs / "s6_2_truncated"))
  assert drift["mu_right"] == 0.01 and drift["num_steps"] == 500
  assert len(drift["levels"]) == len(drift["noise"]) == drift["curvature_mean"].shape[0]
  assert drift["steps"][-1] == 500
  # 500 steps are far too few to turn: every level is still concave, as is the theory's forecast.
  assert all(lv["measured_step"] is None for lv in drift["levels"])
  assert all(lv["theory_step"] > 500 for lv in drift["levels"])
  path = gaussian_drift.figure(drift, str(tmp_path / "drift.png"), 60)
  assert (tmp_path / "drift.png").exists() and path.endswith("drift.png")


def test_a_rejudge_with_runs_refreshes_the_claim_from_its_own_sweeps(runs, tmp_path):
  import json
  import os
  import shutil

  from experiments.reproduction import report

  here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments")
  out = tmp_path / "results"
  out.mkdir()
  for name in ("numbers.json", "numbers.md"):
    shutil.copy(os.path.join(here, "reproduction", "results", name), out / name)
  doc = tmp_path / "README.md"
  shutil.copy(os.path.join(here, "reproduction", "README.md"), doc)
  claims = {c["key"]: c for c in report.rejudge(str(out), str(doc), str(runs), dpi=50)}
  # The runlocal chains are too short for any check to pass: the claim is judged, not "not run".
  assert claims["s6_2"]["verdict"] != "not run" and len(claims["s6_2"]["checks"]) == 3
  stored = json.loads((out / "numbers.json").read_text())
  assert stored["gaussian_drift"]["num_steps"] == 500 and (out / "s6_2_drift.png").exists()
  assert "**Verdict: not run.**" not in doc.read_text().split("claim s6_2 generated")[1][:200]

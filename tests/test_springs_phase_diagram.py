"""experiments/springs_phase_diagram.py runs the springs sweep configs and draws their figures."""

import os
import subprocess
import sys

from featurespring import analysis
from featurespring import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_script_runs_the_selected_configs_into_resumable_workdirs(tmp_path):
  out = tmp_path / "springs"
  command = [
      sys.executable,
      os.path.join(REPO, "experiments", "springs_phase_diagram.py"),
      "--quick",
      "--seeds=2",
      "--dynamics=first_order,langevin",
      f"--outdir={out}",
  ]
  subprocess.run(command, check=True, cwd=REPO, capture_output=True, timeout=300)
  # Fig. 3 and Fig. 4 are first-order chains, S14 Langevin ones; S13 was not asked for.
  assert sorted(os.listdir(out)) == ["fig3", "fig4_springs", "s14"]
  quick = sweep.runlocal(sweep.base_config("springs"))
  for name in ("fig3", "fig4_springs", "s14"):
    finished = analysis.FinishedSweep.load(str(out / name))
    assert finished.num_seeds == 2  # --seeds overrides the config's
    assert finished.config["springs"]["num_steps"] == quick.springs.num_steps
    for stem in ("phase_diagram", "load_curves") + (
        ("dynamics",) if name == "fig4_springs" else ()
    ):
      for ext in ("png", "pdf"):
        assert (out / name / "figures" / f"{stem}.{ext}").stat().st_size > 1000
  # A rerun finds the sweeps finished and only draws again.
  again = subprocess.run(command, check=True, cwd=REPO, capture_output=True, timeout=300, text=True)
  assert "0 to run" in again.stderr, again.stderr[-2000:]

"""experiments/bridge/report.py end to end, on hand-made sweeps that obey the chain's law.

Four fig1-like grids of chain load curves (the closed form with mu_eff from
the bounded-noise law, plus per-run noise) share their rows, so the report
must find the law, prefer the theory to the row mean, and run the
universality comparison. A sweep with too few levels and a missing one must
be reported, not crash the report.
"""

import os

import numpy as np
import pytest

from featurespring import bridge
from featurespring import metrics
from featurespring import springs
from featurespring import sweep
from featurespring.sweep import results

from experiments.bridge import heldout
from experiments.bridge import figures as bridge_figures
from experiments.bridge import report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


ALPHA = (0.0, 0.5, 1.0)
GRIDS = {
    "fig1a": ("noise", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), 0.01),
    "fig1b": ("learning_rate", (1e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5), 0.01),
    "fig1c": ("dropout", (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3), 0.01),
    "fig1d": ("batch_size", (5, 10, 20, 40, 80, 160, 320), 0.02),
}


def fake_grid(workdir, knob, values, scale, seed, num_seeds=4, num_blocks=5):
  rng = np.random.default_rng(seed)
  config = sweep.base_config("dnn")
  config.grid.alpha = ALPHA
  setattr(config.grid, knob, values)
  config.plot.x, config.plot.y = knob, "alpha"
  mu_r = 0.04 * (1.0 - np.asarray(ALPHA))[:, None]  # more nonlinear, more friction
  z = np.asarray(
      bridge.knob_coordinate(np.asarray(values, np.float64), bridge.KNOB_CANDIDATES[knob][0])
  )
  mu = springs.effective_friction(mu_r, 2 * mu_r + 0.04, scale * z, bridge.REFERENCE_CHAIN["dt"])
  curves = springs.equilibrium_load_curve(num_blocks, 1.0, 1.0, mu)  # [3, N, L+1]
  curves = curves[:, :, None] + rng.normal(0.0, 2e-3, (3, len(values), num_seeds, num_blocks + 1))
  diverged = np.zeros(curves.shape[:3], bool)
  diverged[0, 1, 0] = True
  curves[0, 1, 0] = 1e6  # garbage of a diverged run: must be masked
  arrays = {
      "load_curve": curves,
      "curvature": np.asarray(metrics.curvature(curves)),
      "diverged": diverged,
      "axis/alpha": np.asarray(ALPHA),
      f"axis/{knob}": np.asarray(values, np.float64),
      "axis/seed": np.arange(num_seeds),
  }
  results.save(
      os.path.join(workdir, "results"),
      arrays,
      {"config": results.config_to_dict(config), "grid_names": ["alpha", knob, "seed"]},
  )


@pytest.fixture(scope="module")
def written(tmp_path_factory):
  runs = tmp_path_factory.mktemp("runs")
  workdirs = {}
  for i, (name, (knob, values, scale)) in enumerate(GRIDS.items()):
    fake_grid(str(runs / name), knob, values, scale, seed=i)
    workdirs[name] = str(runs / name)
  fake_grid(str(runs / "s6"), "dropout", (0.0, 0.1, 0.2, 0.3), 0.01, seed=9)  # 4 levels
  workdirs["s6"] = str(runs / "s6")
  workdirs["s5"] = str(runs / "s5")  # never run
  out = tmp_path_factory.mktemp("docs")
  (out / "dynamics.md").write_text(
      "DYNAMICS SECTION FROM ANOTHER HELPER\n![cells](figures/cells.png) "
      "[PDF](figures/cells.pdf) [web](https://example.org/a.png) [here](#verdict)\n"
  )
  numbers = report.write_report(workdirs, str(out / "bridge.md"), num_boot=30, dpi=40)
  return out, numbers


def test_report_finds_the_law_and_writes_everything(written):
  out, numbers = written
  text = (out / "bridge.md").read_text()
  assert "Skipped s5: no finished results" in text
  assert "**Verdict rule.**" in text and "DYNAMICS SECTION FROM ANOTHER HELPER" in text
  # Written beside the doc, the section is included as it is.
  assert "![cells](figures/cells.png) [PDF](figures/cells.pdf)" in text
  assert "[web](https://example.org/a.png) [here](#verdict)" in text
  for name in GRIDS:
    assert f"## {name}" in text
  # At a glance: one line per grid and split, the verdict of that split's best map.
  glance = text[text.index("## Verdicts at a glance") : text.index("## fig1a")]
  for name in GRIDS:
    for split in heldout.SPLITS:
      assert glance.count(f"| {name} | {split} | ") == 1, (name, split)
  assert "| s6 | interpolation | — | — | — | not available: " in glance
  assert "Universality (one friction pair per nonlinearity across fig1a, fig1b" in glance
  tally = glance[glance.index("Over the predictions above: ") :].splitlines()[0]
  counted = sum(int(part.split(" (")[0].split()[-1]) for part in tally.split("; "))
  assert counted == 2 * len(GRIDS) + 2  # s6's two splits count too (as not available)
  fig1c = numbers["grids"]["fig1c"]
  assert fig1c["valid_runs"] == fig1c["runs"] - 1  # the diverged run is masked
  fit = fig1c["fits"]["dropout_std"]
  np.testing.assert_allclose(fit.mu_right, [0.0, 0.02, 0.04], atol=4e-3)  # rows by 1 - alpha
  interp = fig1c["held_out"]["interpolation"]["dropout_std"]
  assert interp["metrics"]["theory"]["mae"]["value"] < interp["metrics"]["row_mean"]["mae"]["value"]
  # s6 has 4 levels: the splits need 5; said so, not crashed.
  assert "knob_values has 4 levels" in text
  universal = numbers["universality"]
  assert isinstance(universal, dict) and universal["rows_compared"] >= 2
  assert "## Universality" in text and "ΔAIC" in text
  # The linear row (alpha = 1: mu_r = 0) at its least-noise cell: one line per grid and
  # map; the law meets the cell; zero friction where the cell has no noise (all but the
  # batch size), and curvature and friction of opposite signs where it is not linear.
  section = text[text.index("## The linear network at the least noise") : text.index("## Fig")]
  lines = [l for l in section.splitlines() if l.startswith("| fig1")]
  assert len(lines) == sum(len(bridge.KNOB_CANDIDATES[k]) for k, _, _ in GRIDS.values())
  for line in lines:
    grid, _, curvature, friction, knob_map, *_, miss, _ = [
        c.strip() for c in line.strip("|").split("|")
    ]
    friction = float(friction.split()[0])
    # Tight for the map the fake grid was made with, loose for the wrong candidates.
    generating = bridge.KNOB_CANDIDATES[GRIDS[grid][0]][0]
    assert abs(float(miss)) < (0.002 if knob_map == generating else 0.01), line
    if grid == "fig1d":
      assert friction < -0.005 and float(curvature) > 0.01, line
    else:
      assert abs(friction) < 0.002, line
  for stem in ("friction_vs_nonlinearity", "collapse"):
    for ext in ("png", "pdf"):
      assert os.path.getsize(out / "figures" / f"{stem}.{ext}") > 1000
    assert f"figures/{stem}.png" in text


def test_collapse_puts_law_made_cells_on_one_curve(written):
  _, numbers = written
  for universal in (numbers["universality"], "not available"):  # joint, then separate fits
    source, rows = bridge_figures.collapse_rows(numbers["grids"], universal)
    assert ("joint" in source) == isinstance(universal, dict)
    assert {r[0] for r in rows} >= set(GRIDS)
    for name, x, y, floored, friction, position in rows:
      keep = np.isfinite(x) & np.isfinite(y)
      assert keep.sum() >= x.size - 1, name  # only the diverged-only cell may drop out
      # The fake grids follow the law up to seed noise: every row on y = min(x, 1).
      assert np.median(np.abs(y[keep] - np.minimum(x[keep], 1.0))) < 0.15, name
      assert position.min() == 0.0 and position.max() == 1.0
      if name == "fig1d":  # batch sizes ascend: the most noise is the first column
        assert position[0, 0] == 1.0 and position[0, -1] == 0.0


def test_universality_not_available_without_all_four(tmp_path):
  fake_grid(str(tmp_path / "fig1c"), "dropout", GRIDS["fig1c"][1], 0.01, seed=0)
  numbers = report.write_report(
      {"fig1c": str(tmp_path / "fig1c")}, str(tmp_path / "bridge.md"), num_boot=5, dpi=40
  )
  assert numbers["universality"].startswith("not available")
  assert "Not available: needs fig1a" in (tmp_path / "bridge.md").read_text()


def test_rows_of_different_depths_are_fit_on_their_own_layers(tmp_path):
  # S5: merged load curves of shallower rows are padded with NaN to the deepest.
  # (Rows: alpha 0, 0.5, 1 in the arrays; the middle one is row 1 either way.)
  fake_grid(str(tmp_path), "dropout", GRIDS["fig1c"][1], 0.01, seed=7, num_blocks=6)
  arrays, sidecar = sweep.load_result(str(tmp_path))
  curves = arrays["load_curve"]
  shallow = springs.equilibrium_load_curve(4, 1.0, 1.0, 0.02)  # concave, 5 points
  curves[1, :, :, :5] = shallow
  curves[1, :, :, 5:] = np.nan
  results.save(os.path.join(str(tmp_path), "results"), arrays, sidecar)
  _, _, _, friction = report.load_grid(str(tmp_path))
  assert np.isfinite(friction[1]).all()  # not invalid for its padding
  np.testing.assert_allclose(friction[1], 0.02, rtol=1e-3)
  assert np.isfinite(friction[0]).all()  # the deepest rows keep every layer


def test_at_a_glance_reads_both_splits_with_the_interpolation_preferred_map():
  from experiments.bridge import markdown

  def result(mae):
    ci = {"value": mae, "low": mae, "high": mae}
    metrics = {p: {"mae": ci, "r2": ci, "coverage": 1.0} for p in heldout.PREDICTORS}
    diff = {"mae": {"value": 1.0, "low": 0.5, "high": 1.5}, "r2": ci}
    return {"metrics": metrics, "difference": {b: diff for b in heldout.BASELINES}}

  # "sqrt" interpolates best; "identity" would extrapolate best but must not be picked there.
  entry = {
      "held_out": {
          "interpolation": {"sqrt": result(0.01), "identity": result(0.02)},
          "extrapolation": {"identity": result(0.03), "sqrt": result(0.05)},
      }
  }
  assert markdown.preferred_map(entry) == "sqrt"
  lines = markdown._summary_lines({"g": entry}, "not run")
  rows = [line for line in lines if line.startswith("| g |")]
  assert rows[0].startswith("| g | interpolation | sqrt |")
  assert rows[1].startswith("| g | extrapolation | sqrt | 0.05")
  assert not [line for line in lines if "outside its own interval" in line]


def test_at_a_glance_names_an_error_outside_its_own_interval():
  from experiments.bridge import markdown

  def mae(value, low, high):
    return {"mae": {"value": value, "low": low, "high": high}, "coverage": 1.0}

  metrics = {p: mae(0.02, 0.01, 0.03) for p in heldout.PREDICTORS}
  metrics["linear"] = mae(0.005, 0.0055, 0.0063)  # the best baseline, its point below its CI
  diff = {"mae": {"value": -0.01, "low": -0.02, "high": -0.005}}
  result = {"metrics": metrics, "difference": {b: diff for b in heldout.BASELINES}}
  entry = {"held_out": {"interpolation": {"identity": result}, "extrapolation": "no rows"}}
  lines = markdown._summary_lines({"g": entry}, "not run")
  notes = [line for line in lines if "outside its own interval" in line]
  assert len(notes) == 1 and "In 1 MAE(s) above (g interpolation linear)" in notes[0]
  assert f"0 of the {len(heldout.BASELINES)} behind this table exclude their point" in notes[0]

"""experiments/reproduction/report.py: a full report from real and hand-made sweeps.

The statistics, crossings and finished-sweep reading it calls are tested on
their own in tests/test_analysis.py.
"""

import json
import os
import shutil

import numpy as np
from PIL import Image
import pytest

from featurespring import sweep
from featurespring.sweep import results

from experiments.reproduction import catalogue
from experiments.reproduction import claims as claims_lib
from experiments.reproduction import figures
from experiments.reproduction import report
from experiments.reproduction import verdicts

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def save_fake(workdir, config, names, arrays):
  """A merged result as the sweep runner leaves it."""
  results.save(
      os.path.join(workdir, "results"),
      arrays,
      {"config": results.config_to_dict(config), "grid_names": list(names)},
  )


def fake_classification_grid(workdir):
  """fig1a-like grid [alpha 3, noise 4, seed 3] with one diverged net of garbage values."""
  rng = np.random.default_rng(5)
  config = sweep.base_config("dnn")
  config.grid.alpha, config.grid.noise = (0.0, 0.5, 1.0), (0.0, 0.2, 0.4, 0.6)
  config.plot.x, config.plot.y = "noise", "alpha"
  shape = (3, 4, 3)
  curvature = np.linspace(-1, 1, 4)[None, :, None] + 0.1 * rng.normal(size=shape)
  accuracy = 0.9 - 0.1 * np.abs(curvature) + 0.01 * rng.normal(size=shape)
  diverged = np.zeros(shape, bool)
  diverged[1, 2, 0] = True
  curvature[1, 2, 0], accuracy[1, 2, 0] = 1e6, 0.1
  arrays = {
      "curvature": curvature,
      "accuracy": accuracy,
      "diverged": diverged,
      "curvature_pinv": curvature * 2,
      "curvature_test": curvature,
      "axis/alpha": np.array([0.0, 0.5, 1.0]),
      "axis/noise": np.array([0.0, 0.2, 0.4, 0.6]),
      "axis/seed": np.arange(3),
  }
  save_fake(workdir, config, ("alpha", "noise", "seed"), arrays)
  return arrays


def fake_switch_sweep(workdir):
  """s2-like: 2 rates x 2 seeds, 6 epochs, switch after 3, metrics every 2nd epoch."""
  config = sweep.base_config("dnn")
  config.dnn.num_epochs, config.dnn.dropout_switch_epoch, config.dnn.eval_every = 6, 3, 2
  config.grid.alpha, config.grid.dropout_switch_rate = (0.0,), (0.0, 0.3)
  config.plot.x, config.plot.y = "dropout_switch_rate", "alpha"
  shape, epochs = (1, 2, 2), 6
  evaluated = (np.arange(epochs) % 2) == 1  # epochs 2, 4, 6
  acc = np.where(evaluated, (np.arange(epochs) + 1) / 100.0, np.nan)
  acc = np.broadcast_to(acc, shape + (epochs,)).copy()
  # Load curves with curvature = epoch (d = [e, 0]) at evaluated epochs.
  curve = np.zeros(shape + (epochs, 3))
  curve[..., 0] = np.arange(epochs) + 1.0
  curve[..., ~evaluated, :] = np.nan
  diverged = np.zeros(shape + (epochs,), bool)
  diverged[0, 0, 1, 4:] = True  # rate 0, seed 1 diverges in epoch 5
  arrays = {
      "history/accuracy": acc,
      "history/load_curve": curve,
      "history/load_curve_pinv": curve,
      "history/diverged": diverged,
      "diverged": diverged[..., -1],
      "curvature": np.zeros(shape),
      "axis/alpha": np.array([0.0]),
      "axis/dropout_switch_rate": np.array([0.0, 0.3]),
      "axis/seed": np.arange(2),
  }
  save_fake(workdir, config, ("alpha", "dropout_switch_rate", "seed"), arrays)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
  runs = tmp_path_factory.mktemp("runs")
  # A real (tiny) sweep, run in-process: 2 x 2 cells, 2 seeds, 2 epochs.
  config = sweep.load_config(os.path.join(REPO, "experiments/fig1c_dropout.py:runlocal"))
  config.seeds = 2
  sweep.run(config, str(runs / "fig1c"))
  fake = fake_classification_grid(str(runs / "fig1a"))
  fake_switch_sweep(str(runs / "s2"))
  os.makedirs(runs / "fig1b")  # started, never merged
  # A real (tiny) chain phase diagram, S13's smoke test: 2 x 2 cells, 1 seed.
  sweep.run(
      sweep.load_config(os.path.join(REPO, "experiments/s13_springs_second_order.py:runlocal")),
      str(runs / "s13"),
  )
  # Fig. 2 and Fig. 5(b) smoke tests (1 seed, 500 steps), with stand-ins for the
  # figures launch.plot would draw: the report copies them, it does not draw
  # them (the drawing is tested in tests/test_fig2_fig5b.py). Fig. 5(b)'s
  # curvature_by_row.png is left out: a missing figure is skipped.
  for name, config, drawn in (
      ("fig2", "fig2_independent_vs_synchronous.py", ("side_by_side.png",)),
      ("fig5b", "fig5b_left_friction_only.py", ("load_curves.png",)),
  ):
    sweep.run(
        sweep.load_config(os.path.join(REPO, "experiments", config + ":runlocal")), str(runs / name)
    )
    os.makedirs(runs / name / "figures")
    for figure in drawn:
      # Fig. 2's stand-in is narrow (copied as is), Fig. 5(b)'s wider than the page.
      width = 300 if name == "fig2" else 2 * figures.COPY_MAX_WIDTH
      Image.new("RGB", (width, 100), "white").save(runs / name / "figures" / figure)
  (runs / "runtimes.tsv").write_text(
      "fig1c\t12\texperiments/fig1c_dropout.py\n" "fig1a\t30\texperiments/fig1a_label_noise.py\n"
  )
  out = tmp_path_factory.mktemp("out")
  doc = out / "reproduction.md"
  fig1c_begin, fig1c_end = claims_lib.claim_markers("fig1c")
  doc.write_text(
      f"# Prose\n{claims_lib.VERDICTS_BEGIN}\nold\n{claims_lib.VERDICTS_END}\nmore prose\n"
      f"## Fig. 1(c)\n{fig1c_begin}\nold\n{fig1c_end}\n"
      f"## Correlations\n{claims_lib.CENTRAL_CHECK_MARKERS[0]}\n{claims_lib.CENTRAL_CHECK_MARKERS[1]}\n"
  )
  numbers = report.write_report(
      str(runs), str(out), num_boot=200, boot_seed=0, dpi=60, doc=str(doc)
  )
  return out, numbers, fake, runs


def test_report_numbers_and_figures(report_dir):
  out, numbers, fake, _ = report_dir
  with open(out / "numbers.json") as f:
    written = json.load(f)
  assert written == json.loads(json.dumps(numbers))  # numbers.json is the returned dict
  status = {n: s["status"] for n, s in written["sweeps"].items()}
  assert status["fig1c"] == status["fig1a"] == status["s2"] == "ok", written["sweeps"]
  assert status["fig1d"] == "missing" and status["fig1b"].startswith("incomplete")
  fig1c = written["results"]["fig1c"]
  for key in (
      "curvature",
      "curvature_pinv",
      "curvature_test",
      "curvature_pinv_test",
      "accuracy",
      "diverged",
      "rows",
      "best_vs_zero",
      "curvature_vs_noise",
      "correlation_pooled",
      "correlation_pooled_row_centred",
      "best_cell",
  ):
    assert key in fig1c, key
  assert np.shape(fig1c["curvature"]["mean"]) == (2, 2)
  assert fig1c["y_values"] == [0.0, 1.0]  # rows by ascending alpha
  assert len(fig1c["curvature"]["sign"]) == 2 and len(fig1c["curvature"]["sign"][0]) == 2
  for row in fig1c["rows"]:
    assert {"best_col", "zero_col", "crossings", "correlation"} <= set(row)
  # The diverged net is counted and left out of the cell mean.
  fig1a = written["results"]["fig1a"]
  assert fig1a["diverged"]["total"] == 1 and fig1a["diverged"]["per_cell"][1][2] == 1
  np.testing.assert_allclose(fig1a["curvature"]["mean"][1][2], fake["curvature"][1, 2, 1:].mean())
  assert fig1a["curvature"]["n"][1][2] == 2
  central = written["central_check"]
  assert set(central["per_grid"]) == {"fig1a", "fig1c"}
  assert central["pooled"]["num_cells"] == 12 + 4
  assert central["per_grid"]["fig1a"]["pooled"]["pearson"] < 0  # planted in the fake grid
  assert "pooled_row_centred" in central and "pooled_curvature_pinv" in central
  # S2: last evaluated epoch at or before the switch (epoch 3 -> 2) and the end.
  s2 = written["results"]["s2"]["cases"]
  assert s2[0]["before_epoch"] == 2 and s2[0]["end_epoch"] == 6
  np.testing.assert_allclose([s2[0]["accuracy_before"], s2[0]["accuracy_end"]], [0.02, 0.06])
  np.testing.assert_allclose([s2[0]["curvature_before"], s2[0]["curvature_end"]], [2.0, 6.0])
  assert s2[0]["accuracy_end_n"] == 1 and s2[1]["accuracy_end_n"] == 2  # diverged net out
  assert written["springs"]["second_order"]["status"] == "ok"
  assert written["springs"]["first_order"]["status"] == "missing"
  chains = written["springs"]["second_order"]
  assert np.shape(chains["curvature_mean"]) == (2, 2) and len(chains["rows"]) == 2
  assert "theory_critical_noise" not in chains["rows"][0]  # first-order chains only
  assert written["runtimes"]["total_seconds"] == 42
  # Fig. 2 and Fig. 5(b): their analyses, figures copied (those that exist), wall times.
  assert status["fig2"] == status["fig5b"] == "ok", written["sweeps"]
  fig2 = written["results"]["fig2"]
  assert [m["synchronous"] for m in fig2["modes"]] == [False, True]
  assert len(fig2["modes"][0]["load_curve"]) == 8 and fig2["theory_curvature"] > 0
  assert fig2["figures"] == ["fig2_side_by_side.png"]
  fig5b = written["results"]["fig5b"]
  assert [r["mu_left"] for r in fig5b["rows"]] == [0.01, 0.04]
  assert len(fig5b["noise"]) == len(fig5b["rows"][0]["curvature_mean"]) == 2
  assert fig5b["figures"] == ["fig5b_load_curves.png"]
  assert {"fig2_side_by_side.png", "fig5b_load_curves.png"} <= set(written["copied_figures"])
  assert "fig5b_curvature_by_row.png" not in written["copied_figures"]
  with Image.open(out / "fig2_side_by_side.png") as copied:
    assert copied.size == (300, 100) and copied.mode == "P"  # palette, not scaled
  with Image.open(out / "fig5b_load_curves.png") as copied:
    assert copied.size == (figures.COPY_MAX_WIDTH, 50)  # scaled down, aspect kept
  assert written["wall_times_s"]["fig2"] > 0 and written["wall_times_s"]["fig5b"] > 0
  for name in ("phase_fig1c.png", "phase_fig1a.png", "curvature_vs_accuracy.png", "s2_switch.png"):
    assert os.path.getsize(out / name) > 1000, name
  assert sum(os.path.getsize(out / f) for f in os.listdir(out)) < 3 * 2**20
  markdown = (out / "numbers.md").read_text()
  for text in (
      "## Central check",
      "## fig1c",
      "## fig1d",
      "Skipped: missing",
      "## s2",
      "partial correlation",
      "### second_order (s13, 1 seeds",
      "- first_order: missing",
      "## fig2: Fig. 2: chain with independent vs synchronous noise",
      "| independent | 1 |",
      "Figures: `fig2_side_by_side.png`.",
      "## fig5b: Fig. 5(b): chain with leftward friction only (mu_r = 0)",
      "| 0.04 | `",
      "Figures: `fig5b_load_curves.png`.",
      "## Runtimes",
  ):
    assert text in markdown, text


def test_verdicts_follow_the_rule_and_fill_the_doc_block(report_dir):
  out, numbers, _, _ = report_dir
  claims = {c["key"]: c for c in numbers["verdicts"]}
  assert list(claims) == list(claims_lib.CLAIMS)
  for claim in claims.values():
    assert claim["verdict"] == verdicts.verdict(claim["checks"])
  # Phase grids: rises, both phases, the pre-registered reading of the grid alone.
  assert len(claims["fig1a"]["checks"]) == len(claims["fig1c"]["checks"]) == 3
  # The fake fig1a plants a peak at the crossing in every row: the grid's pre-registered reading.
  assert "(pre-registered rule, this grid)" in claims["fig1a"]["checks"][2]["check"]
  assert set(numbers["preregistered"]["families"]) == {"fig1a", "fig1c"}
  # The pooled reading waits for all six families.
  assert numbers["preregistered"]["pooled"] is None
  assert claims["preregistered"]["verdict"] == "not run"
  assert claims["preregistered"]["missing"] == "fig1b, fig1d, s5, s6"
  assert claims["fig1b"]["verdict"] == "not run"
  assert claims["fig1b"]["missing"] == "fig1b (incomplete (no merged results.npz/json))"
  assert claims["s4"]["missing"] == "s4 (missing (needs fig1b))"
  assert claims["s8_s9"]["verdict"] == "not run" and "CIFAR-10" in claims["s8_s9"]["missing"]
  # The fake S2 has rates 0 and 0.3 only: no moderate rate to test.
  assert [c["outcome"] for c in claims["s2"]["checks"]] == ["undecided"]
  assert len(claims["fig2"]["checks"]) == 2
  assert len(claims["s13"]["checks"]) == 2  # no theory line for second-order chains
  text = (out / "reproduction.md").read_text()
  assert text.startswith(f"# Prose\n{claims_lib.VERDICTS_BEGIN}\n**The rule.**")
  assert f"{claims_lib.VERDICTS_END}\nmore prose\n## Fig. 1(c)\n" in text and "\nold\n" not in text
  # Each claim block the doc holds: its verdict, checks and where its numbers are.
  fig1c_block = text.split(claims_lib.claim_markers("fig1c")[0])[1].split("<!-- END")[0]
  assert fig1c_block.startswith(f"\n**Verdict: {claims['fig1c']['verdict']}.**\n")
  assert fig1c_block.count("\n- ") == len(claims["fig1c"]["checks"]) + 1
  wall = numbers["wall_times_s"]["fig1c"]
  assert "section `fig1c`." in fig1c_block and f"compiles included): {wall:.0f} s." in fig1c_block
  assert "| **all grids** | 16 |" in text.split(claims_lib.CENTRAL_CHECK_MARKERS[0])[1]
  for claim in claims.values():
    assert f"| {claim['figure']} | {claim['claim']} | **{claim['verdict']}** |" in text
  assert "## Verdicts" in (out / "numbers.md").read_text()


def test_preregistered_readings_use_the_plans_resampling(report_dir):
  # The report ran its correlations at 200 resamples; the pre-registered
  # readings must still be the plan's (2000, seed 0), as the central report's.
  _, numbers, _, runs = report_dir
  from experiments.central_claim import central
  from featurespring.analysis import finished

  grids = {
      n: central.grid_from_sweep(finished.FinishedSweep.load(str(runs / n)), n)
      for n in ("fig1a", "fig1c")
  }
  plan = central.analyse(grids)
  for name in grids:
    got = numbers["preregistered"]["families"][name]
    want = plan["families"][name]["statistics"]
    assert json.loads(json.dumps(catalogue.to_json(got))) == json.loads(
        json.dumps(catalogue.to_json(want))
    ), name


def test_the_published_verdicts_are_todays_rule_over_the_stored_numbers(tmp_path):
  """--rejudge on a copy of the published numbers changes nothing: the doc and numbers.json
  hold the verdicts of the rule in verdicts.py, not of an older one."""
  here = os.path.join(REPO, "experiments", "reproduction")
  out = tmp_path / "results"
  out.mkdir()
  for name in ("numbers.json", "numbers.md"):
    shutil.copy(os.path.join(here, "results", name), out / name)
  doc = tmp_path / "README.md"
  shutil.copy(os.path.join(here, "README.md"), doc)
  before = {p: p.read_text() for p in (doc, out / "numbers.md")}
  stored = json.loads((out / "numbers.json").read_text())["verdicts"]
  assert report.rejudge(str(out), str(doc)) == stored
  assert {p: p.read_text() for p in before} == before


def test_a_wall_time_with_unrecorded_resumes_reads_as_a_lower_bound():
  from experiments.reproduction import markdown

  numbers = {
      "sweeps": {"s2": {"status": "ok"}, "fig2": {"status": "ok"}},
      "wall_times_s": {"s2": 24000.4, "fig2": 31.0},
      "wall_times_unrecorded": {"s2": ["chunk_00002", "chunk_00003"]},
  }
  claim = {"key": "s2", "verdict": "partly"}
  claim["checks"] = [{"outcome": "pass", "check": "c", "measured": "m"}]
  block = claims_lib.claim_block(claim, numbers, "n.md")
  assert block.endswith(
      "compiles included): at least 24000 s (chunk_00002, chunk_00003: resumed, the time "
      "before the resume not recorded)."
  )
  assert markdown.wall_time(numbers, "fig2") == "31 s"
  # Several sweeps' times are each named.
  numbers["sweeps"].update({"s13": {"status": "ok"}, "s13_damped": {"status": "ok"}})
  numbers["wall_times_s"].update({"s13": 5.0, "s13_damped": 7.0})
  numbers["wall_times_unrecorded"]["s13_damped"] = ["chunk_00001"]
  block = claims_lib.claim_block(dict(claim, key="s13_damping"), numbers, "n.md")
  assert block.endswith(
      "compiles included): `s13` 5 s; `s13_damped` at least 7 s (chunk_00001: resumed, the "
      "time before the resume not recorded)."
  )

"""The second test's analysis and report (experiments/crossing_vs_order/analysis.py, report.py)."""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments.central_claim import central
from experiments.crossing_vs_order import analysis
from experiments.crossing_vs_order import design
from experiments.crossing_vs_order import report
from featurespring import sweep
from featurespring.analysis import stats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DROPOUT = design.FAMILIES["mnist_dropout"]


def test_peak_on_even_cells_is_the_first_tests_rule_in_knob_units():
  rng = np.random.default_rng(0)
  means = rng.random((200, 7))
  knobs = 0.05 * np.arange(7)
  p, censored = analysis.peak_knob(means, knobs)
  p_steps, censored_steps = central.peak(means)
  np.testing.assert_allclose(p, 0.05 * p_steps, atol=1e-12)
  np.testing.assert_array_equal(censored, censored_steps)


def test_peak_on_uneven_cells_finds_the_parabolas_vertex():
  knobs = np.array([0.0, 0.1, 0.13, 0.15, 0.2, 0.4])
  means = 0.9 - (knobs - 0.14) ** 2
  p, censored = analysis.peak_knob(means[None], knobs)
  assert p[0] == pytest.approx(0.14) and not censored[0]
  # The shift stops half-way to the neighbour; an end cell is censored.
  skewed = np.array([0.0, 0.5, 0.9, 0.91, 0.2, 0.1])
  p, censored = analysis.peak_knob(skewed[None], knobs)
  assert 0.14 <= p[0] <= 0.175 and not censored[0]
  p, censored = analysis.peak_knob(np.array([[1.0, 0.5, 0.4, 0.3, 0.2, 0.1]]), knobs)
  assert p[0] == 0.0 and censored[0]
  p, censored = analysis.peak_knob(np.array([[0.1, 0.5, np.nan, 0.3, 0.2, 0.1]]), knobs)
  assert p[0] == 0.1 and censored[0]


def test_reading_between_cells_is_numpys_interp_over_the_finite_cells():
  rng = np.random.default_rng(1)
  knobs = np.array([0.0, 0.1, 0.16, 0.2, 0.3, 0.4])
  means = rng.random((50, knobs.size))
  means[::7, 2] = np.nan
  k = rng.uniform(-0.1, 0.5, 50)
  expected = [
      np.interp(k[b], knobs[np.isfinite(m)], m[np.isfinite(m)]) for b, m in enumerate(means)
  ]
  np.testing.assert_allclose(analysis.read_at(k, means, knobs), expected, atol=1e-12)


def test_crossing_in_knob_units_matches_the_first_tests_position():
  knobs = np.array([0.0, 0.1, 0.2, 0.26, 0.3, 0.4])
  rng = np.random.default_rng(2)
  curvature = np.sort(rng.normal(size=(100, knobs.size)), -1) + rng.normal(size=(100, 1))
  got = analysis.crossing_knob(curvature, knobs)
  for b in range(100):
    assert got[b] == pytest.approx(design.knob_at(float(central.crossing(curvature[b])), knobs))


def test_leave_one_out_fits_match_a_plain_least_squares_loop():
  rng = np.random.default_rng(3)
  features = np.array([[a, w] for a in range(3) for w in range(3)], float)
  y = rng.normal(size=(4, 9))
  y[1, 4] = np.nan
  got = stats.leave_one_out_fit(y, features)
  for b in range(4):
    for r in range(9):
      keep = np.isfinite(y[b]) & (np.arange(9) != r)
      x = np.column_stack([np.ones(9), features])
      coef = np.linalg.lstsq(x[keep], y[b, keep], rcond=None)[0]
      assert got[b, r] == pytest.approx(x[r] @ coef)
  np.testing.assert_allclose(
      analysis.loo_mean(np.array([[1.0, 2.0, np.nan, 6.0]])), [[4, 3.5, 3, 1.5]]
  )


def synthetic_rows(crossing_shift=0.0, curve=0.5, noise=0.002, seed=0, num_seeds=10, jitter=0.0):
  """Rows whose accuracy peaks at ``peak`` (not a function of the ranks alone) and whose
  cheap-run crossing is ``peak + crossing_shift (+ jitter)``."""
  rng = np.random.default_rng(seed)
  rows = []
  for i, alpha in enumerate(design.ALPHAS):
    for j, width in enumerate(design.WIDTHS):
      peak = 0.06 + 0.1 * i + (0.04, 0.12, 0.0)[(i + j) % 3]
      crossing = peak + crossing_shift + jitter * rng.normal()
      knobs = np.array(design.full_cells(float(np.clip(crossing, 0, DROPOUT.top)), DROPOUT))
      accuracy = 0.9 - curve * (knobs - peak) ** 2
      draw = lambda: accuracy[:, None] + noise * rng.normal(size=(knobs.size, num_seeds))
      curvature = (knobs - peak)[:, None] + 0.01 * rng.normal(size=(knobs.size, num_seeds))
      rows.append(analysis.Row(alpha, width, knobs, crossing, None, draw(), draw(), curvature))
  return rows


def verdict(rows, num_boot=300):
  out = analysis.analyse({"a": (DROPOUT, rows), "b": (DROPOUT, rows)}, num_boot=num_boot)
  return out, out["pooled"]["decision"]["verdict"]


def test_each_outcome_of_the_rule_is_reachable():
  out, v = verdict(synthetic_rows(curve=20.0))
  assert v == "supported", out["pooled"]["decision"]
  out, v = verdict(synthetic_rows(crossing_shift=0.15, curve=20.0))
  assert v == "refuted" and out["pooled"]["decision"]["conditions"]["L_C0 above 0.5"]
  # Flat accuracy: every prediction loses about nothing, so the differences are ties.
  out, v = verdict(synthetic_rows(crossing_shift=0.1, curve=0.01, noise=0.003))
  assert v == "inconclusive" and "Δ_O2 contains 0" in out["pooled"]["decision"]["open"]


def test_a_bootstrap_resample_is_the_analysis_of_the_resampled_seeds():
  rows = synthetic_rows(curve=5.0, noise=0.01, jitter=0.02)
  index = np.random.default_rng(4).integers(0, 10, size=(3, 10))
  boot = analysis.family_readings(rows, central.seed_weights(index, 10))
  for b in range(3):
    resampled = [
        analysis.Row(
            r.alpha,
            r.width,
            r.knobs,
            r.crossing,
            None,
            r.test[:, index[b]],
            r.val[:, index[b]],
            r.curvature[:, index[b]],
        )
        for r in rows
    ]
    single = analysis.family_readings(resampled)
    for m in analysis.MODELS:
      np.testing.assert_allclose(boot["loss"][m][b], single["loss"][m][0], atol=1e-9)
    np.testing.assert_allclose(boot["val_peak"][b], single["val_peak"][0], atol=1e-12)


def test_a_diverged_row_is_named_and_does_not_poison_the_others():
  rows = synthetic_rows(curve=20.0)
  rows[4].test[:] = np.nan
  rows[4].val[:] = np.nan
  out, _ = verdict(rows, num_boot=50)
  fam = out["families"]["a"]
  assert fam["summary"]["num_rows"] == 8
  assert np.isfinite(fam["summary"]["loss"]["O2"]["value"])


def test_the_sensitivity_reading_leaves_out_exactly_the_censored_crossings():
  rows = synthetic_rows(curve=20.0)
  # Two rows whose crossing is censored at the grid's end, far from their peak.
  for r in (1, 5):
    rows[r] = dataclasses.replace(rows[r], crossing=DROPOUT.top, crossing_censored="right")
  out, v = verdict(rows, num_boot=100)
  inside = out["pooled"]["crossing_inside"]
  assert inside["num_censored"] == 4 and inside["summary"]["num_rows"] == 14
  assert v == "refuted" and inside["decision"]["verdict"] == "supported"
  fam = out["families"]["a"]["rows"]
  kept = [fam[r]["models"]["C0"]["loss"]["value"] for r in range(9) if r not in (1, 5)]
  np.testing.assert_allclose(inside["summary"]["loss"]["C0"]["value"], np.mean(kept), atol=1e-9)
  # The first test's statistics drop a censored crossing, as the first test does.
  both_inside = [not r["crossing_censored"] and not r["test_peak_censored"] for r in fam]
  assert out["families"]["a"]["first_test"]["num_uncensored"] == sum(both_inside) <= 7


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
  """A `:runlocal` phase 2 of `mnist_dropout` on the embedded data, from a hand-written cells file."""
  runs = tmp_path_factory.mktemp("cvo")
  # One width: one compiled program (each width is its own shape), the rows of every alpha.
  rows = [
      {
          "alpha": a,
          "width": design.WIDTHS[0],
          "crossing_position": 1.5 if a else "inf",
          "crossing_knob": 0.075 if a else 0.4,
          "cells": [0.0, 0.2, 0.4],
      }
      for a in design.ALPHAS
  ]
  (runs / "mnist_dropout_cells.json").write_text(
      json.dumps({"family": "mnist_dropout", "rows": rows})
  )
  config = sweep.load_config(
      os.path.join(ROOT, "experiments/crossing_vs_order/sweep_config.py")
      + f":family=mnist_dropout,cells={runs / 'mnist_dropout_cells.json'},runlocal"
  )
  config.seeds = 2
  sweep.run(config, str(runs / "mnist_dropout_full"), progress=False)
  return runs


def test_report_reads_a_finished_family_and_waits_for_the_other(smoke_runs, tmp_path):
  doc = tmp_path / "README.md"
  doc.write_text("# plan\n\nhand-written text\n")
  out, status = report.write_report(str(smoke_runs), str(doc), str(tmp_path / "fig"), num_boot=20)
  assert status == {"mnist_dropout": "ok", "s7_fashion_noise": "phase 1 not finished"}
  text = doc.read_text()
  assert text.startswith("# plan\n\nhand-written text\n") and report.BEGIN in text
  assert "not read yet" in text and "Verdict (pooled" not in text
  fam = out["families"]["mnist_dropout"]
  assert fam["rows"][0]["crossing_censored"] == "right"
  assert [r["cells"].tolist() for r in fam["rows"]] == [[0.0, 0.2, 0.4]] * len(fam["rows"])
  for name in ("rows_mnist_dropout", "losses"):
    assert (tmp_path / "fig" / f"{name}.png").exists() and (
        tmp_path / "fig" / f"{name}.pdf"
    ).exists()
  numbers = json.loads((tmp_path / "fig" / "crossing_vs_order.json").read_text())
  # Figures are named by file, not by a path of the machine that wrote them.
  assert numbers["families"]["mnist_dropout"]["figure"] == "rows_mnist_dropout.png"
  assert numbers["figure"] == "losses.png"
  assert numbers["families"]["mnist_dropout"]["decision"]["verdict"] in (
      "supported",
      "refuted",
      "inconclusive",
  )


def test_the_report_does_not_overwrite_finished_results_with_missing_runs(smoke_runs, tmp_path):
  doc, figures = tmp_path / "README.md", tmp_path / "fig"
  doc.write_text("# plan\n")
  report.write_report(str(smoke_runs), str(doc), str(figures), num_boot=20)
  published = (figures / "crossing_vs_order.json").read_text()
  written = doc.read_text()
  empty = tmp_path / "no_runs"  # a clone without the runs
  with pytest.raises(ValueError, match="mnist_dropout.*run.sh first.*replace_finished"):
    report.write_report(str(empty), str(doc), str(figures), num_boot=20)
  assert (figures / "crossing_vs_order.json").read_text() == published
  assert doc.read_text() == written
  # The document's block alone says so too (numbers written elsewhere).
  with pytest.raises(ValueError, match="README.md hold"):
    report.write_report(str(empty), str(doc), str(tmp_path / "elsewhere"), num_boot=20)
  assert doc.read_text() == written
  # From the command line the refusal is one line, not a traceback.
  out = subprocess.run(
      [
          sys.executable,
          "-m",
          "experiments.crossing_vs_order.report",
          f"--runs={empty}",
          f"--doc={doc}",
          f"--figures={figures}",
          "--num_boot=20",
      ],
      cwd=ROOT,
      capture_output=True,
      text=True,
      check=False,
  )
  assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
  assert out.stderr.strip().splitlines()[-1].startswith("crossing_vs_order report: ")
  assert doc.read_text() == written
  _, status = report.write_report(str(empty), str(doc), str(figures), replace_finished=True)
  assert status["mnist_dropout"] == "phase 1 not finished" and "not read yet" in doc.read_text()


def test_a_phase_2_that_does_not_match_its_cells_file_is_refused(smoke_runs, tmp_path):
  cells = json.loads((smoke_runs / "mnist_dropout_cells.json").read_text())
  cells["rows"][0]["cells"] = [0.0, 0.1, 0.4]
  path = tmp_path / "cells.json"
  path.write_text(json.dumps(cells))
  with pytest.raises(ValueError, match="planned"):
    analysis.load_family(str(smoke_runs / "mnist_dropout_full"), str(path))


def test_the_verdict_in_words_is_the_published_numbers_verdict():
  """The status line, the reading in words and the project README's row name the verdict
  that the generated numbers hold; a rerun that changes it must change them too."""
  with open(
      os.path.join(ROOT, "experiments/crossing_vs_order/figures/crossing_vs_order.json")
  ) as f:
    verdict = json.load(f)["pooled"]["decision"]["verdict"]
  with open(os.path.join(ROOT, "experiments/crossing_vs_order/README.md")) as f:
    doc = f.read()
  status = doc.split("\n## ", 1)[0]
  words = doc.split("## What the result says", 1)[1]
  with open(os.path.join(ROOT, "README.md")) as f:
    row = next(x for x in f if x.startswith("| ") and "crossing_vs_order/README.md)" in x)
  with open(os.path.join(ROOT, "experiments/central_claim/README.md")) as f:
    first_test_status = f.read().split("\n## ", 1)[0]
  assert f"verdict is **{verdict}**" in status
  assert f"its verdict is {verdict}" in " ".join(first_test_status.split())
  assert f"finished: **{verdict}**" in row
  others = {"supported", "refuted", "inconclusive"} - {verdict}
  assert verdict in words and not any(f"reads {o}" in words for o in others)


# The replication (README, status) runs the plan's code as of 0dd9328: a change to these
# files must be made on purpose, listed under "Changes to this plan", and the pin moved.
PINNED = {
    "design.py": "5ac1d5a3c9136f97020c214b80132e483498f354959c6d671b6811efd3e7a339",
    "sweep_config.py": "55df01e270023d1cf42cf6d1ff5e4ed00a5de6633252e4971d5369e30341485d",
    "refine.py": "24e61bd1c58ecb806723770c7d0e3da96fbfc362548d182e3b4416edfd9b6d9f",
    "analysis.py": "f7162f4a61bc59d1adbca8d04623c286af1bccdafd9e76b32acfd53dbc3dfff6",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_replication_runs_the_plans_code(name):
  with open(os.path.join(ROOT, "experiments/crossing_vs_order", name), "rb") as f:
    assert hashlib.sha256(f.read()).hexdigest() == PINNED[name]


def test_the_counts_of_rows_in_words_are_the_published_numbers():
  """The reading in words names counts of censored rows; they are the generated numbers'."""
  with open(
      os.path.join(ROOT, "experiments/crossing_vs_order/figures/crossing_vs_order.json")
  ) as f:
    out = json.load(f)
  with open(os.path.join(ROOT, "experiments/crossing_vs_order/README.md")) as f:
    words = " ".join(f.read().split("## What the result says", 1)[1].split())
  spelled = dict(enumerate("No One Two Three Four Five Six Seven Eight Nine Ten".split()))
  spelled.update({n: str(n) for n in range(11, 19)})
  rows = [(n, r) for n, fam in out["families"].items() for r in fam["rows"]]
  censored = [(n, r) for n, r in rows if r["crossing_censored"]]
  assert len(censored) == out["pooled"]["crossing_inside"]["num_censored"]
  assert f"{spelled[len(censored)]} rows have no crossing inside the grid" in words
  assert f"results leaves out all {spelled[len(censored)].lower()} censored rows" in words
  top = [(n, r) for n, r in censored if r["crossing_censored"] == "right"]
  assert {(n, r["width"]) for n, r in top} == {("s7_fashion_noise", 200)}
  assert f"{spelled[len(top)]} S7 rows at width 200 are still concave at the top" in words
  bottom = {(n, r["alpha"], r["width"]) for n, r in censored if r["crossing_censored"] == "left"}
  width_50 = {(n, r["alpha"], r["width"]) for n, r in rows if r["width"] == 50}
  assert "At width 50, every row but S7's at alpha 0 is convex already at zero noise" in words
  assert bottom == width_50 - {("s7_fashion_noise", 0.0, 50)}


@pytest.mark.parametrize(
    "runs_dir", [[], ["runs/crossing_vs_order/"], ["./runs/crossing_vs_order"]]
)
def test_a_smoke_run_is_refused_in_the_replications_directory(runs_dir):
  script = os.path.join(ROOT, "experiments/crossing_vs_order/run.sh")
  out = subprocess.run(
      ["bash", script, *runs_dir],
      env={**os.environ, "RUNLOCAL": "1"},
      capture_output=True,
      text=True,
      check=False,
  )
  assert out.returncode == 2 and "RUNS_DIR other than runs/crossing_vs_order" in out.stderr

"""The pre-registered test of experiments/central_claim/README.md: experiments.central_claim.central and its report.

Synthetic rows with a planted crossing and peak: the curvature is linear in
the grid step and zero at ``c``, the accuracy a parabola with its vertex at
``p``, so both positions are known exactly.
"""

import itertools
import math
import os

import numpy as np
import pytest

from featurespring import sweep
from experiments.central_claim import central
from experiments.central_claim import report
from featurespring import grids as grid_lib
from featurespring.sweep import results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def planted_grid(crossings, peaks, num_cells=10, num_seeds=10, seed=0, noise=0.01, name="g"):
  """``[rows, cells, seeds]``: zero curvature at ``crossings``, accuracy vertex at ``peaks``."""
  rng = np.random.default_rng(seed)
  steps = np.arange(num_cells)[None, :, None]
  c = np.asarray(crossings, np.float64)[:, None, None]
  p = np.asarray(peaks, np.float64)[:, None, None]
  shape = (len(crossings), num_cells, num_seeds)
  curvature = 0.3 * (steps - c) + noise * rng.normal(size=shape)
  accuracy = 0.9 - 0.01 * (steps - p) ** 2 + 0.05 * noise * rng.normal(size=shape)
  return central.Grid(curvature, accuracy, name=name)


def families(peak_of, num_families=3, num_rows=6, seed=0, spread=(1.6, 6.4)):
  """Families of rows whose crossings spread over ``spread``; peaks from ``peak_of(c, rng)``."""
  rng = np.random.default_rng(seed)
  out = {}
  for f in range(num_families):
    c = np.linspace(*spread, num_rows) + rng.uniform(-0.3, 0.3, num_rows)
    out[f"f{f}"] = planted_grid(c, peak_of(c, rng), seed=seed + f, name=f"f{f}")
  return out


def pooled_verdict(sources, **kwargs):
  out = central.analyse(sources, num_boot=300, secondary_boot=50, **kwargs)
  return out, out["pooled"]["statistics"]["verdict"]


# --- Positions ---------------------------------------------------------------


def test_crossing_interpolates_and_censors():
  assert central.crossing([-1.0, -0.5, 0.5, 1.0]) == pytest.approx(1.5)
  assert central.crossing([-0.3, -0.1, 0.0, 2.0]) == pytest.approx(
      2.0
  )  # zero counts as non-negative
  assert central.crossing([0.0, -1.0, 1.0]) == -np.inf  # non-negative at the first cell
  assert central.crossing([0.2, 0.5]) == -np.inf
  assert central.crossing([-2.0, -1.0, -0.1]) == np.inf  # never non-negative
  # Only the first upward change counts.
  assert central.crossing([-1.0, 1.0, -1.0, 1.0]) == pytest.approx(0.5)
  # A cell without valid nets is skipped: interpolation between its neighbours.
  assert central.crossing([-1.0, np.nan, np.nan, 2.0]) == pytest.approx(1.0)
  assert central.crossing([np.nan, 0.5, 1.0]) == -np.inf
  assert np.isnan(central.crossing([np.nan, np.nan]))
  # Vectorised over leading axes.
  rows = np.array([[-1.0, -0.5, 0.5, 1.0], [0.1, 0.2, 0.3, 0.4], [-1.0, -1.0, -1.0, -1.0]])
  np.testing.assert_array_equal(central.crossing(rows), [1.5, -np.inf, np.inf])


def test_peak_parabola_vertex_against_hand_computation():
  # Through (0, 0.80), (1, 0.90), (2, 0.86): vertex at 1 + 0.06 / 0.28.
  p, censored = central.peak([0.80, 0.90, 0.86, 0.50])
  assert p == pytest.approx(1.0 + 0.06 / 0.28, abs=1e-12) and not censored
  # A tie with the right neighbour: the vertex lies half-way, the clip's edge.
  p, censored = central.peak([0.5, 0.9, 0.9, 0.5])
  assert p == pytest.approx(1.5) and not censored
  # Equal neighbours: the vertex is the argmax itself.
  assert central.peak([0.5, 0.9, 0.5])[0] == pytest.approx(1.0)
  # A quadratic's vertex is recovered exactly.
  steps = np.arange(8.0)
  assert central.peak(-((steps - 3.3) ** 2))[0] == pytest.approx(3.3)
  assert central.peak(-((steps - 4.7) ** 2))[0] == pytest.approx(4.7)


def test_peak_at_an_end_or_beside_an_empty_cell_is_censored():
  p, censored = central.peak([0.9, 0.8, 0.7])
  assert p == 0 and censored
  p, censored = central.peak([0.5, 0.8, 0.95])
  assert p == 2 and censored
  p, censored = central.peak([0.5, 0.95, np.nan, 0.4])
  assert p == 1 and censored
  p, censored = central.peak(np.array([[0.5, 0.9, 0.6], [0.9, 0.5, 0.4]]))
  np.testing.assert_array_equal(censored, [False, True])


def test_diverged_nets_are_left_out_and_counted():
  grid = planted_grid([3.0, 4.0], [3.0, 4.0], noise=0.0)
  clean = central.row_positions(grid)
  # Garbage at the far cells, as a frozen diverged net leaves it.
  grid.accuracy[0, 8, 0], grid.curvature[0, 0, 0] = 5.0, 1e6
  grid.diverged[0, 8, 0] = grid.diverged[0, 0, 0] = True
  kept = central.row_positions(grid)
  np.testing.assert_allclose(kept["c"], clean["c"])
  np.testing.assert_allclose(kept["p"], clean["p"])
  out = central.analyse({"g": grid}, num_boot=50, secondary_boot=20)
  assert out["families"]["g"]["diverged"]["total"] == 2
  assert out["families"]["g"]["rows"][0]["diverged"] == 2
  assert out["families"]["g"]["curves"]["accuracy"]["n"][0, 8] == grid.num_seeds - 1
  # Unflagged, the garbage would move both positions.
  grid.diverged[:] = False
  moved = central.row_positions(grid)
  assert moved["c"][0] == -np.inf and abs(moved["p"][0] - 8) <= 0.5


# --- The bootstrap -------------------------------------------------------------


def test_cell_means_weighted_by_drawn_seeds():
  rng = np.random.default_rng(1)
  values = rng.normal(size=(2, 3, 4))
  values[1, 2, 0] = np.nan  # a diverged net
  index = np.array([[0, 0, 3, 2], [1, 1, 1, 1]])
  weights = central.seed_weights(index, 4)
  np.testing.assert_array_equal(weights, [[2, 0, 1, 1], [0, 4, 0, 0]])
  means = central.cell_means(values, weights)
  expected = values[..., [0, 0, 3, 2]].mean(-1)
  expected[1, 2] = values[1, 2, [3, 2]].mean()  # the diverged seed 0 left out
  np.testing.assert_allclose(means[0], expected)
  np.testing.assert_allclose(means[1], values[..., 1])


def test_bootstrap_shares_seed_indices_across_cells():
  # Each seed shifts its whole row's accuracy by a large amount. Resampled
  # with the same seeds in every cell the shift is common to the cells and
  # the peak never moves; cells resampled independently would scatter it.
  rng = np.random.default_rng(2)
  steps = np.arange(9)[None, :, None]
  seed_effect = 0.2 * rng.normal(size=(1, 1, 10))
  accuracy = 0.9 - 0.01 * (steps - np.array([3.3, 5.6])[:, None, None]) ** 2 + seed_effect
  curvature = 0.3 * (steps - 4.0) + 0.1 * rng.normal(size=(2, 9, 10))
  out = central.analyse({"g": central.Grid(curvature, accuracy)}, num_boot=400, secondary_boot=20)
  for row, planted in zip(out["families"]["g"]["rows"], (3.3, 5.6)):
    assert row["p"] == pytest.approx(planted)
    assert row["p_ci"] == pytest.approx([planted, planted])
    assert row["c_ci"][1] > row["c_ci"][0]  # seed noise of the curvature does move c
  # The draws really resample (not the identity): a per-cell bootstrap of the
  # same data, built by hand from independent draws per cell, scatters the peak.
  index = rng.integers(0, 10, size=(400, 2, 9, 10))
  independent = np.take_along_axis(np.broadcast_to(accuracy, (400, 2, 9, 10)), index, -1)
  peaks, _ = central.peak(independent.mean(-1))
  assert np.ptp(peaks[:, 0]) > 0.5


def test_draw_groups_share_one_seed_draw_between_families():
  grid = planted_grid([2.5, 4.5, 6.5], [2.0, 4.0, 6.0], noise=0.3, seed=4)
  twin = central.Grid(grid.curvature, grid.accuracy, name="b")
  ci = lambda out, name: [r["c_ci"] for r in out["families"][name]["rows"]]
  own = central.analyse({"a": grid, "b": twin}, num_boot=200, secondary_boot=20)
  assert ci(own, "a") != ci(own, "b")  # each family its own draw
  joint = central.analyse(
      {"a": grid, "b": twin}, num_boot=200, secondary_boot=20, draw_groups={"a": "z", "b": "z"}
  )
  assert ci(joint, "a") == ci(joint, "b")
  # Point estimates and the permutation test do not resample seeds.
  for key in ("mean_offset", "beta"):
    assert joint["pooled"]["statistics"][key]["value"] == own["pooled"]["statistics"][key]["value"]
  assert joint["pooled"]["statistics"]["link"] == own["pooled"]["statistics"]["link"]
  with pytest.raises(ValueError, match="not analysed"):
    central.analyse({"a": grid}, num_boot=10, draw_groups={"c": "z"})
  fewer = planted_grid([2.5, 4.5, 6.5], [2.0, 4.0, 6.0], num_seeds=5, name="b")
  with pytest.raises(ValueError, match="same number"):
    central.analyse({"a": grid, "b": fewer}, num_boot=10, draw_groups={"a": "z", "b": "z"})


def test_bootstrap_is_reproducible_and_seeded_per_family():
  sources = families(lambda c, rng: c + rng.normal(0.0, 0.2, c.size), num_families=2)
  a = central.analyse(sources, num_boot=100, secondary_boot=20)
  b = central.analyse(sources, num_boot=100, secondary_boot=20)
  c = central.analyse(sources, num_boot=100, boot_seed=1, secondary_boot=20)
  ci = lambda out: out["pooled"]["statistics"]["mean_offset"]["ci"]
  assert ci(a) == ci(b) and ci(a) != ci(c)


# --- Statistics ------------------------------------------------------------------


def test_statistics_on_known_positions():
  c = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 5.0])
  p = np.array([1.5, 2.5, 3.5, 1.0, 3.0, 5.0, 0.0])
  cens = np.array([False] * 6 + [True])  # the last row: peak at an end
  family = np.array([0, 0, 0, 1, 1, 1, 1])
  s = central.statistics(c, p, cens, family)
  assert s["num_uncensored"] == 6
  assert s["mean_offset"] == pytest.approx((0.5 * 3 - 1.0 * 3) / 6)
  assert s["beta"] == pytest.approx(1.0)  # within family, p = c + constant
  assert s["link_T"] == pytest.approx(0.75)
  # Leave-one-out medians: family 0 -> 3.0, 2.5, 2.0; family 1 -> 4.0, 3.0, 2.0.
  baseline = np.abs(p[:6] - np.array([3.0, 2.5, 2.0, 4.0, 3.0, 2.0])).mean()
  assert s["mae_baseline"] == pytest.approx(baseline)
  assert s["mae_difference"] == pytest.approx(baseline - 0.75)
  # Censoring by the crossing.
  s = central.statistics(np.array([-np.inf, 1.0, np.inf]), np.ones(3), np.zeros(3, bool))
  assert s["num_uncensored"] == 1 and np.isnan(s["beta"])


def test_link_test_p_value_matches_brute_force():
  rng = np.random.default_rng(3)
  c = rng.uniform(0, 8, 7)
  p = c + rng.normal(0, 1.0, 7)
  cens = np.array([False, False, False, True, False, False, False])  # row 3 drops out
  family = np.array([0, 0, 0, 0, 1, 1, 1])
  keep = ~cens
  ck, pk, fk = c[keep], p[keep], family[keep]
  t = np.mean(np.abs(pk - ck))
  members = [np.flatnonzero(fk == f) for f in (0, 1)]
  below = []
  for order0 in itertools.permutations(members[0]):
    for order1 in itertools.permutations(members[1]):
      permuted = ck.copy()
      permuted[members[0]], permuted[members[1]] = ck[list(order0)], ck[list(order1)]
      below.append(np.mean(np.abs(pk - permuted)) <= t)
  link = central.link_test(c, p, cens, family)
  assert link["exhaustive"] and link["num_permutations"] == 36 and link["num_rows"] == 6
  assert link["T"] == pytest.approx(t)
  assert link["p_value"] == pytest.approx(np.mean(below))
  # Beyond num_perm: random permutations estimate the same p-value.
  sampled = central.link_test(c, p, cens, family, np.random.default_rng(0), num_perm=30)
  assert not sampled["exhaustive"] and sampled["num_permutations"] == 30
  many = central.link_test(c, p, cens, family, np.random.default_rng(0), num_perm=35)
  assert many["num_permutations"] == 35
  assert abs(many["p_value"] - np.mean(below)) < 0.2


def test_link_test_ignores_rows_across_families():
  # Two families whose crossings differ by 10 steps: permuting across
  # families would make every permutation look bad; within family, the
  # perfectly linked rows are the best of 2 x 2 permutations.
  c = np.array([1.0, 2.0, 11.0, 12.0])
  link = central.link_test(c, c.copy(), np.zeros(4, bool), np.array([0, 0, 1, 1]))
  assert link["num_permutations"] == 4 and link["p_value"] == pytest.approx(0.25)


# --- The decision rule -------------------------------------------------------------


def test_peak_at_the_crossing_is_supported():
  out, v = pooled_verdict(families(lambda c, rng: c + rng.normal(0.0, 0.1, c.size)))
  s = out["pooled"]["statistics"]
  assert v["verdict"] == "supported", v
  assert s["num_uncensored"] == 18
  assert -0.3 < s["mean_offset"]["ci"][0] < s["mean_offset"]["ci"][1] < 0.3
  assert s["beta"]["ci"][0] > 0.8 and s["link"]["p_value"] < 0.01
  assert not s["link"]["exhaustive"]  # 720^3 joint permutations: random ones
  assert s["mae_difference"]["ci"][0] > 0  # the crossing beats the range-only baseline
  # The secondary reading is computed per family and pooled.
  assert out["pooled"]["secondary"]["num_cells"] == 3 * 6 * 10
  for name in ("f0", "f1", "f2"):
    fam = out["families"][name]["statistics"]
    assert fam["num_uncensored"] == 6 and fam["link"]["exhaustive"]


def test_peak_independent_of_the_crossing_is_refuted():
  out, v = pooled_verdict(families(lambda c, rng: 4.0 + rng.normal(0.0, 0.3, c.size)))
  s = out["pooled"]["statistics"]
  assert v["verdict"] == "refuted", v
  assert s["beta"]["ci"][1] < 0.5 and s["link"]["p_value"] >= 0.05
  assert v["conditions"]["beta_ci_below_0.5"] and v["conditions"]["link_p_at_least_0.05"]


def test_peak_far_from_the_crossing_is_refuted():
  sources = families(lambda c, rng: c + 3.0 + rng.normal(0.0, 0.1, c.size), spread=(1.4, 4.6))
  out, v = pooled_verdict(sources)
  s = out["pooled"]["statistics"]
  assert v["verdict"] == "refuted", v
  assert v["conditions"]["offset_ci_outside_margin"]
  assert s["mean_offset"]["ci"][0] > 1.0


def test_few_rows_are_inconclusive():
  # Two families of two rows: the link test can reach no p below 1/4.
  sources = {
      "a": planted_grid([2.0, 5.5], [2.0, 5.5], name="a"),
      "b": planted_grid([3.0, 6.5], [3.0, 6.5], name="b"),
  }
  out, v = pooled_verdict(sources)
  assert out["pooled"]["statistics"]["num_uncensored"] == 4
  assert v["verdict"] == "inconclusive", v
  assert v["conditions"]["fewer_than_12_rows"]
  assert v["failed"] == ["link_p_below_0.05"]


def test_decision_rule_cases():
  assert central.verdict([-0.5, 0.5], [0.7, 1.3], 0.01, 20)["verdict"] == "supported"
  assert central.verdict([1.2, 1.8], [0.7, 1.3], 0.01, 20)["verdict"] == "refuted"
  assert central.verdict([-0.5, 0.5], [-0.2, 0.4], 0.30, 20)["verdict"] == "refuted"
  # beta below 0.5 alone does not refute while the link test is significant.
  v = central.verdict([-0.5, 0.5], [-0.2, 0.4], 0.01, 20)
  assert v["verdict"] == "mixed" and v["failed"] == ["beta_ci_above_0"]
  v = central.verdict([-1.5, 0.9], [0.2, 1.3], 0.01, 20)
  assert v["verdict"] == "inconclusive" and v["failed"] == ["offset_ci_inside_margin"]
  v = central.verdict([-0.5, 1.2], [0.2, 1.3], 0.01, 20)
  assert v["verdict"] == "mixed" and v["failed"] == ["offset_ci_inside_margin"]
  # The rule is read in its order: all three conditions of support decide
  # before the row count does (experiments/central_claim/README.md lists them first).
  v = central.verdict([-0.5, 0.5], [0.7, 1.3], 0.01, 6)
  assert v["verdict"] == "supported" and v["conditions"]["fewer_than_12_rows"]
  assert central.verdict([math.nan] * 2, [math.nan] * 2, math.nan, 0)["verdict"] == "inconclusive"


# --- A finished sweep and the report -----------------------------------------------------


def fake_family(workdir, config_file, seed, offset=0.0):
  """A merged result on the family's full grid, as the sweep leaves it, with planted positions.

  Crossing of the row by value ``i`` (ascending alpha / depth / width) at a
  step spread over the row, in noise order (batch size descending); the
  peak ``offset`` steps later. No training: the arrays are written directly.
  """
  config = sweep.load_config(os.path.join(REPO, "experiments", config_file))
  grid = grid_lib.Grid.from_config(config)
  names, x, y = grid.names, config.plot.x, config.plot.y
  position = dict(zip(names, np.indices(grid.shape)))
  nx, ny = grid.shape[names.index(x)], grid.shape[names.index(y)]
  step = position[x] if x != "batch_size" else nx - 1 - position[x]
  c = 1.4 + (nx - 4.0) * position[y] / max(ny - 1, 1)
  rng = np.random.default_rng(seed)
  curvature = 0.3 * (step - c) + 0.02 * rng.normal(size=grid.shape)
  accuracy = 0.9 - 0.01 * (step - c - offset) ** 2 + 0.001 * rng.normal(size=grid.shape)
  diverged = np.zeros(grid.shape, bool)
  diverged.flat[seed % diverged.size] = True
  arrays = {"curvature": curvature, "accuracy": accuracy, "diverged": diverged}
  arrays.update({f"axis/{axis.name}": axis.values for axis in grid.axes})
  results.save(
      os.path.join(workdir, "results"),
      arrays,
      {"config": results.config_to_dict(config), "grid_names": list(names)},
  )
  return c


def test_analysis_of_a_finished_sweep_reads_cells_in_noise_order(tmp_path):
  from featurespring.analysis import finished  # pylint: disable=g-import-not-at-top

  fake_family(str(tmp_path / "fig1d"), "fig1d_batch_size.py", seed=4)
  grid = central.grid_from_sweep(finished.FinishedSweep.load(str(tmp_path / "fig1d")))
  assert list(grid.cells) == [2560, 1280, 640, 320, 160, 80, 40, 20, 10, 5]
  np.testing.assert_allclose(grid.rows, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
  positions = central.row_positions(grid)
  np.testing.assert_allclose(positions["c"], 1.4 + 6.0 * np.arange(6) / 5, atol=0.05)
  np.testing.assert_allclose(positions["p"], positions["c"], atol=0.1)
  # A lower-is-better score (a regression's rmse) is negated: its peak is the best cell.
  sweep_view = finished.FinishedSweep.load(str(tmp_path / "fig1d"))
  flipped = central.grid_from_sweep(sweep_view, score="accuracy", higher_is_better=False)
  np.testing.assert_array_equal(flipped.accuracy, -grid.accuracy)


@pytest.fixture(scope="module")
def report_runs(tmp_path_factory):
  runs = tmp_path_factory.mktemp("runs")
  for k, name in enumerate(("s5", "s6")):
    fake_family(str(runs / name), report.FAMILIES[name][1], seed=k)
  os.makedirs(runs / "fig1c" / "checkpoints")  # started, not merged
  (runs / "runtimes.tsv").write_text("s5\t100\t2026-11-30T00:00:00Z\ns6\t40\tx\ns5\t20\tx\ns6\t")
  doc = tmp_path_factory.mktemp("docs") / "central_claim.md"
  with open(os.path.join(REPO, "experiments", "central_claim", "README.md")) as f:
    plan = f.read()
  if report.BEGIN in plan:
    plan = plan[: plan.index(report.BEGIN)]
  doc.write_text(plan)
  return runs, doc, plan


def test_report_partial_then_complete(report_runs, tmp_path):
  runs, doc, plan = report_runs
  figures = tmp_path / "figures"
  kwargs = dict(num_boot=100, num_perm=2000, dpi=40)
  out, status = report.write_report(str(runs), str(doc), str(figures), **kwargs)
  assert status["s5"] == status["s6"] == "ok" and status["fig1a"] == "not started"
  assert status["fig1c"].startswith("not finished")
  text = doc.read_text()
  assert text.startswith(plan) and text.count(report.BEGIN) == 1 and text.count(report.END) == 1
  block = text[text.index(report.BEGIN) :]
  assert "Partial result: 2 of 6 families" in block
  assert "pending: families fig1a, fig1b, fig1c, fig1d not finished" in block
  assert "Verdict:" not in block  # no pooled verdict
  assert "| 120 s (0.03 h, 2 invocations) |" in block  # s5's two invocations summed
  assert "40 s (0.01 h, 1 invocation)" in block  # s6's cut-off line skipped
  assert "- Fig. 1(c) (`fig1c`) skipped: not finished" in block
  # Planted: peak at the crossing on every row; both families read it.
  for name in ("s5", "s6"):
    rows = out["families"][name]["rows"]
    assert len(rows) == 4 and all(r["uncensored"] for r in rows)
    assert out["families"][name]["statistics"]["verdict"]["conditions"]["beta_ci_above_0"]
    for suffix in (".png", ".pdf"):
      assert os.path.getsize(figures / f"rows_{name}{suffix}") > 1000
  assert os.path.getsize(figures / "peak_vs_crossing.png") > 1000
  written = results.read_json(str(figures / "central.json"))
  assert written["pooled"] is None and written["families"]["s5"]["rows"][0]["c"] > 1.0
  assert written["pooled_joint_draws"] is None

  # All six: the block is rewritten in place, the plan above it untouched.
  for k, name in enumerate(("fig1a", "fig1b", "fig1c", "fig1d")):
    fake_family(str(runs / name), report.FAMILIES[name][1], seed=10 + k)
  out, status = report.write_report(str(runs), str(doc), str(figures), **kwargs)
  text = doc.read_text()
  assert text.startswith(plan) and text.count(report.BEGIN) == 1
  block = text[text.index(report.BEGIN) :]
  assert "Partial" not in block and "pending" not in block.lower()
  assert out["pooled"]["statistics"]["verdict"]["verdict"] == "supported"
  assert "- Verdict: **supported**" in block
  assert out["pooled"]["statistics"]["num_uncensored"] == 6 * 4 + 4 * 2
  written = results.read_json(str(figures / "central.json"))
  assert written["pooled"] is not None
  # The sensitivity reading: Fig. 1(a), (c), (d) resampled with one seed draw.
  joint = written["pooled_joint_draws"]
  assert joint["mean_offset"]["value"] == pytest.approx(
      written["pooled"]["statistics"]["mean_offset"]["value"]
  )
  assert joint["mean_offset"]["ci"] != written["pooled"]["statistics"]["mean_offset"]["ci"]
  assert f"would read **{joint['verdict']['verdict']}**" in doc.read_text()
  # The shared zero-noise column, compared seed by seed with Fig. 1(a)'s.
  shared = written["shared_zero_noise"]
  assert list(shared) == ["fig1a", "fig1c", "fig1d"]
  assert shared["fig1c"]["accuracy_vs_first"]["num_nets"] == 6 * 10


def test_a_p_value_below_the_permutation_resolution_is_a_bound():
  from experiments.central_claim import formatting  # pylint: disable=g-import-not-at-top

  assert formatting.p_value(0.0, 10_000) == "p < 1e-4"
  assert formatting.p_value(0.0, 24) == "p < 4e-2"
  assert formatting.p_value(0.0333, 720, ".3f") == "p = 0.033"
  assert formatting.p_value(None, 24) == "p = -"

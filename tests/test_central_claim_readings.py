"""Readings of the first test beside its signed mean (experiments/central_claim/readings.py)."""

import json
import math

import numpy as np
import pytest

from experiments.central_claim import readings


def test_the_readme_block_is_current():
  with open(readings.NUMBERS, encoding="utf-8") as f:
    numbers = json.load(f)
  block = readings.block(numbers, readings.nearest_linear_losses())
  with open(readings.README, encoding="utf-8") as f:
    assert f"{readings.BEGIN}\n{block}{readings.END}" in f.read()


@pytest.mark.parametrize(
    "c, p, p_censored, bounds",
    [
        (-math.inf, 5.0, False, (5.0, math.inf)),  # convex everywhere, peak inside
        (math.inf, 4.0, False, (-math.inf, 4.0 - 15)),  # never linear on the grid
        (-math.inf, 0.0, True, (-math.inf, math.inf)),  # both at the left end
        (3.0, 0.0, True, (-math.inf, -3.0)),  # the peak may lie left of the grid
        (3.0, 15.0, True, (12.0, math.inf)),
        (3.0, 7.0, True, (-math.inf, math.inf)),  # beside a cell without a valid net
    ],
)
def test_censored_rows_become_bounds_on_the_offset(c, p, p_censored, bounds):
  assert readings.offset_bounds(c, p, p_censored, last=15) == bounds


def test_accuracy_lost_reads_the_crossing_between_cells_and_at_the_ends():
  acc = [0.80, 0.90, 0.85, None]
  assert readings.accuracy_lost(acc, 1.0) == pytest.approx(0.0)
  assert readings.accuracy_lost(acc, 1.5) == pytest.approx(2.5)
  assert readings.accuracy_lost(acc, -math.inf) == pytest.approx(10.0)
  assert readings.accuracy_lost(acc, math.inf) == pytest.approx(5.0)  # the last finite cell
  assert math.isnan(readings.accuracy_lost(acc, math.nan))


def test_nearest_linear_losses_read_the_decided_rows_of_the_control_table(tmp_path):
  doc = tmp_path / "README.md"
  doc.write_text(
      "### fashion_mnist: text\n\n| alpha | (b) best val | (c) nearest linear | row |\n"
      "| --- | --- | --- | --- |\n| 0 | 82.30 [81.65, 82.95] | 77.74 [76.80, 78.67] | clear_fail |\n"
      "| 0.8 | 81.04 [80.47, 81.61] | 78.70 [78.46, 78.93] | not_decided |\n\n"
      "Baselines at the controller's compute:\n\n| alpha | (e) default rate | row by interval |\n"
      "| --- | --- | --- |\n| 0 | 82.34 [81.98, 82.70] | clear_fail |\n\n**Verdict: x**\n"
  )
  assert readings.nearest_linear_losses(str(doc)) == pytest.approx([4.56])


def test_zero_noise_agreement_compares_the_shared_column_seed_by_seed():
  from experiments.central_claim import central  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  curvature = rng.normal(size=(2, 3, 4))
  accuracy = rng.uniform(0.8, 0.9, size=(2, 3, 4))
  other = accuracy.copy()
  other[:, 0] += 0.01  # every zero-noise net one point away ...
  other[0, 0, 0] = accuracy[0, 0, 0]  # ... but one equal
  other[:, 1:] = 0.5  # the noisy cells do not count
  diverged = np.zeros((2, 3, 4), bool)
  diverged[1, 0, 3] = True  # a diverged net is left out
  grids = {
      "a": central.Grid(curvature, accuracy),
      "b": central.Grid(curvature, other, diverged),
      "c": central.Grid(curvature, accuracy),
  }
  shared = readings.zero_noise_agreement(grids, {"a": {"x"}, "b": {"x"}, "c": {"y"}})
  assert shared["a"]["accuracy_vs_first"] is None and shared["a"]["same_data"]
  b = shared["b"]["accuracy_vs_first"]
  assert b["num_nets"] == 7 and b["num_equal"] == 1
  assert b["max_abs"] == pytest.approx(1.0) and b["mean_abs"] == pytest.approx(6 / 7)
  assert shared["b"]["same_data"] and not shared["c"]["same_data"]
  assert shared["c"]["accuracy_vs_first"]["max_abs"] == 0.0
  text = readings._shared_text(shared, {"a": "A", "b": "B", "c": "C"})  # pylint: disable=protected-access
  assert "B's, trained on the same preprocessed data, by 0.86 points" in text
  assert "C's, trained on other preprocessed data (digest y against x" in text
  assert "C's, on other data, is on average no farther from A's than B's" in text
  with pytest.raises(ValueError, match="rows"):
    readings.zero_noise_agreement(
        {"a": grids["a"], "b": central.Grid(curvature, accuracy, rows=np.array([5, 6]))}, {}
    )
  # No recorded digest: the data is not called the same; no valid pair: nothing compared.
  unknown = readings.zero_noise_agreement(
      {"a": grids["a"], "b": central.Grid(curvature, accuracy, np.ones((2, 3, 4), bool))}, {}
  )
  assert unknown["b"]["same_data"] is None and unknown["b"]["accuracy_vs_first"]["num_nets"] == 0
  assert "They did not end identical" not in readings._shared_text(unknown, {})  # pylint: disable=protected-access
  # The zero-noise column is the first cell: knob 0, or a full batch for a batch size.
  batch = central.Grid(
      curvature,
      accuracy,
      cells=np.array([2560, 640, 10]),
      x="batch_size",
      config={"dnn": {"num_train": 2560}},
  )
  readings.zero_noise_agreement({"a": grids["a"], "d": batch}, {})
  batch.cells = np.array([640, 2560, 10])
  with pytest.raises(ValueError, match="not the net without noise"):
    readings.zero_noise_agreement({"a": grids["a"], "d": batch}, {})

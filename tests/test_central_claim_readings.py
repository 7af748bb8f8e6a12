"""Readings of the first test beside its signed mean (experiments/central_claim/readings.py)."""

import json
import math

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

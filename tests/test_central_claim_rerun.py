"""The first test's first runs against its rerun (experiments/central_claim/rerun.py)."""

import copy
import json

import pytest

from experiments.central_claim import rerun


def _stat(value, low, high):
  return {"value": value, "ci": [low, high]}


def _row(row, c, c_ci, p, p_ci):
  return {"row": row, "c": c, "c_ci": c_ci, "p": p, "p_ci": p_ci}


def _numbers(verdict, rows):
  statistics = {
      "verdict": {"verdict": verdict},
      "mean_offset": _stat(-0.5, -0.9, -0.1),
      "beta": _stat(0.7, 0.5, 0.9),
      "mae_difference": _stat(0.1, -0.2, 0.3),
  }
  family = {
      "info": {"label": "Fig. X", "rows": "alpha"},
      "cells": [0.0, 0.1, 0.2, 0.3, 0.4],
      "rows": rows,
      "statistics": statistics,
  }
  return {"families": {"figx": family}, "pooled": {"statistics": statistics}}


@pytest.mark.parametrize(
    "first, ci, rerun_point, expected",
    [
        (2.0, [1.5, 2.5], 2.4, False),
        (2.0, [1.5, 2.5], 2.6, True),
        (2.0, [1.5, 2.5], 1.5, False),  # on the bound counts as inside
        ("-inf", ["-inf", 0.3], "-inf", False),  # censored on the same side
        ("-inf", ["-inf", 0.3], 0.2, False),  # inside a half-censored interval
        ("-inf", ["-inf", 0.3], 0.4, True),
        (3.0, [2.0, "inf"], "-inf", True),  # became censored on the other side
        ("inf", [4.0, "inf"], "inf", False),
        (5.5, [5.0, "inf"], "inf", False),  # censored inside a half-censored interval
        ("inf", [5.0, "inf"], 5.5, False),  # and the other way round
        (0.03, ["-inf", 0.05], "-inf", False),
        (2.0, [1.5, 2.5], None, True),  # lost its position
        (None, [None, None], 1.0, True),  # gained one
        (None, [None, None], None, False),
    ],
)
def test_a_position_moves_when_the_rerun_leaves_the_first_interval(
    first, ci, rerun_point, expected
):
  assert rerun.moved(first, ci, rerun_point) is expected


def test_the_comparison_names_changed_verdicts_and_moved_positions():
  first = _numbers(
      "supported",
      [_row(0.0, 3.0, [2.5, 3.5], 2.0, [1.8, 2.2]), _row(0.5, "-inf", ["-inf", 0.1], 0.0, [0, 0])],
  )
  second = copy.deepcopy(first)
  second["families"]["figx"]["statistics"] = copy.deepcopy(first["pooled"]["statistics"])
  second["families"]["figx"]["statistics"]["verdict"] = {"verdict": "inconclusive"}
  moved_peak = second["families"]["figx"]["rows"][0]
  # The rerun's own interval contains its point: only the first runs' may judge it.
  moved_peak["p"], moved_peak["p_ci"] = 2.9, [2.6, 3.2]
  second["families"]["figx"]["rows"][1]["c"] = 0.4  # a crossing that came into the grid
  out = rerun.compare(first, second)
  fam = out["families"]["figx"]
  assert fam["verdict"] == ("supported", "inconclusive")
  assert fam["moves"] == [
      {"row": 0.0, "position": "p", "first": 2.0, "rerun": 2.9},
      {"row": 0.5, "position": "c", "first": "-inf", "rerun": 0.4},
  ]
  assert out["pooled"]["verdict"] == ("supported", "supported")
  text = rerun.block(first, second)
  assert "2 of 4 crossings and peaks moved" in text
  assert "Fig. X alpha 0 peak 2.00 → 2.90; Fig. X alpha 0.5 crossing <0 → 0.40." in text
  assert "0 of 1 the same; changed: Fig. X." in text
  assert "| Fig. X | supported → inconclusive (changed) |" in text


def test_runs_with_different_rows_are_refused():
  first = _numbers("supported", [_row(0.0, 3.0, [2.5, 3.5], 2.0, [1.8, 2.2])])
  second = copy.deepcopy(first)
  second["families"]["figx"]["rows"][0]["row"] = 0.2
  with pytest.raises(ValueError, match="different rows"):
    rerun.compare(first, second)


def test_the_readme_block_is_current():
  with open(rerun.FIRST_RUNS, encoding="utf-8") as f:
    first = json.load(f)
  with open(rerun.RERUN, encoding="utf-8") as f:
    second = json.load(f)
  with open(rerun.README, encoding="utf-8") as f:
    assert f"{rerun.BEGIN}\n{rerun.block(first, second)}{rerun.END}" in f.read()

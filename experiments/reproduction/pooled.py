"""The central check pooled over grids: |curvature| against test accuracy.

Every cell of every classification grid enters one correlation
(:func:`stats.curvature_accuracy_correlation`), raw and centred within each
grid's row (one alpha, depth or width), once per curvature kind the grids
all record. Grids with fewer seeds are padded with NaN, which the bootstrap
ignores.
"""

from __future__ import annotations

import numpy as np

from featurespring.analysis import phase
from featurespring.analysis import stats


def _pad_seeds(arrays, num_seeds):
  return [
      np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, num_seeds - a.shape[-1])], constant_values=np.nan)
      for a in arrays
  ]


def pooled_correlations(sweeps, analyses, num_boot, boot_seed):
  """|curvature| vs test accuracy per grid and pooled over every grid.

  Args:
    sweeps: ``{name: FinishedSweep}`` of classification grids.
    analyses: ``{name: analyse_phase_grid(...)}`` of the same grids.
    num_boot: bootstrap resamples per correlation.
    boot_seed: seed of the bootstrap generators (labels ``all/<curvature key>``).

  Returns:
    ``(numbers, scatter)``: ``numbers`` holds ``per_grid`` (each grid's own
    pooled correlations and :func:`stats.correlation_summary` of its rows)
    and ``pooled[_<key>][_row_centred]``; ``None`` without grids.
    ``scatter``: ``{name: (curvature, accuracy, row)}``, ``[cells, seeds]``
    per-net values and each cell's row, for the scatter figure.
  """
  per_grid, pooled = {}, {}
  for name, sweep in sweeps.items():
    a = analyses[name]
    per_grid[name] = {
        "pooled": a["correlation_pooled"],
        "pooled_row_centred": a["correlation_pooled_row_centred"],
        "rows": stats.correlation_summary([r["correlation"] for r in a["rows"]]),
    }
    ny, nx = a["curvature"]["mean"].shape
    rows = np.broadcast_to(np.arange(ny)[:, None], (ny, nx)).reshape(-1)
    pooled[name] = {
        key: sweep.masked_cells(key, by_value=True).reshape(ny * nx, -1)
        for key in ("accuracy",) + phase.CURVATURE_KEYS
        if key in sweep.arrays
    }
    pooled[name]["rows"] = rows
  out = {"per_grid": per_grid}
  if not pooled:
    return None, {}
  num_seeds = max(p["accuracy"].shape[-1] for p in pooled.values())
  # Group labels: one per (grid, row), so centring acts within a grid's row.
  groups = np.concatenate([k * 10_000 + p["rows"] for k, p in enumerate(pooled.values())])
  for key in phase.CURVATURE_KEYS:
    if not all(key in p for p in pooled.values()):
      continue
    curv = np.concatenate(_pad_seeds([p[key] for p in pooled.values()], num_seeds))
    acc = np.concatenate(_pad_seeds([p["accuracy"] for p in pooled.values()], num_seeds))
    suffix = "" if key == "curvature" else "_" + key
    out["pooled" + suffix] = stats.curvature_accuracy_correlation(
        curv, acc, stats.bootstrap_rng(boot_seed, f"all/{key}"), num_boot
    )
    out["pooled" + suffix + "_row_centred"] = stats.curvature_accuracy_correlation(
        curv, acc, stats.bootstrap_rng(boot_seed, f"all/{key}/centred"), num_boot, groups=groups
    )
  scatter = {n: (p["curvature"], p["accuracy"], p["rows"]) for n, p in pooled.items()}
  return out, scatter

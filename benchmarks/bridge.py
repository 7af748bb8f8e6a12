r"""Cells per second of ``bridge.fit_shape`` against a plain NumPy per-cell loop.

Grid: 6 x 16 x 10 = 960 load curves of L = 7 blocks (8 layers): closed-form
chain curves over a range of signed frictions, through random affine maps,
plus noise. Baseline, measured in the same run on the same grid:
``numpy_loop``, what one writes without thinking of the grid: for each cell,
``np.linalg.lstsq`` on the ``[L+1, 3]`` design matrix in float64 and the same
validity checks. Both sides report the best of ``--repeats`` timings
(compilation excluded for JAX, reported separately), and the largest
friction difference between them checks they compute the same fit.

Prints one JSON object. Usage:

  python benchmarks/bridge.py [--num_blocks=7] [--repeats=5]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import numpy as np

from featurespring import bridge
from featurespring import springs

GRID = (6, 16, 10)


def make_curves(num_blocks, seed=0):
  rng = np.random.default_rng(seed)
  upper = 2.0 / (num_blocks * (num_blocks + 1))
  lower = -2.0 / ((num_blocks + 1) * max(num_blocks - 2, 1))
  mu = rng.uniform(lower, upper, GRID)
  curves = springs.equilibrium_load_curve(num_blocks, 1.0, 1.0, mu)
  curves = rng.uniform(0.5, 3.0, GRID + (1,)) * curves + rng.uniform(-2.0, 2.0, GRID + (1,))
  return (curves + rng.normal(0.0, 0.01, curves.shape)).astype(np.float32)


def numpy_loop(curves, flat_tol=bridge.FLAT_TOL, monotone_tol=bridge.MONOTONE_TOL):
  """Per-cell float64 least squares and checks; returns the frictions (NaN if invalid)."""
  flat = curves.reshape(-1, curves.shape[-1]).astype(np.float64)
  basis = bridge.shape_basis(flat.shape[-1])
  out = np.full(flat.shape[0], np.nan)
  for i, curve in enumerate(flat):
    drop = curve[0] - curve[-1]
    if not np.all(np.isfinite(curve)) or abs(drop) <= flat_tol or drop < 0:
      continue
    if np.any(np.diff(curve) > monotone_tol * drop):
      continue
    (_, scale, c), *_ = np.linalg.lstsq(basis, curve, rcond=None)
    if scale > 0:
      out[i] = c / scale
  return out.reshape(curves.shape[:-1])


def best_seconds(fn, repeats):
  best = np.inf
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--num_blocks", type=int, default=7)
  parser.add_argument("--repeats", type=int, default=5)
  args = parser.parse_args()

  curves = make_curves(args.num_blocks)
  device_curves = jax.device_put(curves)
  cells = int(np.prod(curves.shape[:-1]))

  start = time.perf_counter()
  fit = jax.block_until_ready(bridge.fit_shape(device_curves))
  first_call = time.perf_counter() - start
  jax_seconds = best_seconds(
      lambda: jax.block_until_ready(bridge.fit_shape(device_curves)), args.repeats
  )
  loop_seconds = best_seconds(lambda: numpy_loop(curves), args.repeats)
  reference = numpy_loop(curves)
  mu_range = 2.0 / (args.num_blocks * (args.num_blocks + 1))
  print(
      json.dumps(
          {
              "benchmark": "bridge.fit_shape",
              "grid": list(curves.shape),
              "cells": cells,
              "backend": jax.default_backend(),
              "machine": platform.processor() or platform.machine(),
              "jax": {
                  "seconds": jax_seconds,
                  "cells_per_s": cells / jax_seconds,
                  "first_call_seconds_with_compile": first_call,
              },
              "numpy_loop": {"seconds": loop_seconds, "cells_per_s": cells / loop_seconds},
              "speedup_vs_numpy_loop": loop_seconds / jax_seconds,
              "valid_cells": int(np.sum(np.asarray(fit.valid))),
              "valid_cells_numpy": int(np.sum(np.isfinite(reference))),
              "max_friction_diff_vs_numpy_over_mu_range": float(
                  np.nanmax(np.abs(np.asarray(fit.friction) - reference)) / mu_range
              ),
          },
          indent=2,
      )
  )


if __name__ == "__main__":
  main()

r"""Cells per second of ``bridge.fit_shape`` against a plain NumPy per-cell loop.

Grid: 6 x 16 x 10 = 960 load curves of L = 7 blocks (8 layers): closed-form
chain curves over a range of signed frictions, through random affine maps,
plus noise. Baseline, measured in the same run on the same grid:
``numpy_loop``, what one writes without thinking of the grid: for each cell,
``np.linalg.lstsq`` on the ``[L+1, 3]`` design matrix in float64 and the same
validity checks. Both sides report the best of ``--repeats`` timings
(compilation excluded for JAX, reported separately), and the largest
friction difference between them checks they compute the same fit.

Second part, the noise maps: the same 960 cells as 60 rows of 16 levels
(``[6, 10]`` rows x 16 dropout rates), ``bridge.fit_noise_map`` on all rows
in one call (the shape fits included in ``shapes_and_noise_maps``) against
``numpy_noise_loop``: per row, the same breakpoint grid with
``np.linalg.lstsq`` per candidate (unconstrained; a lower bound on a
per-row loop's cost).

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


NOISE_ROWS = (6, 10)
DROPOUT = np.linspace(0.0, 0.3, 16)


def numpy_noise_loop(friction, num_candidates=bridge._noise_map.NUM_CANDIDATES):
  """Per-row hinge fit over the same breakpoint grid, lstsq per candidate; returns mu_r."""
  z = np.sqrt(DROPOUT / (1 - DROPOUT))
  rows = friction.reshape(-1, friction.shape[-1]).astype(np.float64)
  out = np.full(rows.shape[0], np.nan)
  for i, y in enumerate(rows):
    ok = np.isfinite(y)
    zo, yo = z[ok], y[ok]
    if zo.size < 3:
      continue
    best = np.inf
    second = np.sort(zo)[1]
    for tau in list(second + (zo.max() - second) * np.arange(num_candidates) / num_candidates) + [
        np.inf
    ]:
      design = np.stack([np.ones_like(zo), -np.minimum(zo, tau)], -1)
      coef, *_ = np.linalg.lstsq(design, yo, rcond=None)
      sse = np.sum((design @ coef - yo) ** 2)
      if sse < best:
        best, out[i] = sse, coef[0]
  return out


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

  noise_curves = device_curves.reshape(NOISE_ROWS + (16, -1))

  def shapes_and_maps():
    mu = bridge.fit_shape(noise_curves).friction
    return bridge.fit_noise_map(DROPOUT, mu, knob_map="dropout_std")

  start = time.perf_counter()
  jax.block_until_ready(shapes_and_maps())
  noise_first = time.perf_counter() - start
  noise_seconds = best_seconds(lambda: jax.block_until_ready(shapes_and_maps()), args.repeats)
  mu_cells = np.asarray(bridge.fit_shape(noise_curves).friction)
  noise_loop_seconds = best_seconds(
      lambda: (numpy_loop(curves), numpy_noise_loop(mu_cells)), max(1, args.repeats // 2)
  )
  noise_fit = bridge.fit_noise_map(DROPOUT, mu_cells, knob_map="dropout_std")
  noise_reference = numpy_noise_loop(mu_cells)
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
              "shapes_and_noise_maps": {
                  "rows": int(np.prod(NOISE_ROWS)),
                  "jax_seconds": noise_seconds,
                  "jax_first_call_seconds_with_compile": noise_first,
                  "numpy_loop_seconds": noise_loop_seconds,
                  "speedup_vs_numpy_loop": noise_loop_seconds / noise_seconds,
                  # The loop is unconstrained: rows where constraints bind differ.
                  "rows_mu_r_agree_1e-3_of_mu_range": int(
                      np.sum(
                          np.abs(np.asarray(noise_fit.mu_right).ravel() - noise_reference)
                          < 1e-3 * mu_range
                      )
                  ),
              },
          },
          indent=2,
      )
  )


if __name__ == "__main__":
  main()

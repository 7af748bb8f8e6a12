r"""Chain-steps per second of the dynamics search, against a per-candidate Python loop.

``bridge._dynamics.fit_dynamics`` simulates every candidate chain (with
``chain_seeds`` noise realisations) in one jitted call and scores all time
scales and cells from each recorded trajectory. Baseline, measured in the
same run: what one writes without thinking of the batch, a Python loop over
candidate chains calling ``springs.simulate`` one chain at a time (its seeds
as a batch of ``chain_seeds``, the same number of steps, a uniform record
grid), then NumPy interpolation at every time scale and a per-cell affine
least-squares fit. The loop runs on ``--baseline_chains`` chains only and is
extrapolated per chain-step; both sides exclude compilation (reported
separately) and report the best of ``--repeats``.

Cells are synthetic: trajectories of chains from the candidate grid's range
through random affine maps plus noise (the search's speed does not depend on
the values).

Prints one JSON object. Usage:

  python benchmarks/bridge_dynamics.py [--num_candidates=16384] [--cells=16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import jax
import numpy as np

from featurespring import springs
from featurespring.bridge import _dynamics as dynamics

from bridge import best_seconds  # benchmarks/bridge.py: this script's directory is on the path


def make_cells(num_cells, num_blocks, epochs, seed=0):
  """``[C, E, L+1]``: noiseless chains at random frictions and time scales, mapped and noised."""
  rng = np.random.default_rng(seed)
  mu_max = 2.0 / (num_blocks * (num_blocks + 1))
  cfg = springs.ChainConfig(
      num_blocks=num_blocks,
      mu_right=rng.uniform(0, mu_max, num_cells),
      mu_left=rng.uniform(0, 2 * mu_max, num_cells),
  )
  dt, record_every = 0.05, 20
  sim = springs.simulate(cfg, jax.random.key(seed), 2000 * record_every, record_every)
  traj = np.asarray(sim.trajectory, np.float64)  # [C, T + 1, L+1]
  times = np.asarray(sim.times, np.float64)
  scale = rng.uniform(0.2, 5.0, num_cells) * dynamics.relaxation_time(num_blocks) / epochs[-1]
  cells = np.stack(
      [
          np.stack([np.interp(s * epochs, times, traj[c, :, l]) for l in range(num_blocks + 1)], -1)
          for c, s in enumerate(scale)
      ]
  )
  cells = rng.uniform(0.5, 3, (num_cells, 1, 1)) * cells + rng.uniform(-2, 2, (num_cells, 1, 1))
  del dt
  return cells + rng.normal(0, 0.005, cells.shape)


def loop_baseline(cells, epochs, grid, chain_indices, chain_seeds, num_steps, record_every):
  """Per-chain simulate + NumPy scoring; returns the best R^2 per cell over these chains."""
  mu_r, mu_l, eps = grid.chains()
  keys = jax.random.split(jax.random.key(0), chain_seeds)
  num_blocks = cells.shape[-1] - 1
  best = np.full(cells.shape[0], -np.inf)
  flat = cells.reshape(cells.shape[0], -1)
  centred = flat - flat.mean(-1, keepdims=True)
  for n in chain_indices:
    cfg = springs.ChainConfig(
        num_blocks=num_blocks,
        mu_right=mu_r[n],
        mu_left=mu_l[n],
        noise=eps[n],
        synchronous=True,
    )
    sim = springs.simulate(cfg, keys, num_steps, record_every)
    traj = np.asarray(sim.trajectory, np.float64).mean(0)  # [T + 1, L+1]
    times = np.asarray(sim.times, np.float64)
    for s in grid.time_scale:
      d = np.stack(
          [np.interp(s * epochs, times, traj[:, l]) for l in range(num_blocks + 1)], -1
      ).reshape(-1)
      dc = d - d.mean()
      sxx = dc @ dc
      if sxx <= 0:
        continue
      sxy = centred @ dc
      r2 = np.where(sxy > 0, sxy**2 / (sxx * (centred**2).sum(-1)), -np.inf)
      best = np.maximum(best, r2)
  return best


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--num_blocks", type=int, default=7)
  parser.add_argument("--cells", type=int, default=16)
  parser.add_argument("--epochs", type=int, default=100)
  parser.add_argument("--num_candidates", type=int, default=dynamics.DEFAULT_CANDIDATES)
  parser.add_argument("--chain_seeds", type=int, default=4)
  parser.add_argument("--baseline_chains", type=int, default=4)
  parser.add_argument("--repeats", type=int, default=2)
  args = parser.parse_args()

  epochs = np.arange(1.0, args.epochs + 1)
  cells = make_cells(args.cells, args.num_blocks, epochs)
  grid = dynamics.candidate_grid(args.num_blocks, epochs[-1], args.num_candidates)
  search = lambda: np.asarray(
      dynamics.fit_dynamics(
          cells, epochs, grid=grid, chain_seeds=args.chain_seeds, noise="synchronous"
      ).r2
  )
  start = time.perf_counter()
  fit = dynamics.fit_dynamics(cells, epochs, grid=grid, chain_seeds=args.chain_seeds)
  np.asarray(fit.r2)
  first_call = time.perf_counter() - start
  search_seconds = best_seconds(search, args.repeats)
  chain_steps = grid.num_chains * args.chain_seeds * fit.num_steps

  # Uniform record grid as fine as the search's coarsest interval.
  record_every = max(1, fit.num_steps // (2 * fit.resolution))
  subset = np.linspace(0, grid.num_chains - 1, args.baseline_chains).astype(int)
  loop = lambda: loop_baseline(
      cells, epochs, grid, subset, args.chain_seeds, fit.num_steps, record_every
  )
  loop()  # compile springs.simulate for this shape once
  loop_seconds = best_seconds(loop, args.repeats)
  loop_chain_steps = subset.size * args.chain_seeds * fit.num_steps

  search_rate = chain_steps / search_seconds
  loop_rate = loop_chain_steps / loop_seconds
  print(
      json.dumps(
          {
              "grid": (
                  f"{grid.mu_right.size} mu_r x {grid.mu_left.size} mu_l x {grid.noise.size} "
                  f"eps chains x {grid.time_scale.size} time scales = {grid.size} candidates "
                  f"per cell, {args.cells} cells, {args.chain_seeds} noise seeds per chain, "
                  f"L = {args.num_blocks}, E = {args.epochs}"
              ),
              "num_steps": fit.num_steps,
              "device": jax.default_backend(),
              "cpu_count": os.cpu_count(),
              "jax": jax.__version__,
              "numpy": np.__version__,
              "python": platform.python_version(),
              "search": {
                  "seconds": round(search_seconds, 3),
                  "first_call_seconds": round(first_call, 3),
                  "chain_steps": chain_steps,
                  "chain_steps_per_s": float(f"{search_rate:.4g}"),
                  "candidate_cells_per_s": float(f"{grid.size * args.cells / search_seconds:.4g}"),
              },
              "python_loop": {
                  "chains_timed": int(subset.size),
                  "record_every": record_every,
                  "seconds": round(loop_seconds, 3),
                  "chain_steps_per_s": float(f"{loop_rate:.4g}"),
                  "extrapolated_seconds_for_grid": round(
                      loop_seconds * grid.num_chains / subset.size, 1
                  ),
              },
              "speedup_vs_python_loop": round(search_rate / loop_rate, 2),
              "median_r2": float(np.median(np.asarray(fit.r2))),
          },
          indent=1,
      )
  )


if __name__ == "__main__":
  main()

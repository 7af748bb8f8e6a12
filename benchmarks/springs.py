r"""Chain-steps per second of the spring engine against NumPy baselines.

Grid: 16 noise x 16 friction x 16 seeds = 4096 first-order chains, L = 7,
10^4 steps, for Gaussian, truncated-normal and uniform noise. Baselines,
measured in the same run on the same grid:

* ``numpy_loop``: a plain per-chain loop (one chain at a time, Python loop
  over time, NumPy vectors over blocks), timed on a subset of chains and
  steps and reported per chain-step;
* ``numpy_vectorised``: NumPy over all chains at once (block-major arrays,
  one Python iteration per time step), what a careful NumPy user writes;
  timed on a prefix of the steps;
* ``jax_threefry``: this engine with the ``jax.random`` reference generator,
  to show what the counter-based noise buys.

Prints one JSON object. Usage:

  python benchmarks/springs.py [--steps=10000] [--chains_per_axis=16] [--repeats=3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

from featurespring import springs

NUM_BLOCKS, K, TARGET, DT, CUT = 7, 1.0, 1.0, 0.05, 2.0


def grid_values(n):
  mu = np.linspace(0.0, 0.03, n)
  noise = np.linspace(0.0, 0.008, n)
  return mu, noise


def numpy_noise(rng, dist, shape):
  """What a NumPy user draws: ziggurat normals, inverse-CDF truncated normals."""
  if dist == "gaussian":
    return rng.standard_normal(shape, dtype=np.float32)
  if dist == "uniform":
    return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), shape).astype(np.float32)
  lo, hi = special.ndtr(-CUT), special.ndtr(CUT)
  std = float(springs._noise.truncated_normal_std(CUT))  # pylint: disable=protected-access
  return (special.ndtri(rng.uniform(lo, hi, shape)) / std).astype(np.float32)


def numpy_vectorised(mu_r, eps, dist, num_steps, repeats):
  """All chains at once, Python loop over time; best seconds per step.

  Timed in ``repeats`` segments, keeping the fastest, as for the JAX runs,
  so that load from other processes penalises neither side.
  """
  rng = np.random.default_rng(0)
  num_chains = mu_r.size
  mu_r = mu_r.astype(np.float32)[None]
  mu_l = 2 * mu_r
  scale = (eps / np.sqrt(DT)).astype(np.float32)[None]
  x = np.zeros((NUM_BLOCKS + 2, num_chains), np.float32)
  x[-1] = TARGET
  best = np.inf
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(num_steps):
      force = K * (x[2:] + x[:-2] - 2 * x[1:-1]) + scale * numpy_noise(
          rng, dist, (NUM_BLOCKS, num_chains)
      )
      x[1:-1] += DT * (np.maximum(force - mu_r, 0) + np.minimum(force + mu_l, 0))
    best = min(best, (time.perf_counter() - start) / num_steps)
  return best


def numpy_loop(mu_r, eps, dist, num_steps):
  """One chain at a time; returns seconds per chain-step."""
  rng = np.random.default_rng(0)
  start = time.perf_counter()
  for m, e in zip(mu_r, eps):
    x = np.zeros(NUM_BLOCKS + 2)
    x[-1] = TARGET
    scale = e / np.sqrt(DT)
    for _ in range(num_steps):
      force = K * (x[2:] + x[:-2] - 2 * x[1:-1]) + scale * numpy_noise(rng, dist, NUM_BLOCKS)
      x[1:-1] += DT * (np.maximum(force - m, 0) + np.minimum(force + 2 * m, 0))
  return (time.perf_counter() - start) / (len(mu_r) * num_steps)


def jax_seconds(cfg, keys, num_steps, repeats):
  jax.block_until_ready(springs.simulate(cfg, keys, num_steps).load_curve)  # compile
  best = np.inf
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(springs.simulate(cfg, keys, num_steps).load_curve)
    best = min(best, time.perf_counter() - start)
  return best


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=int, default=10_000)
  parser.add_argument("--chains_per_axis", type=int, default=16)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument(
      "--vectorised_steps",
      type=int,
      default=300,
      help="steps per timed segment of the vectorised NumPy baseline",
  )
  parser.add_argument("--loop_chains", type=int, default=4)
  parser.add_argument("--loop_steps", type=int, default=2000)
  args = parser.parse_args()

  n = args.chains_per_axis
  mu, noise = grid_values(n)
  num_chains = n**3
  mu_flat = np.repeat(mu, n * n)
  eps_flat = np.tile(np.repeat(noise, n), n)
  keys = jax.random.split(jax.random.key(0), n)
  report = {
      "grid": f"{n} friction x {n} noise x {n} seeds = {num_chains} chains, L = {NUM_BLOCKS}",
      "steps": args.steps,
      "device": str(jax.devices()[0].device_kind),
      "cpu_count": __import__("os").cpu_count(),
      "jax": jax.__version__,
      "numpy": np.__version__,
      "python": platform.python_version(),
      "results": {},
  }
  for dist in ("gaussian", "truncated_normal", "uniform"):
    cfg = springs.ChainConfig(
        num_blocks=NUM_BLOCKS,
        k=K,
        target=TARGET,
        dt=DT,
        noise_cut=CUT,
        noise_dist=dist,
        mu_right=jnp.asarray(mu, jnp.float32)[:, None, None],
        mu_left=2 * jnp.asarray(mu, jnp.float32)[:, None, None],
        noise=jnp.asarray(noise, jnp.float32)[None, :, None],
    )
    seconds = jax_seconds(cfg, keys, args.steps, args.repeats)
    threefry = jax_seconds(cfg.replace(generator="threefry"), keys, args.steps, 1)
    vec_per_step = numpy_vectorised(mu_flat, eps_flat, dist, args.vectorised_steps, args.repeats)
    loop_per_chain_step = numpy_loop(
        mu_flat[:: num_chains // args.loop_chains],
        eps_flat[:: num_chains // args.loop_chains],
        dist,
        args.loop_steps,
    )
    chain_steps = num_chains * args.steps
    rate = chain_steps / seconds
    rates = {
        "jax_counter_hash": rate,
        "jax_threefry": chain_steps / threefry,
        "numpy_vectorised": num_chains / vec_per_step,
        "numpy_loop": 1.0 / loop_per_chain_step,
    }
    report["results"][dist] = {
        "seconds": round(seconds, 3),
        "chain_steps_per_s": {k: float(f"{v:.4g}") for k, v in rates.items()},
        "block_updates_per_s": float(f"{rate * NUM_BLOCKS:.4g}"),
        "speedup_vs_numpy_vectorised": round(rate / rates["numpy_vectorised"], 2),
        "speedup_vs_numpy_loop": round(rate / rates["numpy_loop"], 1),
        "speedup_vs_jax_threefry": round(rate / rates["jax_threefry"], 2),
    }
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  main()

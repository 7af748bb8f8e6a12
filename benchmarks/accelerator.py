r"""One prepared run on whatever devices JAX sees (sized for one H200); prints JSON.

  python benchmarks/accelerator.py                     # < 6 min on one H200
  python benchmarks/accelerator.py --only=correctness,chains
  python benchmarks/accelerator.py --quick --out=/tmp  # tiny sizes: < 1 min on 2 CPU cores

Writes ``accelerator_result_<platform>.json`` next to this script (or into
``--out``) with the device name and the date, after every section, so a run
cut short still leaves what it measured. Sections (``--only`` picks some):

* ``correctness``: a small chain grid and a small network population on the
  default device equal the same on the host CPU (``jax.devices('cpu')``)
  within stated tolerances (different backends round differently: bit
  equality is not expected); vmapped equals one-by-one on the default
  device; the separation metrics and the regression load on the device match
  the float64 NumPy reference of tests/test_metrics.py within the tolerances
  the CPU meets there (the matmul precision policy of featurespring.metrics:
  HIGHEST for metrics, so no TF32), with the error the default precision
  would give reported beside them.
* ``chains``: 10^6 first-order chains x 10^4 steps, L = 7, per noise law,
  for the counter-hash generator and the threefry reference: wall time,
  chain-steps/s, and the fraction of the device memory bandwidth (measured
  in this run: an on-device ``x + 1`` over a 4 GiB array) that the state
  traffic implies. That traffic is a lower bound: the positions (L float32)
  read and written once per step, nothing else counted.
* ``networks``: the four Fig. 1 diagrams (experiments/fig1*.py) at the
  paper's grid sizes with 10 seeds, metrics every 10 epochs, run as users
  run them: ``featurespring.sweep.run`` into a temporary workdir, the chunk
  size from ``featurespring.sweep.memory.auto_chunk_size``. Each diagram
  first runs one sweep call's epochs (``checkpoint_every``; two calls on
  several devices) untimed, which compiles every static group (the jit
  caches keep them), then a timed run of ``--epoch_scale`` (default 0.2) of
  the paper's epochs; the full-length wall time is estimated from both.
  Reports net-epochs/s, matmul FLOP/s (counted as
  benchmarks/train.py counts them) against bf16 / f32 matmul peaks measured
  in this run, and peak device memory.
* ``scaling``: net-epochs/s of the Fig. 1(c) network against the population
  size (1, then x``--scaling_factor``, ...) up to what fits (the memory
  estimate) or ``--scaling_cap``, placed and trained as a sweep chunk is.

A ``--timeout_s`` budget guard skips what would not fit (recorded as
skipped) and, as a last resort, a watchdog writes the JSON and exits when
the budget is spent, so the run always returns its JSON. ``--quick`` runs
the same sections at tiny sizes (the networks section times the Fig. 1(c)
diagram's ``:runlocal`` smoke size only: each diagram is a compile of its
own, ~10 s on a 2-core CPU); tests/test_accelerator_script.py runs it.

XLA flags: importing featurespring adds ``--xla_cpu_multi_thread_eigen=false``
(featurespring.runtime); it is read by the CPU backend only, so it is left
in place here and recorded in the JSON (``xla_flags``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import glob
import importlib.util
import json
import os
import platform
import sys
import tempfile
import threading
import time
import traceback

# The budget counts from here: imports and backend start-up are part of it.
_START = time.perf_counter()

# pylint: disable=wrong-import-position
# Importing featurespring sets its XLA:CPU flags before JAX starts.
import featurespring  # noqa: F401  pylint: disable=unused-import
import jax
import jax.numpy as jnp
import numpy as np

from featurespring import data as data_lib
from featurespring import metrics
from featurespring import sharding
from featurespring import springs
from featurespring import sweep
from featurespring import train
from featurespring.sweep import dnn_engine
from featurespring.sweep import memory
from featurespring.sweep import results as results_lib

# pylint: enable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SECTIONS = ("correctness", "chains", "networks", "scaling")
NOISE_LAWS = ("gaussian", "truncated_normal", "uniform")
DIAGRAMS = {  # run in this order: Fig. 1(d) compiles once per batch size
    "fig1c_dropout": "experiments/fig1c_dropout.py",
    "fig1a_label_noise": "experiments/fig1a_label_noise.py",
    "fig1b_learning_rate": "experiments/fig1b_learning_rate.py",
    "fig1d_batch_size": "experiments/fig1d_batch_size.py",
}

# Cross-backend tolerances (stated in the JSON). Chains: float32 positions
# of order 1 after thousands of contracting steps; the noise bits are integer
# hashes (exact everywhere), the inverse CDF may differ in the last ulp.
CHAIN_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
# Networks: a few epochs of training in float32, on GPUs with TF32 matmuls
# (the training precision is the default one); the load curve is a log.
NETWORK_TOLERANCE = {"rtol": 1e-3, "atol": 2e-3}
NETWORK_KEYS = ("loss", "accuracy_train", "accuracy", "load_curve", "load_curve_test")
# Reported, not judged: the pinv separation divides by squared eigenvalues
# of S_b, which for these small, briefly trained nets sit near its cut-off,
# so float32 differences in the features move it by up to ~0.05.
NETWORK_REPORTED_KEYS = ("load_curve_pinv", "load_curve_pinv_test")
# Metrics against float64 (what the CPU meets in tests/test_metrics.py).
METRIC_TOLERANCE = {"trace": 1e-5, "pinv": 1e-4, "well_separated": 1e-3, "regression_rtol": 1e-4}


@dataclasses.dataclass(frozen=True)
class Sizes:
  """Everything that differs between the full (H200) and the quick run."""

  check_chains_per_axis: int  # correctness chain grid: n mu x n noise x n seeds
  check_steps: int
  check_singles: int  # members re-run one by one
  chains_per_axis: int  # chains section: n^3 chains
  chain_steps: int
  chain_repeats: int
  bandwidth_floats: int  # the x + 1 copy
  matmul_size: int
  threefry_steps: int  # the reference generator's rate, timed shorter
  net_epochs: int  # correctness networks (and quick scaling)
  epoch_scale: float  # networks: timed fraction of the paper's epochs
  runlocal: bool  # networks: the diagrams' :runlocal sizes
  diagrams: tuple[str, ...]
  scaling_seconds: float  # the scaling section's budget, kept free by networks
  scaling_factor: int  # population sizes 1, f, f^2, ...
  scaling_cap: int  # ... up to what fits, at most this
  min_network_seconds: float  # a diagram is not started with less left


FULL = Sizes(
    check_chains_per_axis=8,
    check_steps=2000,
    check_singles=4,
    chains_per_axis=100,
    chain_steps=10_000,
    chain_repeats=2,
    bandwidth_floats=2**30,
    matmul_size=8192,
    threefry_steps=2000,
    net_epochs=3,
    epoch_scale=0.2,
    runlocal=False,
    diagrams=tuple(DIAGRAMS),
    scaling_seconds=75.0,
    scaling_factor=4,
    scaling_cap=4096,
    min_network_seconds=30.0,
)
# The quick correctness grid is the chains section's, so their compiles are
# shared (CPU compiles dominate a quick run).
QUICK = Sizes(
    check_chains_per_axis=4,
    check_steps=300,
    check_singles=2,
    chains_per_axis=4,
    chain_steps=300,
    chain_repeats=1,
    bandwidth_floats=2**22,
    matmul_size=256,
    threefry_steps=300,
    net_epochs=1,
    epoch_scale=1.0,
    runlocal=True,
    diagrams=("fig1c_dropout",),
    scaling_seconds=20.0,
    scaling_factor=4,
    scaling_cap=4,
    min_network_seconds=5.0,
)


def _load_module(name: str, path: str):
  """A module of this repository that is not a package (benchmarks, tests)."""
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module  # dataclasses look their module up by name
  spec.loader.exec_module(module)
  return module


# The other benchmarks' helpers, reused: the chain grid's values and timing
# (springs.py), the matmul FLOP count and best-of-n timing (train.py).
springs_bench = _load_module("_springs_bench", os.path.join(HERE, "springs.py"))
train_bench = _load_module("_train_bench", os.path.join(HERE, "train.py"))
best_seconds = train_bench._best_seconds  # pylint: disable=protected-access


class Budget:
  """Seconds left of ``--timeout_s``, counted from the start of the script.

  ``reserved`` seconds are kept for the sections still to come: `available`
  is what the running section may plan to spend.
  """

  def __init__(self, seconds: float, start: float):
    self.seconds, self.start, self.reserved = seconds, start, 0.0

  def elapsed(self) -> float:
    return time.perf_counter() - self.start

  def left(self) -> float:
    return self.seconds - self.elapsed()

  def available(self) -> float:
    return self.left() - self.reserved


def _max_diff(a, b) -> dict:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  diff = np.abs(a - b)
  scale = np.maximum(np.abs(b), 1e-30)
  finite = np.isfinite(diff)
  return {
      "max_abs": float(np.max(diff[finite], initial=0.0)),
      "max_rel": float(np.max((diff / scale)[finite], initial=0.0)),
      "nonfinite_mismatch": int(np.sum(np.isfinite(a) != np.isfinite(b))),
  }


def _close(a, b, rtol, atol) -> bool:
  return bool(
      np.allclose(
          np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol, equal_nan=True
      )
  )


def _devices_of(array) -> list[str]:
  return sorted(str(d) for d in array.devices())


def _peak_memory(device) -> int | None:
  stats = device.memory_stats() if hasattr(device, "memory_stats") else None
  return int(stats["peak_bytes_in_use"]) if stats and "peak_bytes_in_use" in stats else None


# ----------------------------------------------------------------- chains ---


def chain_grid(n: int, dist: str):
  """``(config, key data)``: n friction x n noise x n seeds first-order chains
  with benchmarks/springs.py's constants, as host arrays (JAX places them
  where it runs)."""
  bench = springs_bench
  mu, noise = bench.grid_values(n)
  config = springs.ChainConfig(
      num_blocks=bench.NUM_BLOCKS,
      k=bench.K,
      target=bench.TARGET,
      dt=bench.DT,
      noise_cut=bench.CUT,
      noise_dist=dist,
      mu_right=mu.astype(np.float32)[:, None, None],
      mu_left=2 * mu.astype(np.float32)[:, None, None],
      noise=noise.astype(np.float32)[None, :, None],
  )
  return config, np.asarray(jax.random.key_data(jax.random.split(jax.random.key(0), n)))


def _simulate_on(device, config, key_data, steps):
  # The default device without a context: jax.default_device is part of the
  # jit cache key, and the chains section's compiles are then shared.
  placement = contextlib.nullcontext() if device == jax.devices()[0] else jax.default_device(device)
  with placement:
    result = springs.simulate(config, jax.random.wrap_key_data(jnp.asarray(key_data)), steps)
    return np.asarray(result.load_curve), _devices_of(result.load_curve)


def check_chains(sizes: Sizes, device, cpu) -> dict:
  """Chain grids: default device vs CPU, and vmapped vs one by one."""
  n, steps, out = sizes.check_chains_per_axis, sizes.check_steps, {}
  for dist in NOISE_LAWS:
    config, key_data = chain_grid(n, dist)
    grid, where = _simulate_on(device, config, key_data, steps)
    entry = {"ran_on": where}
    if device != cpu:
      host, _ = _simulate_on(cpu, config, key_data, steps)
      entry["vs_cpu"] = {**_max_diff(grid, host), "ok": _close(grid, host, **CHAIN_TOLERANCE)}
    # Member (i, j, s) alone: its own friction, noise and key.
    in_grid, alone = [], []
    for member in np.linspace(0, n**3 - 1, sizes.check_singles).astype(int):
      i, j, s = np.unravel_index(member, (n, n, n))
      single = config.replace(
          mu_right=config.mu_right[i, 0, 0],
          mu_left=config.mu_left[i, 0, 0],
          noise=config.noise[0, j, 0],
      )
      alone.append(_simulate_on(device, single, key_data[s], steps)[0])
      in_grid.append(grid[i, j, s])
    in_grid, alone = np.stack(in_grid), np.stack(alone)
    entry["vmapped_vs_one_by_one"] = {
        **_max_diff(in_grid, alone),
        "members": sizes.check_singles,
        "ok": _close(in_grid, alone, **CHAIN_TOLERANCE),
    }
    out[dist] = entry
  return out


def bandwidth_bytes_per_second(num_floats: int) -> dict:
  """Best ``x + 1`` over ``num_floats`` float32 on the default device: bytes
  read plus bytes written per second."""
  x = jnp.ones((num_floats,), jnp.float32)
  seconds = best_seconds(jax.jit(lambda x: x + 1), x, repeats=5)
  moved = 2 * num_floats * 4
  del x
  return {
      "array_bytes": num_floats * 4,
      "bytes_moved": moved,
      "seconds": seconds,
      "bytes_per_s": moved / seconds,
  }


def run_chains(sizes: Sizes, budget: Budget) -> dict:
  n, steps = sizes.chains_per_axis, sizes.chain_steps
  bandwidth = bandwidth_bytes_per_second(sizes.bandwidth_floats)
  num_chains = n**3
  # Lower bound on the traffic of one chain-step: its L float32 positions
  # read and written once; parameters, keys and the other carries are not
  # counted (a fused step may keep some of them in registers or caches).
  bytes_lower = 2 * springs_bench.NUM_BLOCKS * 4
  out = {
      "chains": num_chains,
      "steps": steps,
      "num_blocks": springs_bench.NUM_BLOCKS,
      "grid": f"{n} friction x {n} noise x {n} seeds, first order, dt = {springs_bench.DT}",
      "bandwidth": bandwidth,
      "bytes_per_chain_step_lower_bound": bytes_lower,
      "bandwidth_note": "fraction = chain-steps/s x the lower bound / measured "
      "bandwidth: a lower bound on the bandwidth the run uses",
      "laws": {},
  }
  for dist in NOISE_LAWS:
    if budget.left() < 10:
      out["laws"][dist] = {"skipped": "budget"}
      continue
    config, key_data = chain_grid(n, dist)
    keys = jax.random.wrap_key_data(jnp.asarray(key_data))
    entry = {}
    for generator, timed_steps, repeats in (
        ("counter_hash", steps, sizes.chain_repeats),
        ("threefry", sizes.threefry_steps, 1),
    ):
      start = time.perf_counter()
      seconds = springs_bench.jax_seconds(
          config.replace(generator=generator), keys, timed_steps, repeats
      )
      rate = num_chains * timed_steps / seconds
      entry[generator] = {
          "steps": timed_steps,
          "seconds": seconds,
          "chain_steps_per_s": rate,
          "fraction_of_bandwidth_lower_bound": rate * bytes_lower / bandwidth["bytes_per_s"],
          "seconds_with_compile_and_repeats": time.perf_counter() - start,
      }
    entry["counter_hash_speedup_vs_threefry"] = (
        entry["counter_hash"]["chain_steps_per_s"] / entry["threefry"]["chain_steps_per_s"]
    )
    out["laws"][dist] = entry
  return out


# --------------------------------------------------------------- networks ---


def _hparam_arrays(**fields) -> dict:
  """Host ``[P]`` arrays of every `train.HParams` field (defaults filled in)."""
  hparams = train.HParams.create(**fields)
  return {f: np.asarray(getattr(hparams, f)) for f in train.hparams.HPARAM_NAMES}


def init_population(train_config, data, hparams: dict, devices):
  """A population placed as the sweep runner places a chunk: members sharded
  over ``devices`` (so that the sweep's compiles serve it too)."""
  placed = sharding.shard_members(hparams, sharding.member_mesh(devices))
  return train.init(train_config, train.HParams(**placed), data)


def train_population(train_config, data, hparams: dict, epochs: int, devices):
  """``(state, metrics)`` of `init_population` trained for ``epochs``."""
  return train.train_epochs(init_population(train_config, data, hparams, devices), data, epochs)


def _final_metrics(metrics_tree, num_members: int) -> dict:
  host = sharding.gather_members(metrics_tree, num_members)
  return {k: host[k][:, -1] for k in NETWORK_KEYS + NETWORK_REPORTED_KEYS}


def _grid_hparams(config) -> dict:
  """`_hparam_arrays` of every member of a Fig. 1(c) config's grid."""
  grid = sweep.Grid.from_config(config)
  points = grid.points(np.arange(grid.size))
  return _hparam_arrays(seed=points["seed"], alpha=points["alpha"], dropout=points["dropout"])


def _small_network():
  """``(engine, hparams)`` of the correctness population: Fig. 1(c) at its
  ``:runlocal`` size (also the quick run's scaling network, so that the
  compiles are shared)."""
  config = sweep.load_config(os.path.join(REPO, DIAGRAMS["fig1c_dropout"]) + ":runlocal")
  return dnn_engine.DnnEngine(config, {}, sweep.Grid.from_config(config)), _grid_hparams(config)


def check_networks(sizes: Sizes, device, cpu) -> dict:
  """A small population: default device vs CPU; vmapped vs one by one."""
  engine, hparams = _small_network()
  num = len(hparams["seed"])
  _, trained = train_population(
      engine.train_config, engine.data, hparams, sizes.net_epochs, [device]
  )
  grid = _final_metrics(trained, num)
  out = {
      "members": num,
      "epochs": sizes.net_epochs,
      "config": f"depth {engine.train_config.depth}, width {engine.train_config.width}, "
      f"batch {engine.train_config.batch_size}, {engine.fields.dataset} "
      f"{engine.data.x_train.shape[0]} / {engine.data.x_test.shape[0]}",
  }

  def compare(ours, other):
    judged = {
        k: {**_max_diff(ours[k], other[k]), "ok": _close(ours[k], other[k], **NETWORK_TOLERANCE)}
        for k in NETWORK_KEYS
    }
    reported = {k: _max_diff(ours[k], other[k]) for k in NETWORK_REPORTED_KEYS}
    return {
        "judged": judged,
        "reported_only": reported,
        "ok": all(v["ok"] for v in judged.values()),
    }

  if device != cpu:
    host_data = jax.device_put(engine.data, cpu)
    _, on_cpu = train_population(engine.train_config, host_data, hparams, sizes.net_epochs, [cpu])
    out["vs_cpu"] = compare(grid, _final_metrics(on_cpu, num))
  singles = []
  for member in range(min(sizes.check_singles, num)):
    one = {f: v[member : member + 1] for f, v in hparams.items()}
    _, trained_one = train_population(
        engine.train_config, engine.data, one, sizes.net_epochs, [device]
    )
    singles.append(_final_metrics(trained_one, 1))
  alone = {k: np.concatenate([s[k] for s in singles]) for k in singles[0]}
  in_grid = {k: v[: len(singles)] for k, v in grid.items()}
  out["vmapped_vs_one_by_one"] = {**compare(in_grid, alone), "members": len(singles)}
  return out


def check_metrics(device) -> dict:
  """Device metrics against tests/test_metrics.py's float64 reference."""
  try:
    reference = _load_module("_test_metrics", os.path.join(REPO, "tests", "test_metrics.py"))
  except ImportError as err:  # pytest (the [test] extra) is not installed
    return {"skipped": f"tests/test_metrics.py not importable: {err}"}
  num_classes = reference.NUM_CLASSES
  # pylint: disable=protected-access
  random_layer, separated_layer = reference._random_layer, reference._separated_layer
  reference_separations = reference._reference_separations
  # pylint: enable=protected-access

  def compiled_separations():
    # A fresh jit per precision: METRIC_PRECISION is read when tracing.
    return jax.jit(lambda f, y: metrics.separations(f, y, num_classes))

  highest = compiled_separations()
  default = None
  if device.platform != "cpu":
    # What the default precision (TF32 on recent NVIDIA GPUs) would give;
    # on CPU float32 matmuls are the same at every precision.
    default = compiled_separations()

  def on_device(separations, features, labels):
    trace, pinv = separations(*jax.device_put((features, labels), device))
    return float(trace), float(pinv)

  layers = [(f"case{i}", random_layer(0, **case), None) for i, case in enumerate(reference.CASES)]
  # The ratios of tests/test_metrics.py: about, and far below, the floor
  # under which tr S_w is summed directly.
  layers += [
      (f"well_separated_{ratio:g}", separated_layer(0, ratio), ratio)
      for ratio in (2e-3, 1e-4, 1e-7)
  ]
  out, worst_default = {}, None
  for name, (features, labels), ratio in layers:
    trace64, pinv64 = reference_separations(features, labels, num_classes, metrics.PINV_RCOND)
    trace, pinv = on_device(highest, features, labels)
    trace_tol = METRIC_TOLERANCE["well_separated" if ratio else "trace"]
    pinv_tol = METRIC_TOLERANCE["well_separated" if ratio else "pinv"]
    out[name] = {
        "trace_error": abs(trace - trace64),
        "pinv_error": abs(pinv - pinv64),
        "tolerance": [trace_tol, pinv_tol],
        "ok": bool(abs(trace - trace64) <= trace_tol and abs(pinv - pinv64) <= pinv_tol),
    }
    if default is not None:
      saved = metrics.METRIC_PRECISION
      metrics.METRIC_PRECISION = jax.lax.Precision.DEFAULT
      try:
        low = on_device(default, features, labels)
      finally:
        metrics.METRIC_PRECISION = saved
      error = max(abs(low[0] - trace64), abs(low[1] - pinv64))
      out[name]["default_precision_error"] = error
      worst_default = max(error, worst_default or 0.0)
  features, _ = random_layer(4, dim=30)
  rng = np.random.default_rng(5)
  targets = (
      features[:, :3] @ rng.normal(size=(3, 2)) + rng.normal(size=(len(features), 2))
  ).astype(np.float32)
  design = np.c_[features.astype(np.float64), np.ones(len(features))]
  coefficients = np.linalg.lstsq(design, targets, rcond=np.sqrt(metrics.LSTSQ_RCOND))[0]
  expected = np.sqrt(np.mean((targets - design @ coefficients) ** 2))
  got = float(metrics.regression_load(*jax.device_put((features, targets), device)))
  out["regression_load"] = {
      "relative_error": abs(got - expected) / expected,
      "tolerance": METRIC_TOLERANCE["regression_rtol"],
      "ok": bool(abs(got - expected) <= METRIC_TOLERANCE["regression_rtol"] * expected),
  }
  return {
      "layers": out,
      "precision": str(metrics.METRIC_PRECISION),
      "worst_default_precision_error": worst_default,
      "ok": all(v["ok"] for v in out.values()),
  }


def run_correctness(sizes: Sizes, budget: Budget) -> dict:
  del budget  # small and bounded
  device, cpu = jax.devices()[0], jax.devices("cpu")[0]
  out = {
      "default_device": str(device),
      "cpu_device": str(cpu),
      "tolerances": {
          "chains": CHAIN_TOLERANCE,
          "networks": NETWORK_TOLERANCE,
          "networks_reported_only": list(NETWORK_REPORTED_KEYS),
          "metrics_vs_float64": METRIC_TOLERANCE,
      },
  }
  if device == cpu:
    out["note"] = "the default device is the CPU: the cross-device comparisons are skipped"
  out["chains"] = check_chains(sizes, device, cpu)
  out["networks"] = check_networks(sizes, device, cpu)
  out["metrics"] = check_metrics(device)
  checks = [
      e.get("vs_cpu", {"ok": True})["ok"] and e["vmapped_vs_one_by_one"]["ok"]
      for e in out["chains"].values()
  ]
  checks.append(out["networks"].get("vs_cpu", {"ok": True})["ok"])
  checks.append(out["networks"]["vmapped_vs_one_by_one"]["ok"])
  checks.append(out["metrics"].get("ok", True))
  out["ok"] = all(checks)
  return out


def matmul_peaks(size: int) -> dict:
  """Best rates of one ``size``^3 matmul: bf16, f32 at the default precision
  (TF32 where the GPU allows it: what training runs at) and at HIGHEST."""
  out = {"size": size}
  for name, dtype, precision in (
      ("bf16", jnp.bfloat16, None),
      ("f32_default", jnp.float32, None),
      ("f32_highest", jnp.float32, jax.lax.Precision.HIGHEST),
  ):
    a = jnp.ones((size, size), dtype)
    matmul = jax.jit(lambda a, b, p=precision: jnp.matmul(a, b, precision=p))
    out[f"{name}_flops_per_s"] = 2 * size**3 / best_seconds(matmul, a, a)
  return out


def _mnist_or_embedded() -> tuple[str, str]:
  """``(dataset, why)``: MNIST from the data folder, or the embedded subset."""
  try:
    data_lib.load("mnist")
    return "mnist", "MNIST files found"
  except (FileNotFoundError, OSError, ValueError) as err:
    return "mnist_embedded", f"MNIST not available ({type(err).__name__}): embedded subset"


def _diagram_config(path: str, sizes: Sizes, dataset: str):
  config = sweep.load_config(os.path.join(REPO, path) + (":runlocal" if sizes.runlocal else ""))
  if not sizes.runlocal:
    config.dnn.eval_every = 10
    config.dnn.dataset = dataset
  return config


def net_epoch_flops(engine, batch_size: int) -> float:
  """Matmul FLOPs of one net-epoch (benchmarks/train.py's count), the
  evaluation spread over the ``eval_every`` epochs it serves."""
  config, data = engine.train_config, engine.data
  num_train, dim = data.x_train.shape
  num_test = data.x_test.shape[0]
  if config.test_eval_size is not None:
    num_test = min(num_test, config.test_eval_size)
  return train_bench.flops_per_net_epoch(
      config.replace(batch_size=int(batch_size)),
      num_train,
      (num_train + num_test) / config.eval_every,
      dim=dim,
      classes=config.num_classes,
  )


def _epoch_flops_of_grid(config) -> float:
  """`net_epoch_flops` summed over a diagram's members (batch sizes may vary)."""
  grid = sweep.Grid.from_config(config)
  batches = grid.points(np.arange(grid.size)).get(
      "batch_size", np.full(grid.size, config.dnn.batch_size)
  )
  engine = dnn_engine.DnnEngine(config, {}, sweep.Grid.from_config(config))
  values, counts = np.unique(batches, return_counts=True)
  return sum(n * net_epoch_flops(engine, b) for b, n in zip(values, counts))


def run_diagram(name: str, sizes: Sizes, dataset: str, peaks: dict, workroot: str) -> dict:
  config = _diagram_config(DIAGRAMS[name], sizes, dataset)
  paper_epochs = int(sweep.load_config(os.path.join(REPO, DIAGRAMS[name])).dnn.num_epochs)
  eval_every = int(config.dnn.eval_every)
  # One sweep call runs checkpoint_every epochs. On several devices the
  # second call compiles again (the state that init returns is not sharded
  # like the one a call returns), so the warm-up makes two calls there.
  warm_epochs = int(config.checkpoint_every) * (2 if jax.device_count() > 1 else 1)
  if sizes.runlocal:
    epochs = int(config.dnn.num_epochs)
  else:
    epochs = max(round(sizes.epoch_scale * paper_epochs / eval_every), 1) * eval_every
  config.chunk_size = memory.auto_chunk_size(config)
  members = sweep.Grid.from_config(config).size
  # Untimed: compiles every static group (kept in the jit caches).
  warm = config.copy_and_resolve_references()
  warm.dnn.num_epochs = warm_epochs
  start = time.perf_counter()
  sweep.run(warm, os.path.join(workroot, name + "_warm"))
  warm_seconds = time.perf_counter() - start
  timed = config.copy_and_resolve_references()
  timed.dnn.num_epochs = epochs
  workdir = os.path.join(workroot, name)
  start = time.perf_counter()
  sweep.run(timed, workdir)
  seconds = time.perf_counter() - start
  parts = [
      results_lib.read_json(p) for p in sorted(glob.glob(os.path.join(workdir, "parts", "*.json")))
  ]
  flops = _epoch_flops_of_grid(timed) * epochs
  net_epochs = members * epochs
  compile_seconds = max(warm_seconds - seconds * warm_epochs / epochs, 0.0)
  grid = sweep.Grid.from_config(config).describe()
  return {
      "members": members,
      "grid": {axis: len(v["values"]) for axis, v in grid.items()},
      "dataset": timed.dnn.dataset,
      "paper_epochs": paper_epochs,
      "epochs_timed": epochs,
      "epoch_scale": epochs / paper_epochs,
      "eval_every": eval_every,
      "chunk_size": int(config.chunk_size),
      "chunks": len(parts),
      "wall_s": seconds,
      "warmup_wall_s": warm_seconds,
      "warmup_epochs": warm_epochs,
      "compile_s_estimate": compile_seconds,
      "full_length_wall_s_estimate": compile_seconds + seconds * paper_epochs / epochs,
      "net_epochs_per_s": net_epochs / seconds,
      "matmul_flops_per_s": flops / seconds,
      "fraction_of_f32_default_peak": flops / seconds / peaks["f32_default_flops_per_s"],
      "fraction_of_bf16_peak": flops / seconds / peaks["bf16_flops_per_s"],
      "chunk_wall_s": {
          p["chunk"]: {
              "wall_time_s": p["wall_time_s"],
              "static": p["static"],
              "members": p["num_members"],
          }
          for p in parts
      },
      "peak_bytes_in_use_so_far": _peak_memory(jax.devices()[0]),
  }


def run_networks(sizes: Sizes, budget: Budget) -> dict:
  if sizes.runlocal:
    dataset, why = "mnist_embedded", "--quick: the diagrams' :runlocal sizes"
  else:
    dataset, why = _mnist_or_embedded()
  peaks = matmul_peaks(sizes.matmul_size)
  out = {
      "how": "featurespring.sweep.run into a temporary workdir (what python -m "
      "launch.sweep runs), chunk size from sweep.memory.auto_chunk_size; an "
      "untimed run of checkpoint_every epochs first compiles every static group",
      "dataset": dataset,
      "dataset_note": why,
      "matmul_peaks": peaks,
      "flops_note": "matmul FLOPs as benchmarks/train.py counts them (training 3x "
      "forward, evaluation forward on train + test every eval_every epochs)",
      "diagrams": {},
  }
  spent = []
  with tempfile.TemporaryDirectory() as workroot:
    for name in DIAGRAMS:
      if name not in sizes.diagrams:
        out["diagrams"][name] = {"skipped": "--quick times the Fig. 1(c) smoke size only"}
        continue
      # Budget guard: a diagram with g static groups costs about g compiles.
      config = _diagram_config(DIAGRAMS[name], sizes, dataset)
      groups = len(dnn_engine.DnnEngine.static_groups(config, sweep.Grid.from_config(config)))
      per_group = max(spent, default=sizes.min_network_seconds)
      if budget.available() < max(sizes.min_network_seconds, groups * per_group * 0.5):
        out["diagrams"][name] = {
            "skipped": f"budget: {budget.available():.0f} s left "
            f"for {groups} static groups ({per_group:.0f} "
            f"s per group so far)"
        }
        continue
      start = time.perf_counter()
      out["diagrams"][name] = run_diagram(name, sizes, dataset, peaks, workroot)
      spent.append((time.perf_counter() - start) / groups)
  out["peak_bytes_in_use"] = _peak_memory(jax.devices()[0])
  return out


def run_scaling(sizes: Sizes, budget: Budget) -> dict:
  """net-epochs/s of one sweep chunk of the Fig. 1(c) network against its size."""
  devices = jax.devices()
  if sizes.runlocal:
    engine, hparams = _small_network()
    epochs, fits = sizes.net_epochs, None
  else:
    config = _diagram_config(DIAGRAMS["fig1c_dropout"], sizes, _mnist_or_embedded()[0])
    engine, hparams = dnn_engine.DnnEngine(
        config, {}, sweep.Grid.from_config(config)
    ), _grid_hparams(config)
    # The epochs of one sweep call (checkpoint_every): one compile per size.
    epochs = int(config.checkpoint_every)
    config.seeds = 10**6  # so that the grid never caps the chunk
    fits = memory.auto_chunk_size(config, devices)
  cap = min(sizes.scaling_cap, fits or sizes.scaling_cap)
  populations = [len(devices)]
  while populations[-1] * sizes.scaling_factor < cap:
    populations.append(populations[-1] * sizes.scaling_factor)
  populations = sorted(set(populations + [cap]))
  deadline = budget.elapsed() + min(budget.available(), sizes.scaling_seconds)
  flops = net_epoch_flops(engine, engine.train_config.batch_size)
  out = {
      "how": "init + train_epochs of one chunk placed as the sweep runner places it; "
      "timed: a second call from the same state (compiled, warm)",
      "epochs_per_call": epochs,
      "largest_that_fits_estimate": fits,
      "cap": cap,
      "config": f"Fig. 1(c) network, depth {engine.train_config.depth}, width "
      f"{engine.train_config.width}, batch {engine.train_config.batch_size}, "
      f"{engine.fields.dataset}",
      "points": [],
  }
  predicted = 0.0
  for population in populations:
    if budget.elapsed() + predicted > deadline:
      out["stopped"] = (
          f"section budget ({sizes.scaling_seconds:.0f} s) would be spent " f"at P = {population}"
      )
      break
    members = {f: np.resize(v, population) for f, v in hparams.items()}
    start = time.perf_counter()
    state = init_population(engine.train_config, engine.data, members, devices)
    jax.block_until_ready(train.train_epochs(state, engine.data, epochs))
    first = time.perf_counter() - start
    start = time.perf_counter()
    jax.block_until_ready(train.train_epochs(state, engine.data, epochs))
    seconds = time.perf_counter() - start
    # The next size: a compile like this one, a run up to factor x longer.
    predicted = first + (sizes.scaling_factor + 1) * seconds
    out["points"].append(
        {
            "population": population,
            "seconds": seconds,
            "first_call_s": first,
            "net_epochs_per_s": population * epochs / seconds,
            "matmul_flops_per_s": population * epochs * flops / seconds,
            "peak_bytes_in_use_so_far": _peak_memory(devices[0]),
        }
    )
  return out


# ------------------------------------------------------------------ main ---

RUNNERS = {
    "correctness": run_correctness,
    "chains": run_chains,
    "networks": run_networks,
    "scaling": run_scaling,
}


def _write(report: dict, path: str) -> None:
  text = json.dumps(report, indent=2, default=str)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write(text + "\n")
  os.replace(tmp, path)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument(
      "--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}"
  )
  parser.add_argument("--quick", action="store_true", help="tiny sizes (CPU smoke run)")
  parser.add_argument(
      "--timeout_s",
      type=float,
      default=330.0,
      help="total budget; sections that would not fit are skipped",
  )
  parser.add_argument("--out", default=HERE, help="folder for the result file")
  parser.add_argument(
      "--epoch_scale",
      type=float,
      default=None,
      help="networks: fraction of the paper's epochs timed (full run)",
  )
  parser.add_argument(
      "--scaling_cap", type=int, default=None, help="largest population of the scaling section"
  )
  parser.add_argument(
      "--scaling_factor", type=int, default=None, help="ratio of successive population sizes (>= 2)"
  )
  args = parser.parse_args(argv)
  only = [s.strip() for s in args.only.split(",") if s.strip()]
  unknown = sorted(set(only) - set(SECTIONS))
  if unknown:
    parser.error(f"--only: unknown sections {unknown}; known: {list(SECTIONS)}")
  sizes = QUICK if args.quick else FULL
  if args.epoch_scale:
    sizes = dataclasses.replace(sizes, epoch_scale=args.epoch_scale)
  if args.scaling_cap:
    sizes = dataclasses.replace(sizes, scaling_cap=args.scaling_cap)
  if args.scaling_factor:
    sizes = dataclasses.replace(sizes, scaling_factor=max(args.scaling_factor, 2))
  budget = Budget(args.timeout_s, _START)

  device = jax.devices()[0]
  os.makedirs(args.out, exist_ok=True)
  path = os.path.join(args.out, f"accelerator_result_{device.platform}.json")
  stats = device.memory_stats() if hasattr(device, "memory_stats") else None
  report = {
      "device": {
          "name": device.device_kind,
          "platform": device.platform,
          "count": jax.device_count(),
          "devices": [str(d) for d in jax.devices()],
          "memory_bytes_limit": (stats or {}).get("bytes_limit"),
      },
      "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "quick": args.quick,
      "timeout_s": args.timeout_s,
      "sections_requested": only,
      "jax": jax.__version__,
      "python": platform.python_version(),
      "host": platform.node(),
      "xla_flags": os.environ.get("XLA_FLAGS", ""),
      "sizes": dataclasses.asdict(sizes),
      "sections": {},
      "complete": False,
  }
  lock = threading.Lock()
  finished = []

  def finish(complete: bool) -> bool:
    """Writes and prints the report once (main thread or watchdog)."""
    with lock:
      if finished:
        return False
      finished.append(complete)
      if not complete:
        for section, value in report["sections"].items():
          if value == {"running": True}:
            report["sections"][section] = {"interrupted": f"--timeout_s={args.timeout_s:g} spent"}
      report["complete"] = complete
      report["total_seconds"] = budget.elapsed()
      _write(report, path)
      print(json.dumps(report, indent=2, default=str), flush=True)
      return True

  def watchdog():
    # Last resort when a section overruns its guards (e.g. a slow compile):
    # the JSON so far, then exit without waiting for the device.
    if finish(False):
      os._exit(3)  # pylint: disable=protected-access

  timer = threading.Timer(max(budget.left(), 1.0), watchdog)
  timer.daemon = True
  timer.start()
  for position, section in enumerate(SECTIONS):
    if section not in only:
      continue
    # The networks section would take any budget: the scaling one keeps its.
    budget.reserved = sum(
        sizes.scaling_seconds
        for later in SECTIONS[position + 1 :]
        if later == "scaling" and later in only
    )
    if budget.left() < (5 if args.quick else 20):
      report["sections"][section] = {"skipped": f"budget: {budget.left():.0f} s left"}
      continue
    report["sections"][section] = {"running": True}
    section_start = time.perf_counter()
    try:
      result = RUNNERS[section](sizes, budget)
    except Exception as err:  # pylint: disable=broad-except
      # One failing section must not cost the others' numbers.
      result = {
          "error": f"{type(err).__name__}: {err}",
          "traceback": traceback.format_exc(limit=-8),
      }
    result["section_seconds"] = time.perf_counter() - section_start
    with lock:
      report["sections"][section] = result
      _write(report, path)
  timer.cancel()
  finish(True)


if __name__ == "__main__":
  sys.exit(main())

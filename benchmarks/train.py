"""Throughput of population training vs one-at-a-time loops; prints JSON.

Run by hand (not a test)::

  python benchmarks/train.py                  # timed subsets, ~10 minutes
  python benchmarks/train.py --grid_epochs=100
  python benchmarks/train.py --nogrids --notorch   # (3) only, ~1 minute

Measures, in one run:
  (1) paper Fig. 1(c) grid: 6 alphas x 16 dropout rates, 1 seed, full batch
      2560, MNIST 10x10, metrics (both separations, train and test) every
      epoch;
  (2) paper Fig. 1(d) grid: 6 alphas x batch sizes 5, 10, ..., 2560;
  (3) the load-curve controller's overhead: grid (1) with the controller
      updating every net's rate after every epoch (gain 1, target 0),
      against the same grid without it, timed in the same run
      (``controller_overhead``: seconds per epoch of each and their ratio);
(1) and (2) each as network-epochs per second for the vmapped JAX population, the same
networks one at a time in JAX, and in a plain PyTorch loop (torch==2.13.0,
CPU), plus achieved FLOP/s against this machine's measured f32 matmul FLOP/s.
Throughput is a rate, so every measurement times a stated subset of epochs
(and, for baselines, of networks) after compilation/warm-up and reports
network-epochs per second; the JSON says what was timed.

The FLOP/s are compared with two matmul rates measured in the same run: the
machine's f32 peak (a 1024^3 matmul) and the rate of the model's own matmul
shape (the population's batched ``[P, 2560, 100] x [P, 100, 100]`` product),
which is the most any implementation of these nets could reach if it did
nothing but matmuls. XLA:CPU runs with the settings of the package's entry
points (`featurespring.runtime.configure_xla_cpu`), as a sweep would.
"""

import json
import os
import time

from absl import app
from absl import flags

from featurespring import runtime

# Before JAX starts, as `launch` does.
runtime.configure_xla_cpu()

import jax  # pylint: disable=g-import-not-at-top,g-bad-import-order
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from featurespring import data as data_lib  # pylint: disable=g-import-not-at-top,g-bad-import-order
from featurespring import train
from featurespring.train import loop

_GRID_EPOCHS = flags.DEFINE_integer(
    "grid_epochs", 5, "Epochs timed for the vmapped grid (1) after compile."
)
_BATCH_EPOCHS = flags.DEFINE_integer(
    "batch_epochs", 1, "Epochs timed per batch-size group of grid (2)."
)
_BASELINE_NETS = flags.DEFINE_integer(
    "baseline_nets", 2, "Networks timed one at a time for each baseline."
)
_BASELINE_EPOCHS = flags.DEFINE_integer("baseline_epochs", 5, "Epochs timed per baseline network.")
_TEST_EVAL_SIZE = flags.DEFINE_integer(
    "test_eval_size", 2560, "Test examples evaluated per epoch (0: all)."
)
_TORCH = flags.DEFINE_bool("torch", True, "Time the PyTorch baseline.")
_GRIDS = flags.DEFINE_bool("grids", True, "Time grids (1) and (2) and their baselines.")
_CONTROL_EPOCHS = flags.DEFINE_integer(
    "control_epochs", 5, "Epochs timed with and without the controller (3); 0: skip."
)

ALPHAS = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
DROPOUTS = np.round(np.arange(16) * 0.02, 2)
BATCH_SIZES = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560]


def _best_seconds(function, *args, repeats=10) -> float:
  jax.block_until_ready(function(*args))
  best = np.inf
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(function(*args))
    best = min(best, time.perf_counter() - start)
  return best


def matmul_flops_per_second() -> float:
  """Best f32 matmul rate of this machine (1024^3 jitted, best of 10)."""
  a = jnp.ones((1024, 1024), jnp.float32)
  return 2 * 1024**3 / _best_seconds(jax.jit(lambda a, b: a @ b), a, a)


def model_matmul_flops_per_second(nets, examples, width) -> float:
  """Best rate of the population's batched layer matmul (best of 10)."""
  x = jax.random.normal(jax.random.key(0), (nets, examples, width))
  w = jax.random.normal(jax.random.key(1), (nets, width, width))
  matmul = jax.jit(lambda x, w: jnp.einsum("pnd,pde->pne", x, w))
  return 2 * nets * examples * width**2 / _best_seconds(matmul, x, w)


def flops_per_net_epoch(config, num_train, num_eval, dim=100, classes=10):
  """Matmul FLOPs of one net-epoch: training (3x forward) plus evaluation."""
  macs = dim * config.width + (config.depth - 1) * config.width**2 + (config.width * classes)
  trained = (num_train // config.batch_size) * config.batch_size
  return 6 * macs * trained + 2 * macs * num_eval


def time_population(config, hparams, data, epochs):
  """Seconds for ``epochs`` epochs of a population, compile excluded.

  The compiled program runs once untimed first, from the same state: its
  first execution on XLA:CPU pays a one-time setup (about 0.3 s measured
  for six nets, a whole epoch's time at large batch sizes), as the PyTorch
  baseline's untimed first epoch absorbs its own warm-up.
  """
  state = train.init(config, hparams, data)
  compiled = loop._train_epochs_jit.lower(state, data, epochs).compile()  # pylint: disable=protected-access
  jax.block_until_ready(compiled(state, data))
  start = time.perf_counter()
  jax.block_until_ready(compiled(state, data))
  return time.perf_counter() - start


def controller_overhead(config, hparams, data, epochs):
  """Seconds per epoch of a population with and without the controller.

  The controller reads the curvature of the load curve that the epoch's
  metrics already hold, so its cost is the update of one number per net;
  both programs evaluate every epoch (``eval_every = 1``). The two are
  timed alternately, best of three each, so that load from other
  processes hits both alike.
  """
  runs = []
  for run_config, run_hparams in (
      (config.replace(eval_every=1), hparams),
      (
          config.replace(control_every=1, eval_every=1),
          hparams.replace(
              control_gain=jnp.ones_like(hparams.alpha),
              control_target=jnp.zeros_like(hparams.alpha),
          ),
      ),
  ):
    state = train.init(run_config, run_hparams, data)
    compiled = loop._train_epochs_jit.lower(state, data, epochs).compile()  # pylint: disable=protected-access
    jax.block_until_ready(compiled(state, data))  # the one-time first-run setup
    runs.append((compiled, state))
  best = [np.inf, np.inf]
  for _ in range(3):
    for i, (compiled, state) in enumerate(runs):
      start = time.perf_counter()
      jax.block_until_ready(compiled(state, data))
      best[i] = min(best[i], time.perf_counter() - start)
  plain, controlled_time = best[0] / epochs, best[1] / epochs
  return {
      "networks": int(hparams.size),
      "epochs_timed": epochs,
      "seconds_per_epoch_without": plain,
      "seconds_per_epoch_with_controller": controlled_time,
      "ratio_with_to_without": controlled_time / plain,
      "note": "grid (1), controller after every epoch (gain 1, target 0), "
      "both evaluating every epoch; best of 3 alternating timings each",
  }


def torch_seconds_per_net_epoch(dataset, alpha, dropout, batch_size, num_eval, epochs, nets):
  """A plain PyTorch per-run loop with the same per-epoch metrics."""
  import torch  # pylint: disable=g-import-not-at-top

  torch.manual_seed(0)
  x = torch.tensor(dataset.x_train)
  y = torch.tensor(dataset.y_train, dtype=torch.long)
  x_eval = torch.cat([x, torch.tensor(dataset.x_test[:num_eval])])
  y_eval = torch.cat([y, torch.tensor(dataset.y_test[:num_eval], dtype=torch.long)])

  def separations(h, labels):
    one_hot = torch.nn.functional.one_hot(labels, 10).float()
    counts = one_hot.sum(0)
    centred = h - h.mean(0)
    means = (one_hot.T @ centred) / counts.clamp(min=1)[:, None]
    within = centred - one_hot @ means
    s_b = (means.T * counts) @ means / len(h)
    s_w = within.T @ within / len(h)
    trace = torch.log(torch.trace(s_w) / torch.trace(s_b))
    pinv = torch.log(torch.trace(s_w @ torch.linalg.pinv(s_b)))
    return trace.item(), pinv.item()

  elapsed = 0.0
  for _ in range(nets):
    layers = [torch.nn.BatchNorm1d(100)]
    for _ in range(7):
      layers += [
          torch.nn.Linear(100, 100),
          torch.nn.BatchNorm1d(100),
          torch.nn.LeakyReLU(alpha),
          torch.nn.Dropout(dropout),
      ]
    layers.append(torch.nn.Linear(100, 10))
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs + 1):  # the first epoch warms up
      start = time.perf_counter()
      model.train()
      for batch in torch.randperm(len(x)).split(batch_size):
        if len(batch) < batch_size:
          continue
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
      model.eval()
      with torch.no_grad():
        h = x_eval
        features = []
        for layer in layers:
          h = layer(h)
          if isinstance(layer, (torch.nn.Dropout)) or layer is layers[0]:
            features.append(h)
        num_train = len(x)
        for f in features:
          separations(f[:num_train], y)
          separations(f[num_train:], y_eval[num_train:])
      if epoch:
        elapsed += time.perf_counter() - start
  return elapsed / (nets * epochs)


def main(argv):
  del argv
  peak = matmul_flops_per_second()
  dataset = data_lib.load("mnist")
  base = train.Config()
  model_peak = model_matmul_flops_per_second(
      len(ALPHAS) * len(DROPOUTS), len(dataset.x_train), base.width
  )
  data = train.Data.create(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
  num_test = _TEST_EVAL_SIZE.value or len(dataset.x_test)
  num_eval = len(dataset.x_train) + num_test
  base = base.replace(test_eval_size=num_test)
  report = {
      "machine": {
          "devices": str(jax.devices()),
          "xla_flags": os.environ.get("XLA_FLAGS", ""),
          "matmul_f32_flops_per_s": peak,
          "model_shape_matmul_f32_flops_per_s": model_peak,
      },
      "test_eval_size": num_test,
  }

  # (1) Fig. 1(c): alpha x dropout, full batch.
  alpha, dropout = [a.ravel() for a in np.meshgrid(ALPHAS, DROPOUTS, indexing="ij")]
  grid_hparams = train.HParams.create(seed=0, alpha=alpha, dropout=dropout)
  if _CONTROL_EPOCHS.value:
    report["controller_overhead"] = controller_overhead(
        base, grid_hparams, data, _CONTROL_EPOCHS.value
    )
  if not _GRIDS.value:
    print(json.dumps(report, indent=2))
    return
  seconds = time_population(base, grid_hparams, data, _GRID_EPOCHS.value)
  net_epochs = len(alpha) * _GRID_EPOCHS.value
  flops = flops_per_net_epoch(base, len(dataset.x_train), num_eval)
  single = train.HParams.create(seed=0, alpha=0.5, dropout=0.1)
  jax_single = time_population(base, single, data, _BASELINE_EPOCHS.value)
  grid1 = {
      "networks": len(alpha),
      "epochs_timed": _GRID_EPOCHS.value,
      "seconds": seconds,
      "net_epochs_per_s": net_epochs / seconds,
      "flops_per_s": flops * net_epochs / seconds,
      "fraction_of_matmul_peak": flops * net_epochs / seconds / peak,
      "fraction_of_model_shape_matmul": (flops * net_epochs / seconds / model_peak),
      "jax_one_at_a_time_net_epochs_per_s": _BASELINE_EPOCHS.value / jax_single,
  }
  if _TORCH.value:
    torch_seconds = torch_seconds_per_net_epoch(
        dataset, 0.5, 0.1, 2560, num_test, _BASELINE_EPOCHS.value, _BASELINE_NETS.value
    )
    grid1["torch_net_epochs_per_s"] = 1 / torch_seconds
    grid1["speedup_vs_torch"] = grid1["net_epochs_per_s"] * torch_seconds
  grid1["speedup_vs_jax_one_at_a_time"] = (
      grid1["net_epochs_per_s"] / grid1["jax_one_at_a_time_net_epochs_per_s"]
  )
  report["grid_c_alpha_x_dropout"] = grid1

  # (2) Fig. 1(d): alpha x batch size, one compile per batch size.
  total_seconds, total_net_epochs, total_flops = 0.0, 0, 0.0
  torch_total, jax_single_total, per_batch = 0.0, 0.0, {}
  for batch_size in BATCH_SIZES:
    config = base.replace(batch_size=batch_size)
    hparams = train.HParams.create(seed=0, alpha=ALPHAS)
    seconds = time_population(config, hparams, data, _BATCH_EPOCHS.value)
    single_seconds = (
        time_population(config, train.HParams.create(seed=0, alpha=0.5), data, _BATCH_EPOCHS.value)
        / _BATCH_EPOCHS.value
    )
    net_epochs = len(ALPHAS) * _BATCH_EPOCHS.value
    total_seconds += seconds
    total_net_epochs += net_epochs
    total_flops += net_epochs * flops_per_net_epoch(config, len(dataset.x_train), num_eval)
    jax_single_total += single_seconds * len(ALPHAS)
    entry = {
        "net_epochs_per_s": net_epochs / seconds,
        "jax_one_at_a_time_net_epochs_per_s": 1 / single_seconds,
    }
    if _TORCH.value:
      torch_seconds = torch_seconds_per_net_epoch(dataset, 0.5, 0.0, batch_size, num_test, 1, 1)
      torch_total += torch_seconds * len(ALPHAS)
      entry["torch_net_epochs_per_s"] = 1 / torch_seconds
    per_batch[batch_size] = entry
  grid2 = {
      "networks": len(ALPHAS) * len(BATCH_SIZES),
      "epochs_timed_per_group": _BATCH_EPOCHS.value,
      "net_epochs_per_s": total_net_epochs / total_seconds,
      "flops_per_s": total_flops / total_seconds,
      "fraction_of_matmul_peak": total_flops / total_seconds / peak,
      "fraction_of_model_shape_matmul": total_flops / total_seconds / model_peak,
      "jax_one_at_a_time_net_epochs_per_s": len(BATCH_SIZES) * len(ALPHAS) / jax_single_total,
      "per_batch_size": per_batch,
      "note": "one epoch of each grid network per group; baselines time one "
      "network per batch size for one epoch after a warm-up epoch",
  }
  grid2["speedup_vs_jax_one_at_a_time"] = (
      grid2["net_epochs_per_s"] / grid2["jax_one_at_a_time_net_epochs_per_s"]
  )
  if _TORCH.value:
    grid2["torch_net_epochs_per_s"] = len(BATCH_SIZES) * len(ALPHAS) / torch_total
    grid2["speedup_vs_torch"] = grid2["net_epochs_per_s"] / grid2["torch_net_epochs_per_s"]
  report["grid_d_alpha_x_batch_size"] = grid2
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  app.run(main)

r"""How the features' scale fades, or not, through a net without BatchNorm at initialisation.

The no-BatchNorm variants of Fig. 1(c) multiply each hidden pre-activation by
``models.variance_preserving_gain(alpha)``, which keeps the second moment
through the activation; whether it survives the layer depends on the weights'
initialisation too. For each init scheme and LeakyReLU slope of the Fig. 1(c)
grid this measures the mean of ``h_l^2`` (over examples and units) at every
layer of the freshly initialised net on the grid's training data, averaged
over its seeds, and writes it as a Markdown table (no dropout, no training).

  python -m experiments.reproduction.init_scale --out=experiments/reproduction/results/init_scale.md
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from absl import app
from absl import flags

from featurespring import data
from featurespring import models
from featurespring.sweep import config as config_lib

CONFIG = "experiments/fig1c_dropout.py:no_batch_norm"
INIT_SCHEMES = ("torch", "lecun")


def mean_squares(x, alphas, seeds, init_scheme, depth, width) -> np.ndarray:
  """``[len(alphas), depth + 1]``: the seed mean of ``mean(h_l^2)`` per slope and layer."""
  model = models.MLP(depth=depth, width=width, batch_norm=False, init_scheme=init_scheme)

  def one(alpha, seed):
    variables = model.init(jax.random.key(seed), x, alpha)
    _, features = model.apply(variables, x, alpha)
    return jnp.stack([jnp.mean(jnp.square(f)) for f in features])

  per_seed = jax.jit(jax.vmap(jax.vmap(one, (None, 0)), (0, None)))(
      jnp.asarray(alphas, jnp.float32), jnp.asarray(seeds)
  )
  return np.asarray(per_seed).mean(axis=1)


def table(rows) -> str:
  """Markdown: one line per (init scheme, slope), layers as columns, relative to layer 0."""
  depth = len(rows[0][2]) - 1
  lines = [
      "Mean of h_l^2 over examples and units at initialisation (BatchNorm off, the "
      "variance-preserving constant on, no dropout), seed mean, divided by layer 0's "
      "(the input):",
      "",
      "| init | alpha | " + " | ".join(f"layer {l}" for l in range(1, depth + 1)) + " |",
      "|---|---|" + "---|" * depth,
  ]
  for init_scheme, alpha, values in rows:
    ratios = " | ".join(f"{v / values[0]:.3g}" for v in values[1:])
    lines.append(f"| {init_scheme} | {alpha:g} | {ratios} |")
  return "\n".join(lines) + "\n"


def measure(dataset=None, num_train=None):
  """``(init scheme, alpha, per-layer mean squares)`` rows on the Fig. 1(c) grid's data."""
  config = config_lib.load_config(CONFIG)
  dnn = config.dnn
  ds = data.load(
      dataset or dnn.dataset,
      resize=tuple(dnn.resize),
      num_train=num_train or dnn.num_train,
      seed=dnn.data_seed,
  )
  alphas, seeds = tuple(config.grid.alpha), range(config.seeds)
  rows = []
  for init_scheme in INIT_SCHEMES:
    values = mean_squares(ds.x_train, alphas, seeds, init_scheme, dnn.depth, dnn.width)
    rows += [(init_scheme, float(a), v) for a, v in zip(alphas, values)]
  return rows


def main(argv):
  del argv
  text = table(measure(flags.FLAGS.dataset, flags.FLAGS.num_train))
  print(text, end="")
  if flags.FLAGS.out:
    with open(flags.FLAGS.out, "w") as f:
      f.write(text)


if __name__ == "__main__":
  flags.DEFINE_string("out", None, "Markdown file to write (printed either way).")
  flags.DEFINE_string("dataset", None, "Another dataset than the grid's (tests: mnist_embedded).")
  flags.DEFINE_integer("num_train", None, "Another training-set size than the grid's.")
  app.run(main)

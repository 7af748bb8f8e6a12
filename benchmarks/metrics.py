"""Time of the layer separation metrics on a population's features; prints JSON.

Run by hand (not a test)::

  python benchmarks/metrics.py
  python benchmarks/metrics.py --nets=16 --repeats=5

Random class-structured features ``[nets, layers, N, D]`` (default the
paper's full-batch setting: 96 nets, 8 layers, 2560 examples, 100 features,
10 classes), each metric jitted and vmapped over nets and layers; reports the
best of ``--repeats`` interleaved timed calls after one compiling call.
``separation+separation_pinv`` is both metrics in one program;
``separations`` (both from one pass of class sums, with the fallback decided
per population, as the training loop evaluates them) is timed too where it
exists.
"""

import json
import time

from absl import app
from absl import flags
import jax
import numpy as np

from featurespring import metrics

_NETS = flags.DEFINE_integer("nets", 96, "Networks (outer vmap axis).")
_LAYERS = flags.DEFINE_integer("layers", 8, "Layers per net (inner vmap axis).")
_EXAMPLES = flags.DEFINE_integer("examples", 2560, "Examples per layer.")
_DIM = flags.DEFINE_integer("dim", 100, "Features per example.")
_CLASSES = flags.DEFINE_integer("classes", 10, "Classes.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed calls; the best is kept.")


def main(argv):
  del argv
  num_classes = _CLASSES.value
  key_x, key_y, key_m = jax.random.split(jax.random.key(0), 3)
  shape = (_NETS.value, _LAYERS.value, _EXAMPLES.value, _DIM.value)
  labels = jax.random.randint(key_y, shape[2:3], 0, num_classes)
  class_means = jax.random.normal(key_m, (num_classes, shape[3]))
  features = jax.random.normal(key_x, shape) + class_means[labels]
  results = {
      "shape": list(shape),
      "num_classes": num_classes,
      "repeats": _REPEATS.value,
      "backend": jax.default_backend(),
  }
  calls = {
      "separation": lambda f: metrics.separation(f, labels, num_classes),
      "separation_pinv": lambda f: metrics.separation_pinv(f, labels, num_classes),
      # Both in one program, as the training loop evaluated them before
      # `separations`: XLA shares their common subexpressions.
      "separation+separation_pinv": lambda f: (
          metrics.separation(f, labels, num_classes),
          metrics.separation_pinv(f, labels, num_classes),
      ),
  }
  if hasattr(metrics, "separations"):
    # As the training loop calls it: the fallback of the trace separation
    # decided once per vmapped population.
    calls["separations"] = lambda f: metrics.separations(
        f, labels, num_classes, axis_name=("nets", "layers")
    )
  batched = {
      name: jax.jit(jax.vmap(jax.vmap(call, axis_name="layers"), axis_name="nets"))
      for name, call in calls.items()
  }
  for function in batched.values():
    jax.block_until_ready(function(features))
  # Interleaved, so that a slow spell of a shared machine hits all alike.
  seconds = {name: np.inf for name in batched}
  for _ in range(_REPEATS.value):
    for name, function in batched.items():
      start = time.perf_counter()
      jax.block_until_ready(function(features))
      seconds[name] = min(seconds[name], time.perf_counter() - start)
  results["seconds"] = {name: round(t, 4) for name, t in seconds.items()}
  print(json.dumps(results, indent=1))


if __name__ == "__main__":
  app.run(main)

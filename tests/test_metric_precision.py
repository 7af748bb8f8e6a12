"""The matmul precision policy: HIGHEST in the metrics, default in training.

On CPU both precisions give the same float32 products, so the policy is
checked where it is written down, in the programs: every ``dot_general`` of
a metric's jaxpr (including those inside loops and branches) must carry
``Precision.HIGHEST``, and the network's own layers must not (they run at
the default precision, TF32 on recent NVIDIA GPUs).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import metrics
from featurespring import models

NUM_CLASSES = 10
HIGHEST = (jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGHEST)


def dot_precisions(jaxpr):
  """``precision`` of every dot_general in ``jaxpr`` and its sub-jaxprs."""
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "dot_general":
      found.append(eqn.params["precision"])
    for param in eqn.params.values():
      for sub in param if isinstance(param, (tuple, list)) else (param,):
        if isinstance(sub, jax.extend.core.ClosedJaxpr):
          found += dot_precisions(sub.jaxpr)
        elif isinstance(sub, jax.extend.core.Jaxpr):
          found += dot_precisions(sub)
  return found


FEATURES = jnp.ones((40, 12))
LABELS = jnp.arange(40) % NUM_CLASSES
METRICS = {
    "separation": lambda f, y: metrics.separation(f, y, NUM_CLASSES),
    "separation_pinv": lambda f, y: metrics.separation_pinv(f, y, NUM_CLASSES),
    "separations": lambda f, y: metrics.separations(f, y, NUM_CLASSES),
    # As the training loop evaluates them: vmapped over the population.
    "separations_vmapped": jax.vmap(
        lambda f, y: metrics.separations(f, y, NUM_CLASSES, axis_name="nets"),
        in_axes=(0, None),
        axis_name="nets",
    ),
    "regression_load": lambda f, y: metrics.regression_load(f, y.astype(f.dtype)),
}


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_matmuls_run_at_highest_precision(name):
  features = FEATURES[None].repeat(3, 0) if name.endswith("vmapped") else FEATURES
  precisions = dot_precisions(jax.make_jaxpr(METRICS[name])(features, LABELS).jaxpr)
  assert precisions, f"{name}: no matmul found; is the walk still right?"
  assert all(p == HIGHEST for p in precisions), (name, precisions)


def test_network_layers_run_at_default_precision():
  model = models.MLP(depth=2, width=8, num_outputs=NUM_CLASSES)
  x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 12)), jnp.float32)
  variables = model.init(jax.random.key(0), x, 0.0)
  jaxpr = jax.make_jaxpr(lambda v: model.apply(v, x, 0.0, train=False))(variables)
  precisions = dot_precisions(jaxpr.jaxpr)
  assert precisions and all(p is None for p in precisions), precisions

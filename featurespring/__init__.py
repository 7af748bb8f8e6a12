"""featurespring: the spring-block theory of feature learning, runnable at scale.

The theory is Shi, Pan and Dokmanić, "A spring-block theory of feature
learning in deep neural networks" (arXiv:2407.19353); ``docs/theory.md`` of
the repository gives its equations and where each is implemented.

Submodules (import them explicitly; this file stays light so that importing the
package does not pull in Flax or TensorFlow Datasets):

- ``featurespring.springs``: spring-block chains, simulated for whole phase
  diagrams in one jitted scan, and the closed-form theory beside them.
- ``featurespring.metrics``: load-curve metrics shared by chains and networks
  (curvature, spread, layerwise data separation, regression load).
- ``featurespring.data``: MNIST, Fashion-MNIST, CIFAR-10 (local files or
  tfds), an embedded MNIST subset that needs no download, synthetic data.
- ``featurespring.models``: the MLP and CNN of the theory's experiments
  (Flax), per-layer features.
- ``featurespring.train``: populations of networks trained in one jitted
  computation, separation measured inside it; whole grids with
  ``train_grid``.
- ``featurespring.bridge``: chains fitted to networks' load curves and to
  their course over training.
- ``featurespring.sweep``: configs, array tasks, resumable atomic results,
  merges, ``sweep.load``.
- ``featurespring.grids``: a grid's axes <-> one member axis, its chunks.
- ``featurespring.sharding``: the grid (member) axis over devices and hosts.
- ``featurespring.vocabulary``: the one name of every quantity in results.
- ``featurespring.progress``, ``featurespring.summaries``: progress lines, and
  live JSONL / TensorBoard summaries of a running sweep.
- ``featurespring.plotting``: phase diagrams and load-curve figures.
- ``featurespring.analysis``: finished sweeps read back: statistics with
  seed bootstraps, zero crossings, phase tables, a sweep's figures.
- ``featurespring.runtime``: process settings to make before JAX starts.
"""

__version__ = "0.1.0"

from featurespring import runtime as _runtime

# API users (notebooks) get the XLA:CPU setting that avoids the thread-pool
# hang too, not only the entry points; it warns when JAX started first.
_runtime.configure_xla_cpu()

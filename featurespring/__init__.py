"""featurespring: the spring-block theory of feature learning, runnable at scale.

Submodules (import them explicitly; this file stays light so that importing the
package does not pull in Flax or TensorFlow Datasets):

- ``featurespring.springs``: spring-block chains, simulated for whole phase
  diagrams in one jitted scan, and the closed-form theory beside them.
- ``featurespring.metrics``: load-curve metrics shared by chains and networks
  (curvature, spread, layerwise data separation).
"""

__version__ = "0.1.0"

"""The configuration of a spring-block chain (SPEC §3), as one pytree.

Every numeric field may be a scalar or an array; :func:`simulate` broadcasts
them against each other, so a grid of noise x friction x seeds is one config
whose fields have shapes like ``[N, 1, 1]`` and ``[1, M, 1]``. Structural
choices (chain length, dynamics, noise law, generator) are static metadata:
changing them changes the compiled program.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import jax
import numpy as np

DYNAMICS = ("first_order", "second_order", "langevin")
NOISE_DISTS = ("gaussian", "truncated_normal", "uniform")
GENERATORS = ("counter_hash", "threefry")

# (field, lower bound, whether the bound is included, what the field means).
# Checked on concrete values only: under a user's own jit the values are
# tracers and cannot be inspected without forcing a device sync.
_NUMERIC_BOUNDS = (
    ("k", 0.0, False, "spring modulus"),
    ("mu_right", 0.0, True, "friction for rightward motion"),
    ("mu_left", 0.0, True, "friction for leftward motion"),
    ("noise", 0.0, True, "noise level eps"),
    ("dt", 0.0, False, "time step"),
    ("gamma", 0.0, True, "damping"),
    ("noise_decay", 0.0, True, "noise decay rate lambda"),
    ("noise_cut", 0.0, False, "truncation of the normal noise, in std units"),
    ("stop_rtol", 0.0, True, "relative-change stopping threshold (0 = off)"),
)


@dataclasses.dataclass(frozen=True)
class ChainConfig:
  """A spring-block chain, or a broadcastable grid of them.

  Attributes:
    num_blocks: number of blocks L (static; the chain has L + 1 springs).
    k: spring modulus, > 0.
    target: position y of the pulling end (x_{L+1}).
    mu_right: sliding and maximal static friction for rightward motion, >= 0.
    mu_left: the same for leftward motion, >= 0.
    noise: noise level eps >= 0. The force noise is ``eps / sqrt(dt) * xi``
      with unit-variance ``xi``, so that the position noise per unit time is
      independent of dt (SPEC §3); for Langevin dynamics the velocity gets
      ``eps * sqrt(dt) * xi`` per step, the discretised ``eps dW``.
    dt: time step (eta for the first-order model), > 0.
    gamma: linear damping of the second-order and Langevin models, > 0 there
      (ignored by the first-order model).
    noise_decay: lambda in ``eps(t) = eps * exp(-lambda t)``, >= 0.
    noise_dist: law of xi, always rescaled to zero mean and unit variance:
      ``gaussian``; ``truncated_normal`` (a standard normal conditioned on
      ``|z| <= noise_cut``, then divided by its std); ``uniform`` (on
      ``[-sqrt 3, sqrt 3]``).
    noise_cut: truncation point c of ``truncated_normal`` in units of the
      untruncated normal's std, > 0. Ignored by the other laws.
    synchronous: one xi per chain and step shared by all blocks (paper Fig. 4)
      instead of independent noise per block (static).
    dynamics: ``first_order`` (overdamped, the main model), ``second_order``
      (unit masses, friction on the noisy force) or ``langevin`` (friction
      from the velocity before the noise; noise into the velocity).
    stop_rtol: relative-change stopping rule; 0 disables it. A chain stops
      (and stays frozen) once ``|x(t) - x(t - W)| / |x(t)| < stop_rtol`` at a
      check every ``stop_window`` steps.
    stop_window: W, steps between stopping checks (static).
    generator: random-number generator (static). ``counter_hash`` (default)
      draws each chain's noise from a keyed integer hash of (step, block),
      about 10x cheaper than ``threefry`` on CPU and equally reproducible;
      ``threefry`` uses ``jax.random`` and serves as the reference.
  """

  num_blocks: int = 7
  k: Any = 1.0
  target: Any = 1.0
  mu_right: Any = 0.0
  mu_left: Any = 0.0
  noise: Any = 0.0
  dt: Any = 0.05
  gamma: Any = 1.0
  noise_decay: Any = 0.0
  noise_dist: str = "truncated_normal"
  noise_cut: Any = 2.0
  synchronous: bool = False
  dynamics: str = "first_order"
  stop_rtol: Any = 0.0
  stop_window: int = 100
  generator: str = "counter_hash"

  def __post_init__(self):
    self.validate()

  def validate(self) -> "ChainConfig":
    """Raises ValueError naming the first bad field; returns self if none.

    Runs on construction, and again at :func:`simulate`, so bad input fails
    before anything is traced or compiled.
    """
    if (isinstance(self.num_blocks, bool)
        or not isinstance(self.num_blocks, numbers.Integral)
        or self.num_blocks < 1):
      raise ValueError(
          f"ChainConfig.num_blocks must be an integer >= 1, got {self.num_blocks!r}")
    if self.dynamics not in DYNAMICS:
      raise ValueError(f"ChainConfig.dynamics must be one of {DYNAMICS}, "
                       f"got {self.dynamics!r}")
    if self.noise_dist not in NOISE_DISTS:
      raise ValueError(f"ChainConfig.noise_dist must be one of {NOISE_DISTS}, "
                       f"got {self.noise_dist!r}")
    if self.generator not in GENERATORS:
      raise ValueError(f"ChainConfig.generator must be one of {GENERATORS}, "
                       f"got {self.generator!r}")
    if not isinstance(self.synchronous, (bool, np.bool_)):
      raise ValueError(
          f"ChainConfig.synchronous must be a bool, got {self.synchronous!r}")
    if (isinstance(self.stop_window, bool)
        or not isinstance(self.stop_window, numbers.Integral)
        or self.stop_window < 1):
      raise ValueError("ChainConfig.stop_window must be an integer >= 1, "
                       f"got {self.stop_window!r}")
    for name, low, inclusive, meaning in _NUMERIC_BOUNDS:
      value = _concrete(getattr(self, name))
      if value is None:
        continue
      if not np.all(np.isfinite(value)):
        raise ValueError(f"ChainConfig.{name} ({meaning}) must be finite, got {value}")
      bad = value < low if inclusive else value <= low
      if np.any(bad):
        allowed = f">= {low}" if inclusive else f"> {low}"
        raise ValueError(f"ChainConfig.{name} ({meaning}) must be {allowed}, "
                         f"got {_describe(value[bad])}")
    target = _concrete(self.target)
    if target is not None and not np.all(np.isfinite(target)):
      raise ValueError(f"ChainConfig.target must be finite, got {target}")
    if self.dynamics != "first_order":
      gamma = _concrete(self.gamma)
      if gamma is not None and np.any(gamma <= 0):
        raise ValueError(
            f"ChainConfig.gamma (damping) must be > 0 for dynamics="
            f"{self.dynamics!r}: without damping a second-order chain never "
            f"settles; got {_describe(gamma[gamma <= 0])}")
    return self

  @property
  def batch_shape(self) -> tuple[int, ...]:
    """Broadcast shape of all numeric fields: the shape of the grid of chains."""
    return np.broadcast_shapes(*(np.shape(getattr(self, f)) for f in NUMERIC_FIELDS))

  def replace(self, **changes) -> "ChainConfig":
    return dataclasses.replace(self, **changes)


NUMERIC_FIELDS = ("k", "target", "mu_right", "mu_left", "noise", "dt", "gamma",
                  "noise_decay", "noise_cut", "stop_rtol")
STATIC_FIELDS = ("num_blocks", "noise_dist", "synchronous", "dynamics",
                 "stop_window", "generator")

jax.tree_util.register_dataclass(
    ChainConfig, data_fields=list(NUMERIC_FIELDS), meta_fields=list(STATIC_FIELDS))


def _concrete(value):
  """The value as a float64 NumPy array, or None when it cannot be inspected.

  Pytree machinery rebuilds configs with tracers or placeholder objects as
  leaves; those are skipped rather than rejected.
  """
  if isinstance(value, jax.core.Tracer):
    return None
  if isinstance(value, (numbers.Number, np.ndarray, np.generic, jax.Array, list, tuple)):
    try:
      return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
      return None
  return None


def _describe(bad_values: np.ndarray) -> str:
  flat = np.ravel(bad_values)
  shown = ", ".join(f"{v:g}" for v in flat[:3])
  return shown + (f", ... ({flat.size} bad values)" if flat.size > 3 else "")

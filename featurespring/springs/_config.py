"""The configuration of a spring-block chain (docs/theory.md §3), as one pytree.

Every numeric field may be a real scalar or array; :func:`simulate` broadcasts
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

from featurespring.springs import _dynamics

DYNAMICS = ("first_order", "second_order", "langevin")
NOISE_DISTS = ("gaussian", "truncated_normal", "uniform")
GENERATORS = ("counter_hash", "threefry")

# What each numeric field means, for error messages.
_MEANINGS = {
    "k": "spring modulus",
    "target": "position y of the pulled end",
    "mu_right": "friction for rightward motion",
    "mu_left": "friction for leftward motion",
    "noise": "noise level eps",
    "dt": "time step",
    "gamma": "damping",
    "noise_decay": "noise decay rate lambda",
    "noise_cut": "truncation of the normal noise, in std units",
    "stop_rtol": "relative-change stopping threshold (0 = off)",
}

# (field, lower bound, whether the bound is included).
# Checked on concrete values only: under a user's own jit the values are
# tracers and cannot be inspected without forcing a device sync.
_NUMERIC_BOUNDS = (
    ("k", 0.0, False),
    ("mu_right", 0.0, True),
    ("mu_left", 0.0, True),
    ("noise", 0.0, True),
    ("dt", 0.0, False),
    ("gamma", 0.0, True),
    ("noise_decay", 0.0, True),
    ("noise_cut", 0.0, False),
    ("stop_rtol", 0.0, True),
)

# The simulation runs in float32: a value that is finite in float64 may
# overflow there, and a positive one may fall below the smallest normal
# float32, which XLA:CPU flushes to 0 (rsqrt(dt) would then be inf).
_FLOAT32 = np.finfo(np.float32)
_POSITIVE_FIELDS = tuple(name for name, _, inclusive in _NUMERIC_BOUNDS if not inclusive)


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
      independent of dt (docs/theory.md §3); for Langevin dynamics the velocity gets
      ``eps * sqrt(dt) * xi`` per step, the discretised ``eps dW``.
    dt: time step (eta for the first-order model), > 0. With k it must keep
      the explicit step stable: ``k dt < 2 / lambda_max`` for the first-order
      model, ``k dt^2 < 2 / lambda_max`` for the inertial ones, where
      ``lambda_max = 4 sin^2(pi L / (2 (L + 1))) < 4`` (so ``k dt < 1/2``,
      resp. ``k dt^2 < 1/2``, is always enough).
    gamma: linear damping of the second-order and Langevin models, > 0 there
      (ignored by the first-order model).
    noise_decay: lambda in ``eps(t) = eps * exp(-lambda t)``, >= 0.
    noise_dist: law of xi, always rescaled to zero mean and unit variance:
      ``gaussian``; ``truncated_normal`` (a standard normal conditioned on
      ``|z| <= noise_cut``, then divided by its std); ``uniform`` (on
      ``[-sqrt 3, sqrt 3]``).
    noise_cut: truncation point c of ``truncated_normal`` in units of the
      untruncated normal's std, > 0. Ignored by the other laws.
    synchronous: one xi per chain and step shared by all blocks (noise shared across layers, as a network's is)
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
    before anything is traced or compiled. Checked, on every value of a
    grid at once: types (numeric fields are real numbers or real arrays),
    that the fields broadcast together, ranges, that the float32 values the
    simulation uses are finite and normal (with the noise scale per step),
    and that ``k`` and ``dt`` keep the time step stable (see
    ``_dynamics.STABILITY_NUMBERS`` for the bound of each dynamics).
    """
    if (
        isinstance(self.num_blocks, bool)
        or not isinstance(self.num_blocks, numbers.Integral)
        or self.num_blocks < 1
    ):
      raise ValueError(f"ChainConfig.num_blocks must be an integer >= 1, got {self.num_blocks!r}")
    if self.dynamics not in DYNAMICS:
      raise ValueError(f"ChainConfig.dynamics must be one of {DYNAMICS}, " f"got {self.dynamics!r}")
    if self.noise_dist not in NOISE_DISTS:
      raise ValueError(
          f"ChainConfig.noise_dist must be one of {NOISE_DISTS}, " f"got {self.noise_dist!r}"
      )
    if self.generator not in GENERATORS:
      raise ValueError(
          f"ChainConfig.generator must be one of {GENERATORS}, " f"got {self.generator!r}"
      )
    if not isinstance(self.synchronous, (bool, np.bool_)):
      raise ValueError(f"ChainConfig.synchronous must be a bool, got {self.synchronous!r}")
    if (
        isinstance(self.stop_window, bool)
        or not isinstance(self.stop_window, numbers.Integral)
        or self.stop_window < 1
    ):
      raise ValueError(
          "ChainConfig.stop_window must be an integer >= 1, " f"got {self.stop_window!r}"
      )
    values = {name: _concrete(name, getattr(self, name)) for name in NUMERIC_FIELDS}
    _check_broadcast(self, values)
    for name, value in values.items():
      if value is not None and not np.all(np.isfinite(value)):
        raise ValueError(
            f"ChainConfig.{name} ({_MEANINGS[name]}) must be finite, "
            f"got {_describe(value[~np.isfinite(value)])}"
        )
    for name, low, inclusive in _NUMERIC_BOUNDS:
      value = values[name]
      if value is None:
        continue
      bad = value < low if inclusive else value <= low
      if np.any(bad):
        allowed = f">= {low}" if inclusive else f"> {low}"
        raise ValueError(
            f"ChainConfig.{name} ({_MEANINGS[name]}) must be {allowed}, "
            f"got {_describe(value[bad])}"
        )
    if self.dynamics != "first_order":
      gamma = values["gamma"]
      if gamma is not None and np.any(gamma <= 0):
        raise ValueError(
            f"ChainConfig.gamma (damping) must be > 0 for dynamics="
            f"{self.dynamics!r}: without damping a second-order chain never "
            f"settles; got {_describe(gamma[gamma <= 0])}"
        )
    _check_float32(values, self.dynamics)
    _check_stability(values, self.dynamics, self.num_blocks)
    return self

  @property
  def batch_shape(self) -> tuple[int, ...]:
    """Broadcast shape of all numeric fields: the shape of the grid of chains."""
    return np.broadcast_shapes(*(np.shape(getattr(self, f)) for f in NUMERIC_FIELDS))

  def replace(self, **changes) -> "ChainConfig":
    return dataclasses.replace(self, **changes)


NUMERIC_FIELDS = (
    "k",
    "target",
    "mu_right",
    "mu_left",
    "noise",
    "dt",
    "gamma",
    "noise_decay",
    "noise_cut",
    "stop_rtol",
)
STATIC_FIELDS = ("num_blocks", "noise_dist", "synchronous", "dynamics", "stop_window", "generator")

jax.tree_util.register_dataclass(
    ChainConfig, data_fields=list(NUMERIC_FIELDS), meta_fields=list(STATIC_FIELDS)
)


def _concrete(name, value):
  """The value as a float64 NumPy array, or None when it cannot be inspected.

  Pytree machinery rebuilds configs with tracers or placeholder objects
  (``None``, ``PartitionSpec``, ...) as leaves, and arrays of a multi-host
  sweep span devices this process cannot read; those are skipped rather than
  rejected. What a user may mean as a number but is not a real one (a
  string, a bool, a complex number, an array of those or of objects) is
  rejected naming the field.
  """
  if isinstance(value, jax.core.Tracer):
    return None
  if isinstance(value, jax.Array) and not value.is_fully_addressable:
    # Spans other hosts' devices (a multi-host sweep): this process cannot
    # read it; the sweep checked the same values on the host before sharding.
    return None
  if isinstance(value, (str, bytes, bool, np.bool_, complex, np.complexfloating)):
    raise ValueError(
        f"ChainConfig.{name} ({_MEANINGS[name]}) must be a real number or "
        f"an array of them, got {type(value).__name__} {value!r}"
    )
  if isinstance(value, numbers.Real):
    return np.asarray(value, dtype=np.float64)
  if type(value) in (list, tuple):
    leaves = jax.tree_util.tree_leaves(value)
    if not leaves or not all(map(_is_literal, leaves)):
      return None  # a list rebuilt with tracers or placeholders
  if isinstance(value, (np.ndarray, np.generic, jax.Array)) or type(value) in (list, tuple):
    try:
      array = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nested lists
      raise ValueError(
          f"ChainConfig.{name} ({_MEANINGS[name]}) must be a real number or "
          f"an array of them, got {_short_repr(value)} ({err})"
      ) from err
    if array.dtype.kind not in "iuf":
      raise ValueError(
          f"ChainConfig.{name} ({_MEANINGS[name]}) must be a real number or "
          f"an array of them, got an array of dtype {array.dtype}: "
          f"{_short_repr(value)}"
      )
    return array.astype(np.float64)
  return None


def _is_literal(leaf):
  """Whether ``leaf`` is a value a user wrote (as opposed to a tracer or placeholder)."""
  return isinstance(leaf, (numbers.Number, str, bytes, np.ndarray, np.generic)) or (
      isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer)
  )


def _short_repr(value, limit=80):
  text = repr(value)
  return text if len(text) <= limit else text[:limit] + "..."


def _check_broadcast(config, values):
  """Raises ValueError naming the fields whose shapes do not broadcast.

  Uses the concrete values, and the shapes of traced ones.
  """
  shapes = {}
  for name in NUMERIC_FIELDS:
    value = getattr(config, name)
    if values[name] is not None:
      shape = values[name].shape
    elif isinstance(value, jax.core.Tracer):
      shape = tuple(value.shape)
    else:
      continue
    try:
      np.broadcast_shapes(*shapes.values(), shape)
    except ValueError:
      others = ", ".join(f"{other} {s}" for other, s in shapes.items() if s)
      raise ValueError(
          f"ChainConfig.{name} has shape {shape}, which does not broadcast with the "
          f"other array fields ({others}); numeric fields must broadcast to one grid "
          "shape, e.g. [N, 1] against [1, M]"
      ) from None
    shapes[name] = shape


def _check_float32(values, dynamics):
  """Raises ValueError if a field, or the noise per step, is not a normal float32."""
  with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
    singles = {
        name: None if value is None else value.astype(np.float32) for name, value in values.items()
    }
    for name, single in singles.items():
      if single is None:
        continue
      if not np.all(np.isfinite(single)):
        raise ValueError(
            f"ChainConfig.{name} ({_MEANINGS[name]}) overflows float32, the simulation's "
            f"precision (largest {_FLOAT32.max:.4g}): got "
            f"{_describe(values[name][~np.isfinite(single)])}"
        )
      if name not in _POSITIVE_FIELDS:
        continue  # a subnormal acting as 0 is harmless where 0 is allowed
      tiny = np.abs(single) < _FLOAT32.tiny
      if np.any(tiny):
        raise ValueError(
            f"ChainConfig.{name} ({_MEANINGS[name]}) underflows float32, the simulation's "
            f"precision (smallest normal {_FLOAT32.tiny:.4g}, smaller values act as 0): "
            f"got {_describe(values[name][tiny])}"
        )
    noise, dt = singles["noise"], singles["dt"]
    if noise is None or dt is None:
      return
    # The per-step noise amplitudes of the step functions in _dynamics.
    if dynamics == "langevin":
      label, scale = "noise * sqrt(dt) (velocity noise per step)", noise * np.sqrt(dt)
    else:
      label, scale = "noise / sqrt(dt) (force noise scale eps_bar)", noise / np.sqrt(dt)
    bad = ~np.isfinite(scale)
    if np.any(bad):
      noise64, dt64 = np.broadcast_arrays(values["noise"], values["dt"])
      raise ValueError(
          f"ChainConfig {label} overflows float32 (largest {_FLOAT32.max:.4g}): "
          f"got noise={_describe(noise64[bad])}, dt={_describe(dt64[bad])}"
      )


def _check_stability(values, dynamics, num_blocks):
  """Raises ValueError at the grid points where k and dt make the step unstable."""
  k, dt = values["k"], values["dt"]
  if k is None or dt is None:
    return
  k, dt = np.broadcast_arrays(k, dt)
  label, _ = _dynamics.STABILITY_NUMBERS[dynamics]
  number = _dynamics.stability_number(dynamics, k, dt)
  limit = _dynamics.stability_limit(num_blocks)
  bad = number >= limit
  if not np.any(bad):
    return
  examples = ", ".join(f"(k={kk:g}, dt={d:g})" for kk, d in zip(k[bad][:3], dt[bad][:3]))
  raise ValueError(
      f"ChainConfig k and dt make the {dynamics} step unstable at {int(bad.sum())} of "
      f"{bad.size} grid points, e.g. {examples}: it needs {label} < 2 / lambda_max = "
      f"{limit:.4g} for num_blocks={num_blocks} (lambda_max = 4 sin^2(pi L / (2 (L + 1))) "
      f"= {_dynamics.max_stiffness_eigenvalue(num_blocks):.4g}, the largest eigenvalue of "
      f"the stiffness matrix / k), got {label} = {_describe(number[bad])}; lower dt"
  )


def _describe(bad_values: np.ndarray) -> str:
  flat = np.ravel(bad_values)
  shown = ", ".join(f"{v:g}" for v in flat[:3])
  return shown + (f", ... ({flat.size} bad values)" if flat.size > 3 else "")

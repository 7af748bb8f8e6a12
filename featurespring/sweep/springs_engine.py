"""The spring-block chain as a sweep engine (docs/theory.md §3).

Fields of ``config.springs`` are those of :class:`featurespring.springs.ChainConfig`
with friction given as ``mu`` (rightward, ``mu_r``) and ``mu_ratio``
(``mu_l = mu_ratio * mu``, the paper's fixed ratio > 1) or ``mu_left``
(``mu_l`` itself, for ``mu_r = 0 < mu_l`` leftward friction only), plus the run length
``num_steps``, ``record_every`` (0: no trajectory) and the speed knob ``unroll``.

Outputs per chain: ``load_curve``, ``positions``, ``curvature``, ``spread``,
``stop_step``, ``diverged`` (the chain went non-finite; its load curve and
metrics are NaN), the closed-form ``theory/*`` and, with ``record_every``,
``history/load_curve`` with its snapshots' ``history/time`` and
``history/step`` (names of `featurespring.vocabulary`).

A unit is about a hundredth of a run (``springs.advance`` over a segment of
steps, in whole snapshot intervals), so a chunk reports progress and
checkpoints (``config.checkpoint_every`` units) while it runs, and a killed
sweep resumes inside the chunk; a run split into calls equals one call bit
for bit. A sweep over ``num_steps`` or ``record_every`` runs each chain as
one unit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from featurespring import metrics
from featurespring import schema
from featurespring import springs
from featurespring.sweep import engine as engine_lib
from featurespring import grids as grid_lib
from featurespring import sharding
from featurespring import summaries

# Units (segments of steps) per chain run: progress lines and checkpoints.
_UNITS_PER_RUN = 100


@dataclasses.dataclass(frozen=True)
class ChainRun:
  """The settings of a swept chain run that ``springs.ChainConfig`` lacks.

  Friction is swept as ``mu`` and ``mu_ratio``, the paper's parametrisation
  with a fixed ratio, rather than as ``ChainConfig.mu_right`` / ``mu_left``.
  A ratio cannot express ``mu_r = 0 < mu_l`` (leftward friction only), so ``mu_left``
  sets ``mu_l`` directly when given.

  Attributes:
    mu: mu_r, friction for rightward motion (mu_l = mu_ratio * mu), >= 0.
    mu_ratio: mu_l / mu_r (> 1: noise drives concave -> convex), >= 0.
      Ignored when mu_left is set.
    mu_left: mu_l, friction for leftward motion (None: mu_ratio * mu), >= 0.
      Set, it holds whatever mu is (mu = 0 < mu_left: leftward friction only).
    num_steps: time steps per chain.
    record_every: snapshot the load curve every n steps (0: never).
    unroll: time steps per scan iteration (1 measured fastest on CPU).
  """

  mu: float = 0.02
  mu_ratio: float = 2.0
  mu_left: Optional[float] = None
  num_steps: int = 20_000
  record_every: int = 0
  unroll: int = 1


# ChainConfig fields that the sweep sets through ChainRun's mu and mu_ratio.
_FRICTION_FIELDS = ("mu_right", "mu_left")


def settings() -> list[schema.Setting]:
  """Every ``config.springs`` field: ``ChainConfig``'s, then ``ChainRun``'s."""
  return schema.dataclass_settings(
      springs.ChainConfig, exclude=_FRICTION_FIELDS
  ) + schema.dataclass_settings(ChainRun)


def default_config() -> ml_collections.ConfigDict:
  """``config.springs`` defaults: a first-order chain, ``mu_l = 2 mu``."""
  return schema.to_config(settings())


_CHAIN_FIELDS = tuple(
    f.name for f in dataclasses.fields(springs.ChainConfig) if f.name not in _FRICTION_FIELDS
)


class SpringsEngine(engine_lib.Engine):
  """Spring-block chains, one per member, simulated in one jitted scan."""

  name = "springs"
  unit_name = "segment"
  member_name = "chain"
  default_plot_y = "mu"
  static_fields = ("num_blocks", "stop_window", "num_steps", "record_every", "unroll")

  @classmethod
  def settings(cls):
    return settings()

  @classmethod
  def output_dims(cls, key, trailing_ndim):
    names = {
        "history/load_curve": ("time", "layer"),
        "history/time": ("time",),
        "history/step": ("time",),
        "positions": ("block",),
    }
    return names.get(key, ("layer",))[:trailing_ndim]

  @classmethod
  def runlocal(cls, config):
    """Chains of 500 steps."""
    config.springs.num_steps = 500
    config.springs.record_every = 100 if config.springs.record_every else 0
    config.springs.unroll = 1
    return config

  @classmethod
  def validate(cls, config, grid):
    super().validate(config, grid)
    c = config.springs
    for field in ("num_steps", "num_blocks", "unroll"):
      if int(c[field]) < 1:
        raise ValueError(f"config.springs.{field} must be >= 1, got {c[field]}")
    if int(c.record_every) < 0:
      raise ValueError(f"config.springs.record_every must be >= 0, got {c.record_every}")
    # Swept values from the points, so that zipped axes are checked too.
    points = grid.points(np.arange(grid.size))
    for name in ("mu", "mu_ratio", "mu_left"):
      values = points[name] if name in points else np.asarray([c[name]], np.float64)
      if name == "mu_left" and name not in points and c[name] is None:
        continue  # unset: mu_l = mu_ratio * mu
      if np.min(values) < 0:
        raise ValueError(
            f"config.springs.{name} (friction) must be >= 0, got {np.unique(values).tolist()}"
        )
    # ChainConfig checks every other field's type and range, and the step's
    # stability (with the field's name) on all swept values at once, and each
    # static value separately; check_run_args bounds the run length.
    static = cls.static_fields_of(config)
    numeric = {f: v for f, v in points.items() if f not in static}
    for fields in cls.static_groups(config, grid):
      cls._chain_config(fields, numeric)
      springs.check_run_args(
          int(fields.num_steps), int(fields.record_every) or None, int(fields.unroll)
      )

  @staticmethod
  def _chain_config(c, points) -> springs.ChainConfig:
    value = lambda f: points[f] if f in points else c[f]
    mu, mu_left = value("mu"), value("mu_left")
    return springs.ChainConfig(
        mu_right=mu,
        mu_left=value("mu_ratio") * mu if mu_left is None else mu_left,
        **{f: value(f) for f in _CHAIN_FIELDS},
    )

  @classmethod
  def _segment(cls, config) -> int:
    """Steps per unit: about 1/100 of the run, whole snapshot intervals."""
    c = config.springs
    steps, record = int(c.num_steps), int(c.record_every)
    if {"num_steps", "record_every"} & set(config.grid.keys()):
      return steps  # runs of different lengths in one sweep: one unit each
    segment = -(-steps // _UNITS_PER_RUN)
    return -(-segment // record) * record if record else segment

  @classmethod
  def num_units(cls, config):
    return -(-int(config.springs.num_steps) // cls._segment(config))

  def init(self, points: Mapping[str, jax.Array]):
    c = self._fields()
    keys = jax.vmap(jax.random.key)(points[grid_lib.SEED_AXIS])
    chain = self._chain_config(c, points)
    state = {
        "points": dict(points),
        "keys": keys,
        "chain": springs.init_state(chain, keys, int(c.num_steps)),
    }
    if int(c.record_every):
      # Snapshot 0 is the chains at rest (d_l = y); the others are written
      # as the run advances, so a checkpoint holds the trajectory so far.
      shape = (len(keys), int(c.num_steps) // int(c.record_every) + 1, int(c.num_blocks) + 1)
      target = jnp.broadcast_to(jnp.asarray(chain.target, jnp.float32), (len(keys),))
      state["trajectory"] = jnp.full(shape, jnp.nan, jnp.float32).at[:, 0].set(target[:, None])
    return state

  def _fields(self) -> ml_collections.ConfigDict:
    """``config.springs`` with this engine's static values filled in."""
    c = ml_collections.ConfigDict(self.config.springs.to_dict())
    c.update(self.static)
    return c

  def advance(self, state, num_units):
    c = self._fields()
    chain = self._chain_config(c, state["points"])
    start = int(state["chain"].step)
    stop = min(
        start + int(num_units) * self._segment(self.with_static(self.config, self.static)),
        int(c.num_steps),
    )
    record = int(c.record_every) or None
    chain_state, snapshots = springs.advance(
        chain,
        state["keys"],
        state["chain"],
        stop - start,
        record_every=record,
        unroll=int(c.unroll),
    )
    state = {**state, "chain": chain_state}
    if snapshots is not None and snapshots.shape[1]:
      state["trajectory"] = jax.lax.dynamic_update_slice_in_dim(
          state["trajectory"], snapshots, 1 + start // record, axis=1
      )
    return state

  def scalars(self, state, num_members, start, end):
    """After the segment: quantiles of the chains' current curvature, fraction diverged."""
    c = self._fields()
    chain = self._chain_config(c, state["points"])
    now = springs.result(chain, state["chain"], (len(state["keys"]),))
    diverged = sharding.to_host(now.diverged)[:num_members].astype(bool)
    curvature = np.asarray(metrics.curvature(sharding.to_host(now.load_curve)[:num_members]))
    scalars = {"diverged/fraction": float(diverged.mean())}
    scalars.update(summaries.quantiles("curvature", curvature, ~diverged))
    return [(end, scalars)]

  def finalize(self, state):
    c = self._fields()
    chain = self._chain_config(c, state["points"])
    num_members = len(state["keys"])
    result = springs.result(chain, state["chain"], (num_members,))
    outputs = {
        "load_curve": result.load_curve,
        "positions": result.positions,
        "curvature": metrics.curvature(result.load_curve),
        "spread": metrics.spread(result.load_curve),
        "stop_step": result.stop_step,
        "diverged": result.diverged,
    }
    outputs.update(self._theory(chain, result.load_curve.shape[0]))
    if "trajectory" in state:
      steps = np.arange(state["trajectory"].shape[1]) * int(c.record_every)
      # Times of the first chain's dt, as springs.simulate reports them.
      dt = np.float32(np.ravel(sharding.to_host(jnp.asarray(chain.dt)))[0])
      outputs["history/load_curve"] = state["trajectory"]
      outputs["history/time"] = np.broadcast_to(
          steps.astype(np.float32) * dt, (num_members, len(steps))
      )
      outputs["history/step"] = np.broadcast_to(steps.astype(np.int32), (num_members, len(steps)))
    return outputs

  def _theory(self, chain, num_members):
    """Closed-form load curve with the effective friction (host NumPy, float64).

    Exact for bounded noise; for Gaussian noise, the finite-horizon theory
    over the run's ``num_steps`` draws (see ``springs.effective_friction``).
    """
    host = {
        f: np.broadcast_to(sharding.to_host(jnp.asarray(getattr(chain, f))), (num_members,))
        for f in ("mu_right", "mu_left", "noise", "dt", "noise_cut", "target", "k")
    }
    horizon = int(self._fields().num_steps) if chain.noise_dist == "gaussian" else None
    mu_eff = springs.effective_friction(
        host["mu_right"],
        host["mu_left"],
        host["noise"],
        host["dt"],
        chain.noise_dist,
        host["noise_cut"],
        horizon=horizon,
    )
    theory = springs.equilibrium_load_curve(chain.num_blocks, host["target"], host["k"], mu_eff)
    return {
        "theory/mu_eff": mu_eff,
        "theory/load_curve": theory,
        "theory/curvature": np.asarray(metrics.curvature(theory)),
    }

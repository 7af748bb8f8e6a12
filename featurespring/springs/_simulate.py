"""Simulate a whole grid of spring-block chains in one jitted ``lax.scan``.

All chains advance together: the config's fields broadcast to a batch shape,
which is flattened to one chain axis B inside the jitted program. Time runs
in a scan whose only outputs are the optional strided snapshots, so memory
does not grow with ``num_steps``. Inputs sharded along their leading axis
stay sharded (the program has no cross-chain reductions), so a grid spreads
over devices by passing sharded config arrays or keys.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from featurespring import metrics as metrics_lib
from featurespring.springs import _config
from featurespring.springs import _dynamics
from featurespring.springs import _noise


@dataclasses.dataclass(frozen=True)
class SimulationResult:
  """What :func:`simulate` returns; grid axes come first everywhere.

  Attributes:
    load_curve: ``[*batch, L+1]`` final load curve ``d_l = y - x_l`` (``d_0 = y``).
    positions: ``[*batch, L]`` final block positions.
    velocities: ``[*batch, L]`` final velocities (zeros for first-order).
    stop_step: ``[*batch]`` int32, the step at which the stopping rule froze
      the chain, or ``num_steps`` if it never fired (or is off).
    diverged: ``[*batch]`` bool, the chain's state went non-finite (overflow
      to inf, then NaN) at some step; its positions stay non-finite from
      then on. Each chain's flag depends on that chain alone.
    trajectory: ``[*batch, T, L+1]`` load curves at ``times``, or None.
    times: ``[T]`` physical times of the trajectory snapshots (step * dt for
      the first chain's dt; steps are shared by all chains), or None.
    steps: ``[T]`` step indices of the snapshots, or None.
  """

  load_curve: jax.Array
  positions: jax.Array
  velocities: jax.Array
  stop_step: jax.Array
  diverged: jax.Array
  trajectory: Optional[jax.Array] = None
  times: Optional[jax.Array] = None
  steps: Optional[jax.Array] = None

  # Vocabulary names (featurespring.vocabulary) of the fields, as sweeps name them.
  _NAMES = {
      "history/load_curve": "trajectory",
      "history/time": "times",
      "history/step": "steps",
  }

  def __getitem__(self, name: str):
    """A result by its vocabulary name, as in a sweep: ``load_curve``,
    ``curvature``, ``history/load_curve`` (the trajectory), ``history/time`` ..."""
    if name in ("curvature", "spread"):
      return getattr(metrics_lib, name)(self.load_curve)
    field = self._NAMES.get(name, name)
    if field not in self.__dataclass_fields__ or (value := getattr(self, field)) is None:
      raise KeyError(f"{name!r} is not in this result (histories need record_every)")
    return value

  def to_xarray(self, dims=None, coords=None):
    """An ``xarray.Dataset`` named like ``sweep.load`` of a chain sweep.

    Args:
      dims: names of the batch (grid) axes, e.g. ``("mu", "noise", "seed")``;
        default ``dim_0, dim_1, ...``.
      coords: optional values along them, ``{name: values}``.

    Returns:
      ``load_curve``, ``positions``, ``velocities``, ``curvature``,
      ``spread``, ``stop_step``, ``diverged`` and, with a trajectory,
      ``history/load_curve`` over ``time`` (with ``step`` beside it).
    """
    import xarray as xr  # pylint: disable=g-import-not-at-top

    batch = np.shape(self.diverged)
    dims = tuple(dims) if dims is not None else tuple(f"dim_{i}" for i in range(len(batch)))
    if len(dims) != len(batch):
      raise ValueError(f"dims names {len(dims)} axes; the result has {len(batch)}: {batch}")
    host = lambda a: np.asarray(a)
    data_vars = {
        "load_curve": (dims + ("layer",), host(self.load_curve)),
        "positions": (dims + ("block",), host(self.positions)),
        "velocities": (dims + ("block",), host(self.velocities)),
        "curvature": (dims, host(self["curvature"])),
        "spread": (dims, host(self["spread"])),
        "stop_step": (dims, host(self.stop_step)),
        "diverged": (dims, host(self.diverged)),
    }
    all_coords = dict(coords or {})
    all_coords["layer"] = np.arange(np.shape(self.load_curve)[-1])
    if self.trajectory is not None:
      data_vars["history/load_curve"] = (dims + ("time", "layer"), host(self.trajectory))
      all_coords["time"] = host(self.times)
      all_coords["step"] = ("time", host(self.steps))
    return xr.Dataset(data_vars, coords=all_coords)


jax.tree_util.register_dataclass(
    SimulationResult,
    data_fields=[
        "load_curve",
        "positions",
        "velocities",
        "stop_step",
        "diverged",
        "trajectory",
        "times",
        "steps",
    ],
    meta_fields=[],
)


# The scan's step counter (and stop_step) is int32.
MAX_NUM_STEPS = int(np.iinfo(np.int32).max)


def check_run_args(num_steps, record_every=None, unroll=1) -> None:
  """Raises ValueError naming the first bad run-length argument of :func:`simulate`."""
  for name, value, low, optional in (
      ("num_steps", num_steps, 0, False),
      ("record_every", record_every, 1, True),
      ("unroll", unroll, 1, False),
  ):
    if optional and value is None:
      continue
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not low <= value <= MAX_NUM_STEPS
    ):
      allowed = "None or an integer" if optional else "an integer"
      raise ValueError(
          f"{name} must be {allowed} in [{low}, 2**31 - 1 = {MAX_NUM_STEPS}] (the "
          f"scan's step counter is int32), got {value!r}"
      )


def _key_batch_shape(key) -> tuple[int, ...]:
  """The batch shape of ``key``; raises ValueError if it is not a key (array)."""
  allowed = (
      "a jax.random.key(seed), an array of such keys, or legacy uint32 "
      "jax.random.PRNGKey data of shape [..., 2]"
  )
  if not isinstance(key, (jax.Array, np.ndarray)):
    hint = (
        f"; for a seed, pass jax.random.key({key})"
        if isinstance(key, numbers.Integral) and not isinstance(key, bool)
        else ""
    )
    raise ValueError(
        f"key must be {allowed}, got {type(key).__name__} " f"{_config._short_repr(key)}{hint}"
    )
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    return tuple(key.shape)
  if key.dtype == np.uint32 and key.shape[-1:] == (2,):
    return tuple(key.shape[:-1])
  raise ValueError(f"key must be {allowed}, got dtype {key.dtype} and shape {key.shape}")


@dataclasses.dataclass(frozen=True)
class ChainState:
  """Where a batch of chains stands between calls of :func:`advance`.

  The chain axis B is flat (the grid's batch shape flattened, C order) and
  blocks come first, as inside the scan.

  Attributes:
    positions: ``[L, B]`` block positions.
    velocities: ``[L, B]`` velocities (zeros for first-order dynamics).
    reference: ``[L, B]`` positions at the last stopping-rule check.
    stopped: ``[B]`` frozen by the stopping rule.
    stop_step: ``[B]`` int32 step at which it froze, else the run's length.
    step: ``[]`` int32 steps taken so far; the noise of step ``s`` is a
      function of ``(key, s)``, so a run split into calls equals one call.
  """

  positions: jax.Array
  velocities: jax.Array
  reference: jax.Array
  stopped: jax.Array
  stop_step: jax.Array
  step: jax.Array


jax.tree_util.register_dataclass(
    ChainState,
    data_fields=["positions", "velocities", "reference", "stopped", "stop_step", "step"],
    meta_fields=[],
)


def _batch_shape(config: _config.ChainConfig, key) -> tuple[int, ...]:
  key_batch_shape = _key_batch_shape(key)
  try:
    return tuple(np.broadcast_shapes(config.batch_shape, key_batch_shape))
  except ValueError as err:
    raise ValueError(
        f"key has batch shape {key_batch_shape}, which does not broadcast with the "
        f"config's batch shape {config.batch_shape}: pass one key (split over the grid) or "
        "keys whose shape broadcasts with it (e.g. a trailing seed axis)"
    ) from err


def init_state(config: _config.ChainConfig, key, num_steps: int) -> ChainState:
  """Chains at rest at 0, for a run of ``num_steps`` steps in all.

  Args:
    config: the chains (see :func:`simulate`).
    key: their key or keys (see :func:`simulate`); sets the batch shape.
    num_steps: the whole run's length: ``stop_step`` of a chain that never
      stops.
  """
  config.validate()
  check_run_args(num_steps)
  num_chains = int(np.prod(_batch_shape(config, key)))
  zeros = jnp.zeros((config.num_blocks, num_chains), jnp.float32)
  return ChainState(
      zeros,
      zeros,
      zeros,
      jnp.zeros(num_chains, bool),
      jnp.full(num_chains, num_steps, jnp.int32),
      jnp.zeros((), jnp.int32),
  )


def advance(
    config: _config.ChainConfig,
    key,
    state: ChainState,
    num_steps: int,
    record_every: Optional[int] = None,
    *,
    unroll: int = 1,
) -> tuple[ChainState, Optional[jax.Array]]:
  """``num_steps`` more steps of every chain in ``state``.

  Running ``a`` then ``b`` steps gives the same numbers as ``a + b`` (the
  noise is keyed by the absolute step), which is what lets a sweep
  checkpoint a chunk of chains between calls and resume it exactly.

  Args:
    config, key, unroll: as for :func:`simulate` (the same in every call).
    state: from :func:`init_state` or a previous call.
    num_steps: steps to take in this call.
    record_every: snapshot the load curve every this many steps, counted
      from this call's first step (calls that start at a multiple of it keep
      one global grid of snapshot times).

  Returns:
    The new state, and the load-curve snapshots ``[*batch, T, L+1]`` after
    each ``record_every`` steps of this call (``T = num_steps //
    record_every``), or None without ``record_every``.
  """
  config.validate()
  check_run_args(num_steps, record_every, unroll)
  batch_shape = _batch_shape(config, key)
  # Freezing stopped chains costs two selects per block-step; skip them when
  # the rule is certainly off.
  stop_rtol = _config._concrete("stop_rtol", config.stop_rtol)
  use_stop = stop_rtol is None or bool(np.any(stop_rtol > 0))
  numeric = {
      name: jnp.asarray(getattr(config, name), dtype=jnp.float32) for name in _config.NUMERIC_FIELDS
  }
  return _advance_jit(
      numeric,
      jnp.asarray(key),
      state,
      batch_shape=batch_shape,
      num_blocks=config.num_blocks,
      dynamics=config.dynamics,
      noise_dist=config.noise_dist,
      synchronous=bool(config.synchronous),
      generator=config.generator,
      stop_window=config.stop_window,
      use_stop=use_stop,
      num_steps=int(num_steps),
      record_every=None if record_every is None else int(record_every),
      unroll=int(unroll),
  )


def result(config: _config.ChainConfig, state: ChainState, batch_shape) -> SimulationResult:
  """The :class:`SimulationResult` of ``state`` (without a trajectory)."""
  return _result_jit(jnp.asarray(config.target, jnp.float32), state, batch_shape=tuple(batch_shape))


def simulate(
    config: _config.ChainConfig,
    key,
    num_steps: int,
    record_every: Optional[int] = None,
    *,
    unroll: int = 1,
) -> SimulationResult:
  """Simulates every chain of ``config`` for ``num_steps`` steps from rest at 0.

  Args:
    config: a :class:`ChainConfig`; its numeric fields broadcast to the batch
      shape of the grid.
    key: a ``jax.random.key``, split over all chains, or an array of keys
      broadcastable to the batch shape (one stream per chain; e.g. a trailing
      seed axis). Chain i of a grid equals a single-chain run with its key.
    num_steps: number of time steps, in ``[0, 2**31 - 1]``.
    record_every: if given, snapshot the load curve every this many steps
      (plus the initial state) into ``trajectory``.
    unroll: time steps per scan iteration (results do not depend on it).
      The default 1 is fastest on CPU: measured here, unrolling 2-8 steps
      made XLA's loop body 5-10x slower.

  Returns:
    A :class:`SimulationResult`. The same as :func:`init_state`, then
    :func:`advance` in any number of calls, then :func:`result`.

  Raises:
    ValueError: naming the argument (or config field) when any is invalid,
      always before anything is compiled.
  """
  check_run_args(num_steps, record_every, unroll)
  state = init_state(config, key, num_steps)
  batch_shape = _batch_shape(config, key)
  state, snapshots = advance(config, key, state, num_steps, record_every, unroll=unroll)
  out = result(config, state, batch_shape)
  if record_every is None:
    return out
  target = jnp.broadcast_to(jnp.asarray(config.target, jnp.float32), batch_shape)
  initial = jnp.broadcast_to(target[..., None, None], batch_shape + (1, config.num_blocks + 1))
  steps = jnp.arange(num_steps // record_every + 1, dtype=jnp.int32) * record_every
  dt = jnp.ravel(jnp.broadcast_to(jnp.asarray(config.dt, jnp.float32), batch_shape))[:1]
  return dataclasses.replace(
      out,
      trajectory=jnp.concatenate([initial, snapshots], axis=-2),
      times=steps.astype(jnp.float32) * dt[0] if dt.size else steps.astype(jnp.float32),
      steps=steps,
  )


@functools.partial(
    jax.jit,
    static_argnames=(
        "batch_shape",
        "num_blocks",
        "dynamics",
        "noise_dist",
        "synchronous",
        "generator",
        "stop_window",
        "use_stop",
        "num_steps",
        "record_every",
        "unroll",
    ),
)
def _advance_jit(
    numeric,
    key,
    state,
    *,
    batch_shape,
    num_blocks,
    dynamics,
    noise_dist,
    synchronous,
    generator,
    stop_window,
    use_stop,
    num_steps,
    record_every,
    unroll,
):
  num_chains = int(np.prod(batch_shape))
  params = _dynamics.ChainParams(
      **{
          name: jnp.broadcast_to(value, batch_shape).reshape(num_chains)
          for name, value in numeric.items()
      }
  )
  if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.wrap_key_data(key)
  words = _noise.chain_keys(key, batch_shape).reshape(2, num_chains)
  step_fn = _dynamics.STEP_FUNCTIONS[dynamics]

  if generator == "counter_hash":

    def draw(step):
      bits = _noise.counter_bits(words, step, num_blocks, synchronous)
      return _noise.unit_noise(bits, noise_dist, params.noise_cut)

  else:

    def draw(step):
      return _noise.threefry_noise(
          words.T, step, num_blocks, synchronous, noise_dist, params.noise_cut
      )

  def one_step(carry, _):
    x, v, x_ref, stopped, stop_step, step = carry
    eps_t = _dynamics.noise_scale(params, step)
    x_new, v_new = step_fn(x, v, draw(step), params, eps_t)
    step = step + 1
    if use_stop:
      x_new = jnp.where(stopped, x, x_new)
      v_new = jnp.where(stopped, v, v_new)
      x_ref, stopped, stop_step = jax.lax.cond(
          step % stop_window == 0,
          functools.partial(_check_stop, params.stop_rtol),
          lambda x_new, x_ref, stopped, stop_step, step: (x_ref, stopped, stop_step),
          x_new,
          x_ref,
          stopped,
          stop_step,
          step,
      )
    return (x_new, v_new, x_ref, stopped, stop_step, step), None

  def run(carry, length):
    if length == 0:
      return carry
    carry, _ = jax.lax.scan(one_step, carry, None, length=length, unroll=min(unroll, length))
    return carry

  carry = (
      state.positions,
      state.velocities,
      state.reference,
      state.stopped,
      state.stop_step,
      state.step,
  )
  trajectory = None
  if record_every is None:
    carry = run(carry, num_steps)
  else:
    num_records = num_steps // record_every

    def record(carry, _):
      carry = run(carry, record_every)
      return carry, carry[0]

    carry, snapshots = jax.lax.scan(record, carry, None, length=num_records)
    carry = run(carry, num_steps - num_records * record_every)
    trajectory = _load_curve(jnp.moveaxis(snapshots, -1, 0), params.target[:, None])
    trajectory = trajectory.reshape(batch_shape + trajectory.shape[1:])
  return ChainState(*carry), trajectory


@functools.partial(jax.jit, static_argnames=("batch_shape",))
def _result_jit(target, state, *, batch_shape):
  x, v = state.positions, state.velocities
  num_blocks = x.shape[0]
  # Checking the final state suffices: a position only ever changes by
  # adding dt * (something), so once inf or NaN it stays non-finite, and a
  # non-finite velocity makes the next position non-finite. That saves a
  # per-step reduction in the hot loop.
  diverged = ~(jnp.all(jnp.isfinite(x), axis=0) & jnp.all(jnp.isfinite(v), axis=0))
  positions = x.T.reshape(batch_shape + (num_blocks,))
  return SimulationResult(
      load_curve=_load_curve(positions, jnp.broadcast_to(target, batch_shape)),
      positions=positions,
      velocities=v.T.reshape(batch_shape + (num_blocks,)),
      stop_step=state.stop_step.reshape(batch_shape),
      diverged=diverged.reshape(batch_shape),
  )


def _check_stop(stop_rtol, x_new, x_ref, stopped, stop_step, step):
  change = jnp.sqrt(jnp.sum((x_new - x_ref) ** 2, axis=0))
  size = jnp.sqrt(jnp.sum(x_new**2, axis=0))
  newly = (~stopped) & (stop_rtol > 0) & (change < stop_rtol * size)
  return x_new, stopped | newly, jnp.where(newly, step, stop_step)


def _load_curve(positions, target):
  """``[..., L] -> [..., L+1]``: ``d_0 = y``, ``d_l = y - x_l``."""
  target = jnp.broadcast_to(target[..., None], positions.shape[:-1] + (1,))
  return jnp.concatenate([target, target - positions], axis=-1)

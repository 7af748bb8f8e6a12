"""Fit a chain's dynamics to a network's load curves over training.

A network's load curve after epoch ``e`` is ``D_l(e)``; a chain started from
rest has load curve ``d_l(t)``. The bridge is a time map ``t = s * e`` (one
scale ``s`` per cell, chain time per epoch) and the same affine map of
separations as :func:`featurespring.bridge.fit_shape`,

    D_l(e) ~ a + b * d_l(s * e),  b > 0,

with ``a``, ``b`` shared by all epochs and layers of a cell (a separation's
units and zero are arbitrary, its change over time is not). The chain has
``k = 1`` and ``y = 1`` without loss of generality: rescaling ``k`` rescales
time and frictions, which ``s`` and the friction grid absorb, and ``y`` is
absorbed by ``b``.

The search uses the simulator itself (``springs.init_state`` / ``advance``):
every candidate chain (a grid over ``mu_right``, ``mu_left`` and the noise
``eps``) is simulated once, and all time scales are read off its recorded
trajectory by linear interpolation at ``t = s * e``, so one simulation serves
every scale. The candidate chains do not depend on the cell, so one bank of
simulations is scored against every cell: the affine fit of each (cell,
chain, scale) is closed form from three sums, which are matrix products over
(epoch, layer). All of it, simulation and scoring of all candidates of all
cells, is one jitted call.

Each candidate's trajectory is the mean over ``chain_seeds`` noise
realisations, the same keys for every candidate (common random numbers, so
candidates differ by their parameters, not by their luck); the networks'
trajectories are typically seed means too.

Recording: the chain is recorded on a geometric time grid (``resolution``
records per doubling of time, every step at first), so early epochs of a
slow (small ``s``) fit are as well resolved as late epochs of a fast one,
with ``resolution * (log2(num_steps / resolution) + 1)`` records in all.

Memory: candidate chains run ``chunk_size`` at a time under ``lax.map``; the
peak is about ``chunk_size * (chain_seeds * R + S * E) * (L + 1) * 4 bytes``
times a small constant for temporaries (``R`` records, ``S`` time scales,
``E`` epochs), plus ``3 * C * N * S * 4 bytes`` of sums for ``C`` cells and
``N`` chains: 64 chains, 4 seeds, R = 705, S = 32, E = 100, L = 7 is ~12 MiB
per chunk and 19 cells x 32768 candidates another 8 MiB.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np
import optax

from featurespring.springs import _config
from featurespring.springs import _dynamics
from featurespring.springs import _noise
from featurespring.springs import _simulate

NOISE_MODES = ("synchronous", "independent")
# Why a cell is not fit; ``DynamicsFit.reason`` holds the index.
REASONS = ("ok", "non_finite", "flat", "no_fit")
OK, NON_FINITE, FLAT, NO_FIT = range(len(REASONS))

MIN_EPOCHS = 3  # the affine map has 2 parameters; 3 finite epochs leave a residual
MAX_CANDIDATES = 10**7
# The noise axis of candidate_grid ends where the noise bound is this many mu_max.
NOISE_TOP_UNITS = 128.0
DEFAULT_CANDIDATES = 32_768
# A cell whose separations vary by less than this (relative to their size)
# over all epochs and layers has nothing for the chain to explain.
FLAT_RTOL = 1e-6


@dataclasses.dataclass(frozen=True)
class CandidateGrid:
  """The candidates of :func:`fit_dynamics`: a product of four 1-D axes.

  Frictions and noise are for the chain with ``k = 1``, ``y = 1``; the time
  scale is chain time per epoch. ``size`` candidates in all; the chains
  simulated are ``mu_right x mu_left x noise`` (time scales cost no
  simulation).
  """

  mu_right: np.ndarray
  mu_left: np.ndarray
  noise: np.ndarray
  time_scale: np.ndarray

  def __post_init__(self):
    for name in ("mu_right", "mu_left", "noise", "time_scale"):
      value = np.asarray(getattr(self, name), np.float64)
      if value.ndim != 1 or value.size == 0:
        raise ValueError(f"CandidateGrid.{name} must be a non-empty 1-D array, got {value.shape}")
      low_ok = value > 0 if name == "time_scale" else value >= 0
      if not np.all(np.isfinite(value) & low_ok):
        allowed = "> 0" if name == "time_scale" else ">= 0"
        raise ValueError(f"CandidateGrid.{name} must be finite and {allowed}, got {value}")
      object.__setattr__(self, name, value)

  @property
  def num_chains(self) -> int:
    return self.mu_right.size * self.mu_left.size * self.noise.size

  @property
  def size(self) -> int:
    return self.num_chains * self.time_scale.size

  def chains(self):
    """``(mu_right, mu_left, noise)``, each ``[num_chains]``, in candidate order."""
    grids = np.meshgrid(self.mu_right, self.mu_left, self.noise, indexing="ij")
    return tuple(g.reshape(-1) for g in grids)


def relaxation_time(num_blocks: int) -> float:
  """Slowest elastic time of the frictionless chain with ``k = 1``: ``1 / lambda_min``."""
  return 1.0 / (4.0 * math.sin(math.pi / (2 * (num_blocks + 1))) ** 2)


def candidate_grid(
    num_blocks: int,
    max_epoch: float,
    num_candidates: int = DEFAULT_CANDIDATES,
    *,
    dt=0.05,
    noise_dist: str = "truncated_normal",
    noise_cut=2.0,
    num_time_scales: int | None = None,
) -> CandidateGrid:
  """The default grid of about ``num_candidates`` candidates (at least that many).

  In units of ``mu_max = 2 / (L (L + 1))`` (above it the shallow blocks of a
  noiseless chain stay stuck): ``mu_right`` in ``[0, 1.5 mu_max]``,
  ``mu_left`` in ``[0, 10 mu_max]``, and noise from 0 to where its bound
  ``b eps / sqrt(dt)`` is ``128 mu_max`` (geometric above 0), so the effective
  friction spans concave through convex. Time scales are geometric such
  that the last epoch falls between 0.3 and 300 relaxation times of the
  chain.

  Raises:
    ValueError: naming the argument if ``num_candidates`` is not an integer
      in ``[16, 10^7]`` or ``num_time_scales`` not in ``[2, num_candidates / 8]``
      (default ``min(32, num_candidates / 8)``).
  """
  _check_int("num_candidates", num_candidates, 16, MAX_CANDIDATES)
  if num_time_scales is None:
    num_time_scales = min(32, num_candidates // 8)
  _check_int("num_time_scales", num_time_scales, 2, max(2, num_candidates // 8))
  _check_int("num_blocks", num_blocks, 2, 10_000)
  num_chains = -(-num_candidates // num_time_scales)
  per_axis = max(2, math.ceil(num_chains ** (1 / 3)))
  # Shrink the noise axis last: the product must stay >= num_chains.
  sizes = [per_axis, per_axis, per_axis]
  for i in (2, 1, 0):
    while sizes[i] > 2 and (sizes[i] - 1) * math.prod(sizes[:i] + sizes[i + 1 :]) >= num_chains:
      sizes[i] -= 1
  mu_max = _mu_max(num_blocks)
  eps_unit = _eps_unit(num_blocks, dt, noise_dist, noise_cut)
  # Wide enough for a dropout row of the default MLP: with mu_left <= 6 mu_max and noise <=
  # 8 units its active cells' best chains sat on the grid's edge, and the
  # gradient refinement walked out to ~7 mu_max and ~9.5 units.
  # Up to 128 units: with 16, the best noise of most cells of a dropout row sat on the
  # axis's upper edge (the trajectory does not pin it there), so the grid, not the data,
  # bounded it.
  noise = np.concatenate([[0.0], eps_unit * np.geomspace(NOISE_TOP_UNITS, 0.1, sizes[2] - 1)[::-1]])
  tau = relaxation_time(num_blocks)
  return CandidateGrid(
      mu_right=mu_max * np.linspace(0.0, 1.5, sizes[0]),
      mu_left=mu_max * np.linspace(0.0, 10.0, sizes[1]),
      noise=noise,
      time_scale=np.geomspace(0.3 * tau, 300.0 * tau, num_time_scales) / float(max_epoch),
  )


def _mu_max(num_blocks):
  return 2.0 / (num_blocks * (num_blocks + 1))


def _eps_unit(num_blocks, dt, noise_dist, noise_cut):
  """Noise whose bound ``b eps / sqrt(dt)`` is ``mu_max``: the unit of the noise axis."""
  bound = float(_noise.noise_bound(noise_dist, noise_cut))
  if not np.isfinite(bound):  # Gaussian: the default truncated law's bound as a unit
    bound = float(_noise.noise_bound("truncated_normal", 2.0))
  return _mu_max(num_blocks) * math.sqrt(float(dt)) / bound


@dataclasses.dataclass(frozen=True)
class DynamicsFit:
  """Per-cell result of :func:`fit_dynamics`; every data field has the grid shape.

  The static fields describe the chains simulated, so that
  :func:`dynamics_chain` and :func:`fitted_trajectory` rebuild the fitted
  chain exactly (same noise keys, same record grid).

  Attributes:
    mu_right, mu_left, noise: the best chain (``k = 1``, ``y = 1``). NaN where
      not valid.
    time_scale: ``s``, chain time per epoch. NaN where not valid.
    scale, offset: ``b > 0`` and ``a`` of ``D ~ a + b d``. NaN where not valid.
    r2: ``1 - SSR / SST`` over all finite (epoch, layer) entries.
    r2_dynamic: ``1 - SSR / SS_time`` with ``SS_time`` the squares about each
      layer's mean over epochs: > 0 iff the chain beats every curve that is
      constant in time (the final shape alone). NaN where not valid.
    candidate: index of the best candidate (chain-major, then time scale);
      -1 where not valid.
    valid: bool.
    reason: int32 index into ``REASONS``.
    num_blocks, dt, synchronous, chain_seeds, seed, noise_dist, noise_cut,
    num_steps, resolution: the chains' static settings.
  """

  mu_right: jax.Array
  mu_left: jax.Array
  noise: jax.Array
  time_scale: jax.Array
  scale: jax.Array
  offset: jax.Array
  r2: jax.Array
  r2_dynamic: jax.Array
  candidate: jax.Array
  valid: jax.Array
  reason: jax.Array
  num_blocks: int = 7
  dt: float = 0.05
  synchronous: bool = True
  chain_seeds: int = 4
  seed: int = 0
  noise_dist: str = "truncated_normal"
  noise_cut: float = 2.0
  num_steps: int = 0
  resolution: int = 64


_DATA_FIELDS = [
    "mu_right",
    "mu_left",
    "noise",
    "time_scale",
    "scale",
    "offset",
    "r2",
    "r2_dynamic",
    "candidate",
    "valid",
    "reason",
]
_META_FIELDS = [
    "num_blocks",
    "dt",
    "synchronous",
    "chain_seeds",
    "seed",
    "noise_dist",
    "noise_cut",
    "num_steps",
    "resolution",
]
jax.tree_util.register_dataclass(DynamicsFit, data_fields=_DATA_FIELDS, meta_fields=_META_FIELDS)


def _check_int(name, value, low, high):
  if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
    raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
  return int(value)


def _check_inputs(trajectories, epochs):
  """``(trajectories [C, E, L+1] float32, grid shape, epochs [E] float64)``; ValueError if bad."""
  if isinstance(trajectories, (str, bytes)):
    raise ValueError(f"trajectories must be a real array [..., E, L+1], got {trajectories!r}")
  try:
    traj = np.asarray(trajectories)
  except (TypeError, ValueError) as err:
    raise ValueError(f"trajectories must be a real array [..., E, L+1] ({err})") from err
  if traj.dtype.kind not in "iuf":
    raise ValueError(f"trajectories must be a real array [..., E, L+1], got dtype {traj.dtype}")
  if traj.ndim < 2:
    raise ValueError(f"trajectories must be [..., E, L+1] (epochs, layers), got {traj.shape}")
  if traj.shape[-2] < MIN_EPOCHS:
    raise ValueError(
        f"trajectories needs at least {MIN_EPOCHS} epochs along axis -2 (the affine map has 2 "
        f"parameters), got shape {traj.shape}"
    )
  if traj.shape[-1] < 3:
    raise ValueError(
        f"trajectories needs at least 3 layers along its last axis (a chain of >= 2 blocks), got "
        f"shape {traj.shape}"
    )
  try:
    times = np.asarray(epochs, np.float64)
  except (TypeError, ValueError) as err:
    raise ValueError(f"epochs must be a real 1-D array of length E ({err})") from err
  if times.shape != (traj.shape[-2],):
    raise ValueError(
        f"epochs must have shape (E,) = ({traj.shape[-2]},) to match trajectories "
        f"{traj.shape}, got {times.shape}"
    )
  if not (np.all(np.isfinite(times)) and np.all(times > 0) and np.all(np.diff(times) > 0)):
    raise ValueError(f"epochs must be finite, > 0 and strictly increasing, got {times}")
  grid_shape = traj.shape[:-2]
  flat = traj.reshape((-1,) + traj.shape[-2:]).astype(np.float64)
  return flat, grid_shape, times


def _record_plan(num_steps: int, resolution: int):
  """Segments ``((steps, record_every), ...)`` and record steps (with 0).

  ``resolution`` records every step first, then ``resolution`` records per
  doubling of the step count: each segment starts at a multiple of its
  record interval, so ``springs.advance`` keeps one exact step grid.
  """
  segments = [(resolution, 1)]
  start = resolution
  while start < num_steps:
    segments.append((start, start // resolution))
    start *= 2
  steps = [0]
  at = 0
  for length, every in segments:
    steps.extend(at + every * np.arange(1, length // every + 1))
    at += length
  return tuple(segments), np.asarray(steps, np.int64)


def _horizon_steps(grid: CandidateGrid, max_epoch: float, dt: float, resolution: int) -> int:
  """Steps to reach the largest time scale's last epoch: ``resolution * 2^n``."""
  needed = float(np.max(grid.time_scale)) * max_epoch / dt
  return resolution * 2 ** max(0, math.ceil(math.log2(max(needed / resolution, 1.0))))


def _prefix_steps(fit: DynamicsFit, largest_time: float) -> int:
  """Steps of the record plan's prefix that reaches ``largest_time`` (at most ``fit.num_steps``).

  Plans are prefixes of each other and the noise is keyed by the absolute
  step, so a shorter run gives the same records as the search's, faster.
  """
  needed = max(largest_time / fit.dt / fit.resolution, 1.0)
  return min(fit.num_steps, fit.resolution * 2 ** math.ceil(math.log2(needed)))


def _interp_plan(record_times, query_times):
  """Left record index and weight of the right one for each query time (host NumPy)."""
  query = np.clip(query_times, 0.0, record_times[-1])
  right = np.clip(np.searchsorted(record_times, query, side="right"), 1, record_times.size - 1)
  left = right - 1
  frac = (query - record_times[left]) / (record_times[right] - record_times[left])
  return left.astype(np.int32), np.clip(frac, 0.0, 1.0).astype(np.float32)


def _chain_config(mu_right, mu_left, noise, *, num_blocks, dt, synchronous, noise_dist, noise_cut):
  return _config.ChainConfig(
      num_blocks=num_blocks,
      k=1.0,
      target=1.0,
      mu_right=mu_right,
      mu_left=mu_left,
      noise=noise,
      dt=dt,
      noise_dist=noise_dist,
      noise_cut=noise_cut,
      synchronous=synchronous,
      stop_rtol=0.0,
  )


def _noise_keys(seed: int, chain_seeds: int):
  return jax.random.split(jax.random.key(seed), chain_seeds)


def _recorded(cfg, keys, segments):
  """Seed-mean load curves at the record steps, ``[n, R, L+1]`` (the config is ``[n, 1]``)."""
  total = sum(length for length, _ in segments)
  state = _simulate.init_state(cfg, keys[None, :], total)
  snapshots = []
  for length, every in segments:
    state, snaps = _simulate.advance(cfg, keys[None, :], state, length, record_every=every)
    snapshots.append(snaps)
  traj = jnp.concatenate(snapshots, axis=-2).mean(axis=1)  # [n, R - 1, L+1]
  rest = jnp.ones(traj.shape[:1] + (1,) + traj.shape[2:], traj.dtype)
  return jnp.concatenate([rest, traj], axis=1)


def _read(traj, left, frac):
  """``traj [n, R, L+1]`` at query positions ``left, frac [...]`` -> ``[n, ..., L+1]``."""
  lo = jnp.take(traj, left, axis=1)
  hi = jnp.take(traj, left + 1, axis=1)
  return lo + frac[..., None] * (hi - lo)


def _normalise(traj):
  """Per-cell standardised trajectories and their weights (host float64 -> float32).

  Returns ``(z [C, E, L+1], weight [C, E], mean [C], std [C], ss_time [C])``
  where ``z = (D - mean) / std`` over finite epochs (zero elsewhere) and
  ``ss_time`` is the standardised squares about each layer's time mean.
  """
  finite = np.all(np.isfinite(traj), axis=-1)  # [C, E]
  weight = finite.astype(np.float64)
  count = weight.sum(-1)
  safe = np.where(finite[..., None], traj, 0.0)
  num_layers = traj.shape[-1]
  denom = np.maximum(count * num_layers, 1)
  mean = safe.sum((-1, -2)) / denom
  centred = np.where(finite[..., None], safe - mean[:, None, None], 0.0)
  var = (centred**2).sum((-1, -2)) / denom
  magnitude = np.max(np.abs(safe), axis=(-1, -2))
  flat = np.sqrt(var) <= FLAT_RTOL * np.maximum(magnitude, 1e-30)
  std = np.where(flat | (count == 0), 1.0, np.sqrt(var))
  z = centred / std[:, None, None]
  layer_mean = z.sum(-2) / np.maximum(count, 1)[:, None]
  ss_time = (np.where(finite[..., None], z - layer_mean[:, None, :], 0.0) ** 2).sum((-1, -2))
  reason = np.select([count < MIN_EPOCHS, flat], [NON_FINITE, FLAT], OK).astype(np.int32)
  return (
      z.astype(np.float32),
      weight.astype(np.float32),
      mean,
      std,
      ss_time,
      reason,
  )


@functools.partial(
    jax.jit,
    static_argnames=(
        "num_blocks",
        "dt",
        "synchronous",
        "noise_dist",
        "noise_cut",
        "segments",
        "chunk_size",
    ),
)
def _search(
    mu_right,
    mu_left,
    noise,
    keys,
    z,
    weight,
    left,
    frac,
    *,
    num_blocks,
    dt,
    synchronous,
    noise_dist,
    noise_cut,
    segments,
    chunk_size,
):
  """Sums of the affine fits of all (cell, chain, scale): each ``[C, N, S]``.

  ``z [C, E, L+1]`` standardised cells (zero mean over their weights),
  ``weight [C, E]``; ``left, frac [S, E]`` the interpolation of every scale.
  Returns ``(sum_d, sum_dd, sum_dz)`` of ``d - 1/2`` (centring keeps the
  float32 variance ``sum_dd - sum_d^2 / W`` free of cancellation: d is in
  about [0, 1]).
  """
  num_chunks = mu_right.shape[0] // chunk_size
  zw = z * weight[..., None]

  def one_chunk(params):
    cfg = _chain_config(
        params[0][:, None],
        params[1][:, None],
        params[2][:, None],
        num_blocks=num_blocks,
        dt=dt,
        synchronous=synchronous,
        noise_dist=noise_dist,
        noise_cut=noise_cut,
    )
    traj = _recorded(cfg, keys, segments) - 0.5
    d = _read(traj, left, frac)  # [n, S, E, L+1]
    sum_d = jnp.einsum("ce,nse->cns", weight, d.sum(-1))
    sum_dd = jnp.einsum("ce,nse->cns", weight, (d * d).sum(-1))
    sum_dz = jnp.einsum("cel,nsel->cns", zw, d)
    return sum_d, sum_dd, sum_dz

  params = jnp.stack([mu_right, mu_left, noise]).reshape(3, num_chunks, chunk_size)
  sums = jax.lax.map(one_chunk, jnp.moveaxis(params, 1, 0))
  # [chunks, C, n, S] -> [C, N, S]
  return tuple(jnp.moveaxis(s, 0, 1).reshape(s.shape[1], -1, s.shape[-1]) for s in sums)


def _affine_r2(sum_d, sum_dd, sum_dz, total_weight):
  """R^2 of the best ``z ~ a + b d`` with ``b > 0`` (``-inf`` if none), and ``b``.

  ``total_weight [C]``: finite epochs times layers; ``sum_zz = total_weight``
  because z is standardised.
  """
  w = total_weight[:, None, None]
  sxx = sum_dd - sum_d * sum_d / w
  fine = (sxx > 1e-6 * w) & (sum_dz > 0)
  safe_sxx = jnp.where(fine, sxx, 1.0)
  r2 = jnp.where(fine, sum_dz * sum_dz / (safe_sxx * w), -jnp.inf)
  return r2, sum_dz / safe_sxx


def fit_dynamics(
    trajectories,
    epochs,
    *,
    noise: str = "synchronous",
    num_candidates: int = DEFAULT_CANDIDATES,
    grid: CandidateGrid | None = None,
    chain_seeds: int = 4,
    seed: int = 0,
    dt=0.05,
    noise_dist: str = "truncated_normal",
    noise_cut=2.0,
    resolution: int = 64,
    chunk_size: int = 64,
) -> DynamicsFit:
  """Fits a chain started from rest and a time map to every cell's trajectory.

  For every cell, the candidate (chain, time scale) with the largest R^2 of
  ``D_l(e) ~ a + b d_l(s e)`` (module docstring) over all finite epochs and
  layers. Epochs with any non-finite layer (unevaluated or diverged) are
  left out of that cell's fit.

  Args:
    trajectories: ``[..., E, L+1]`` load curves of each cell after each
      epoch (any leading grid axes), e.g. a sweep's seed-mean ``trajectory``.
    epochs: ``[E]`` times of the trajectory entries, > 0, increasing
      (``trajectory_time``).
    noise: ``synchronous`` (one draw for all blocks, as a network's noise is shared by its layers) or
      ``independent`` (one per block).
    num_candidates: size of the default grid (:func:`candidate_grid`), in
      ``[16, 10^7]``; ignored when ``grid`` is given.
    grid: the candidates, instead of the default grid.
    chain_seeds: noise realisations averaged per candidate, in ``[1, 64]``.
    seed: seed of the chains' noise keys (the same for every candidate).
    dt, noise_dist, noise_cut: the chains' time step and noise law.
    resolution: records per doubling of chain time, in ``[4, 4096]``.
    chunk_size: chains simulated at once (memory, module docstring), in
      ``[1, 4096]``.

  Returns:
    A :class:`DynamicsFit` with the grid shape ``[...]``.

  Raises:
    ValueError: naming the argument: trajectories not ``[..., E, L+1]`` real
      with ``E >= 3`` and ``L + 1 >= 3``; ``epochs`` not ``[E]``, finite,
      positive and increasing; ``noise`` or a count out of range.
  """
  traj, grid_shape, times = _check_inputs(trajectories, epochs)
  if noise not in NOISE_MODES:
    raise ValueError(f"noise must be one of {NOISE_MODES}, got {noise!r}")
  _check_int("chain_seeds", chain_seeds, 1, 64)
  _check_int("resolution", resolution, 4, 4096)
  _check_int("chunk_size", chunk_size, 1, 4096)
  _check_int("seed", seed, 0, 2**31 - 1)
  if resolution & (resolution - 1):
    raise ValueError(f"resolution must be a power of 2 in [4, 4096], got {resolution}")
  num_blocks = traj.shape[-1] - 1
  if grid is None:
    grid = candidate_grid(
        num_blocks,
        times[-1],
        num_candidates,
        dt=dt,
        noise_dist=noise_dist,
        noise_cut=noise_cut,
    )
  elif not isinstance(grid, CandidateGrid):
    raise ValueError(f"grid must be a CandidateGrid, got {type(grid).__name__}")
  # Validates dt, noise law and the grid's values as a chain would.
  mu_right, mu_left, eps = grid.chains()
  _chain_config(
      mu_right,
      mu_left,
      eps,
      num_blocks=num_blocks,
      dt=dt,
      synchronous=noise == "synchronous",
      noise_dist=noise_dist,
      noise_cut=noise_cut,
  )
  num_steps = _horizon_steps(grid, times[-1], float(dt), resolution)
  meta = dict(
      num_blocks=num_blocks,
      dt=float(dt),
      synchronous=noise == "synchronous",
      chain_seeds=int(chain_seeds),
      seed=int(seed),
      noise_dist=noise_dist,
      noise_cut=float(noise_cut),
      num_steps=num_steps,
      resolution=int(resolution),
  )
  segments, record_steps = _record_plan(num_steps, resolution)
  left, frac = _interp_plan(
      record_steps * float(dt), grid.time_scale[:, None] * times[None, :]
  )  # [S, E]

  z, weight, mean, std, ss_time, reason = _normalise(traj)
  chunk = min(chunk_size, grid.num_chains)
  pad = -grid.num_chains % chunk
  padded = [np.concatenate([a, np.repeat(a[-1:], pad)]).astype(np.float32) for a in grid.chains()]
  sums = _search(
      *(jnp.asarray(a) for a in padded),
      _noise_keys(seed, chain_seeds),
      jnp.asarray(z),
      jnp.asarray(weight),
      jnp.asarray(left),
      jnp.asarray(frac),
      num_blocks=num_blocks,
      dt=float(dt),
      synchronous=noise == "synchronous",
      noise_dist=noise_dist,
      noise_cut=float(noise_cut),
      segments=segments,
      chunk_size=chunk,
  )
  total_weight = jnp.asarray(weight.sum(-1) * (num_blocks + 1))
  r2, slope = _affine_r2(*sums, jnp.maximum(total_weight, 1.0))
  r2 = np.asarray(r2)[:, : grid.num_chains].reshape(r2.shape[0], -1)
  slope = np.asarray(slope)[:, : grid.num_chains].reshape(r2.shape)
  sum_d = np.asarray(sums[0])[:, : grid.num_chains].reshape(r2.shape)
  best = np.argmax(r2, axis=-1)
  cells = np.arange(r2.shape[0])
  best_r2 = r2[cells, best].astype(np.float64)
  reason = np.where((reason == OK) & ~np.isfinite(best_r2), NO_FIT, reason).astype(np.int32)
  valid = reason == OK
  chain, scale_index = np.divmod(best, grid.time_scale.size)
  b = slope[cells, best].astype(np.float64)
  weight_total = np.maximum(np.asarray(total_weight, np.float64), 1.0)
  # z = a' + b d' with d' = d - 1/2 and sum_w z = 0: a' = -b mean(d').
  a = -b * sum_d[cells, best] / weight_total
  ssr = (1.0 - best_r2) * weight_total
  nan = np.nan
  chain_params = [p[chain] for p in grid.chains()]
  fields = dict(
      mu_right=chain_params[0],
      mu_left=chain_params[1],
      noise=chain_params[2],
      time_scale=grid.time_scale[scale_index],
      scale=std * b,
      offset=mean + std * (a - 0.5 * b),
      r2=best_r2,
      r2_dynamic=1.0 - ssr / np.maximum(ss_time, 1e-30),
  )
  out = {
      name: jnp.asarray(np.where(valid, value, nan).reshape(grid_shape), jnp.float32)
      for name, value in fields.items()
  }
  return DynamicsFit(
      **out,
      candidate=jnp.asarray(np.where(valid, best, -1).reshape(grid_shape), jnp.int32),
      valid=jnp.asarray(valid.reshape(grid_shape)),
      reason=jnp.asarray(reason.reshape(grid_shape)),
      **meta,
  )


def dynamics_chain(fit: DynamicsFit, *, select_valid: bool = True) -> _config.ChainConfig:
  """The fitted chains as one ``springs.ChainConfig`` with the fit's grid shape.

  Simulating it with the keys ``jax.random.split(jax.random.key(fit.seed),
  fit.chain_seeds)`` on a trailing seed axis reproduces the search's
  trajectories (see :func:`fitted_trajectory`).

  Raises:
    ValueError: if ``fit`` is not a :class:`DynamicsFit` or (with
      ``select_valid``) has invalid entries.
  """
  if not isinstance(fit, DynamicsFit):
    raise ValueError(f"fit must be a DynamicsFit from fit_dynamics, got {type(fit).__name__}")
  valid = np.asarray(fit.valid)
  if select_valid and not np.all(valid):
    raise ValueError(
        f"fit has {int(np.sum(~valid))} invalid entries of {valid.size}; select the valid ones "
        "(fit.valid) before building chains"
    )
  return _chain_config(
      np.asarray(fit.mu_right, np.float64),
      np.asarray(fit.mu_left, np.float64),
      np.asarray(fit.noise, np.float64),
      num_blocks=fit.num_blocks,
      dt=fit.dt,
      synchronous=fit.synchronous,
      noise_dist=fit.noise_dist,
      noise_cut=fit.noise_cut,
  )


def fitted_trajectory(fit: DynamicsFit, epochs):
  """The fitted chains' load curves at ``s * epochs``, mapped to network units.

  Re-simulates every valid cell's chain as the search did (same keys and
  record grid), so the result reproduces the search's R^2. Invalid cells
  are NaN.

  Returns:
    ``[..., E, L+1]`` = ``offset + scale * d(time_scale * epochs)``.
  """
  if not isinstance(fit, DynamicsFit):
    raise ValueError(f"fit must be a DynamicsFit from fit_dynamics, got {type(fit).__name__}")
  times = np.asarray(epochs, np.float64)
  if times.ndim != 1 or not np.all(np.isfinite(times) & (times > 0)):
    raise ValueError(f"epochs must be a 1-D array of finite times > 0, got {times}")
  valid = np.asarray(fit.valid).reshape(-1)
  shape = tuple(np.shape(fit.valid))
  out = np.full((valid.size, times.size, fit.num_blocks + 1), np.nan, np.float32)
  if valid.any():
    params = [np.asarray(p, np.float64).reshape(-1)[valid] for p in (fit.mu_right, fit.mu_left)]
    eps = np.asarray(fit.noise, np.float64).reshape(-1)[valid]
    cfg = _chain_config(
        params[0][:, None],
        params[1][:, None],
        eps[:, None],
        num_blocks=fit.num_blocks,
        dt=fit.dt,
        synchronous=fit.synchronous,
        noise_dist=fit.noise_dist,
        noise_cut=fit.noise_cut,
    )
    scale_t = np.asarray(fit.time_scale, np.float64).reshape(-1)[valid]
    num_steps = _prefix_steps(fit, float(np.max(scale_t)) * times[-1])
    segments, record_steps = _record_plan(num_steps, fit.resolution)
    traj = _recorded(cfg, _noise_keys(fit.seed, fit.chain_seeds), segments)
    left, frac = _interp_plan(record_steps * fit.dt, scale_t[:, None] * times[None, :])
    d = jax.vmap(lambda t, l, f: _read(t[None], l, f)[0])(traj, left, frac)  # [n, E, L+1]
    b = np.asarray(fit.scale, np.float64).reshape(-1)[valid]
    a = np.asarray(fit.offset, np.float64).reshape(-1)[valid]
    out[valid] = a[:, None, None] + b[:, None, None] * np.asarray(d, np.float64)
  return jnp.asarray(out.reshape(shape + out.shape[1:]))


def trajectory_r2(trajectories, fitted):
  """``(r2, r2_dynamic)`` of ``fitted`` against ``trajectories`` ``[..., E, L+1]`` (NumPy).

  Over each cell's finite epochs, as :func:`fit_dynamics` scores them.
  """
  traj = np.asarray(trajectories, np.float64)
  fit = np.asarray(fitted, np.float64)
  finite = np.all(np.isfinite(traj), axis=-1, keepdims=True) & np.isfinite(fit)
  count = finite.sum((-1, -2))
  diff = np.where(finite, traj - fit, 0.0)
  safe = np.where(finite, traj, 0.0)
  mean = safe.sum((-1, -2)) / np.maximum(count, 1)
  sst = (np.where(finite, traj - mean[..., None, None], 0.0) ** 2).sum((-1, -2))
  layer_mean = safe.sum(-2, keepdims=True) / np.maximum(finite.sum(-2, keepdims=True), 1)
  ss_time = (np.where(finite, traj - layer_mean, 0.0) ** 2).sum((-1, -2))
  ssr = (diff**2).sum((-1, -2))
  with np.errstate(invalid="ignore", divide="ignore"):  # flat or empty cells: NaN
    return 1.0 - ssr / sst, 1.0 - ssr / ss_time


# --- Gradient refinement through the scan, with smoothed friction. ---------


def _smooth_activation(force, mu_right, mu_left, width):
  """phi with its kinks rounded over ``width``: softplus ramps instead of max/min."""
  right = width * jax.nn.softplus((force - mu_right) / width)
  left = width * jax.nn.softplus((-force - mu_left) / width)
  return right - left


def _smooth_recorded(theta, words, *, num_blocks, dt, synchronous, noise_dist, noise_cut, width):
  """``[C, R, L+1]`` seed-mean load curves of chains ``theta = [C, 3]`` (mu_r, mu_l, eps)."""
  num_cells, num_seeds = words.shape[1], words.shape[2]
  rep = lambda v: jnp.repeat(v, num_seeds)
  mu_r, mu_l, eps = (rep(theta[:, i]) for i in range(3))
  flat_words = words.reshape(2, -1)
  target = jnp.ones_like(mu_r)
  scale = eps * (1.0 / math.sqrt(dt))
  cut = jnp.full_like(mu_r, noise_cut)

  def one_step(carry, _):
    x, step = carry
    bits = _noise.counter_bits(flat_words, step, num_blocks, synchronous)
    xi = _noise.unit_noise(bits, noise_dist, cut)
    force = _dynamics.elastic_force(x, 1.0, target) + scale * xi
    x = x + dt * _smooth_activation(force, mu_r, mu_l, width)
    return (x, step + 1), None

  return one_step, (jnp.zeros((num_blocks, num_cells * num_seeds)), jnp.zeros((), jnp.int32))


def refine_dynamics(
    fit: DynamicsFit,
    trajectories,
    epochs,
    *,
    num_iterations: int = 40,
    learning_rate: float = 0.05,
    smoothing: float = 0.05,
) -> tuple[DynamicsFit, dict]:
  """Refines every valid cell's chain and time scale by gradient, keeping only gains.

  Gradient ascent (Adam) of each cell's R^2 through ``lax.scan`` over the
  chain's steps, with the friction's kinks smoothed over ``smoothing *
  mu_max`` so that the gradient sees the frictions near the thresholds.
  The noise is the search's (same keys, same counter-hash stream); the
  refined chain is then re-simulated exactly (unsmoothed) and a cell takes
  it only where its exact R^2 beats the grid's.

  Args:
    fit: from :func:`fit_dynamics` on the same ``trajectories`` and ``epochs``.
    num_iterations: Adam steps, in ``[1, 10000]``.
    learning_rate: Adam step in normalised units (frictions in ``mu_max``,
      noise in the grid's unit, log time scale), > 0.
    smoothing: width of the rounded friction kinks in units of ``mu_max``, > 0.

  Returns:
    ``(refined fit, info)`` with ``info`` holding per-cell ``r2_grid``,
    ``r2_smooth_start``, ``r2_smooth_end`` (the smoothed objective), ``r2_exact``
    (refined chain, exact simulator) and ``accepted``: flat NumPy arrays,
    ``r2_grid`` over all cells, the others over the valid ones.
  """
  traj, grid_shape, times = _check_inputs(trajectories, epochs)
  if not isinstance(fit, DynamicsFit) or tuple(np.shape(fit.valid)) != grid_shape:
    raise ValueError("fit must be the DynamicsFit of these trajectories (same grid shape)")
  _check_int("num_iterations", num_iterations, 1, 10_000)
  if not (np.isfinite(learning_rate) and learning_rate > 0):
    raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate!r}")
  if not (np.isfinite(smoothing) and smoothing > 0):
    raise ValueError(f"smoothing must be finite and > 0, got {smoothing!r}")
  valid = np.asarray(fit.valid).reshape(-1)
  info = {"r2_grid": np.asarray(fit.r2, np.float64).reshape(-1)}
  if not valid.any():
    return fit, info
  z, weight, *_ = _normalise(traj[valid])
  total_weight = weight.sum(-1) * (fit.num_blocks + 1)
  mu_max = _mu_max(fit.num_blocks)
  units = np.array(
      [mu_max, mu_max, _eps_unit(fit.num_blocks, fit.dt, fit.noise_dist, fit.noise_cut)]
  )
  flat = lambda name: np.asarray(getattr(fit, name), np.float64).reshape(-1)[valid]
  theta0 = np.stack([flat("mu_right"), flat("mu_left"), flat("noise")], -1) / units
  log_s0 = np.log(flat("time_scale"))
  # Room for the time scale to double while refined.
  num_steps = _prefix_steps(fit, 2.0 * float(np.max(np.exp(log_s0))) * times[-1])
  segments, record_steps = _record_plan(num_steps, fit.resolution)
  record_times = jnp.asarray(record_steps * fit.dt, jnp.float32)
  keys = _noise_keys(fit.seed, fit.chain_seeds)
  words = _noise.chain_keys(keys[None, :], (int(valid.sum()), fit.chain_seeds))

  def loss(params):
    theta = jnp.maximum(params["theta"], 0.0) * units
    step_fn, carry = _smooth_recorded(
        theta,
        words,
        num_blocks=fit.num_blocks,
        dt=fit.dt,
        synchronous=fit.synchronous,
        noise_dist=fit.noise_dist,
        noise_cut=fit.noise_cut,
        width=smoothing * mu_max,
    )
    snapshots = []
    for length, every in segments:

      def record(carry, _, every=every):
        carry, _ = jax.lax.scan(step_fn, carry, None, length=every)
        return carry, carry[0]

      carry, snaps = jax.lax.scan(record, carry, None, length=length // every)
      snapshots.append(snaps)
    x = jnp.concatenate(snapshots, axis=0)  # [R - 1, L, C * J]
    x = x.reshape(x.shape[:2] + (-1, fit.chain_seeds)).mean(-1)  # [R - 1, L, C]
    d = jnp.concatenate([jnp.zeros_like(x[:1]), x], axis=0)
    d = 1.0 - jnp.moveaxis(d, -1, 0)  # [C, R, L]
    d = jnp.concatenate([jnp.ones_like(d[..., :1]), d], axis=-1) - 0.5  # [C, R, L+1]
    query = jnp.exp(params["log_s"])[:, None] * jnp.asarray(times, jnp.float32)[None]
    read = jax.vmap(
        lambda q, traj: jax.vmap(lambda col: jnp.interp(q, record_times, col), 1, 1)(traj)
    )(
        query, d
    )  # [C, E, L+1]
    w = jnp.asarray(weight)[..., None]
    sum_d = (w * read).sum((1, 2))
    sum_dd = (w * read * read).sum((1, 2))
    sum_dz = (w * jnp.asarray(z) * read).sum((1, 2))
    tw = jnp.asarray(total_weight)
    sxx = jnp.maximum(sum_dd - sum_d**2 / tw, 1e-12)
    r2 = jnp.where(sum_dz > 0, sum_dz**2 / (sxx * tw), 0.0)
    return -r2.sum(), r2

  params = {"theta": jnp.asarray(theta0, jnp.float32), "log_s": jnp.asarray(log_s0, jnp.float32)}
  optimiser = optax.adam(learning_rate)
  opt_state = optimiser.init(params)

  @jax.jit
  def update(params, opt_state):
    (_, r2), grads = jax.value_and_grad(loss, has_aux=True)(params)
    updates, opt_state = optimiser.update(grads, opt_state)
    params = optax.apply_updates(params, updates)
    params["theta"] = jnp.maximum(params["theta"], 0.0)
    return params, opt_state, r2

  start = None
  r2 = None
  for _ in range(num_iterations):
    params, opt_state, r2 = update(params, opt_state)
    start = np.asarray(r2) if start is None else start
  end = np.asarray(jax.jit(loss)(params)[1])
  theta = np.maximum(np.asarray(params["theta"], np.float64), 0.0) * units
  candidate = dataclasses.replace(
      fit,
      **{
          name: _put(getattr(fit, name), valid, value)
          for name, value in (
              ("mu_right", theta[:, 0]),
              ("mu_left", theta[:, 1]),
              ("noise", theta[:, 2]),
              ("time_scale", np.exp(np.asarray(params["log_s"], np.float64))),
          )
      },
  )
  exact = _refit_affine(candidate, traj, times)
  r2_grid = info["r2_grid"][valid]
  accepted = np.asarray(exact.r2, np.float64).reshape(-1)[valid] > r2_grid
  keep = np.zeros(valid.size, bool)
  keep[valid] = accepted
  refined = jax.tree_util.tree_map(
      lambda new, old: jnp.where(keep.reshape(np.shape(old)), new, old), exact, fit
  )
  refined = dataclasses.replace(
      refined, candidate=jnp.where(keep.reshape(grid_shape), -2, fit.candidate)
  )
  info.update(
      r2_smooth_start=start,
      r2_smooth_end=end,
      r2_exact=np.asarray(exact.r2, np.float64).reshape(-1)[valid],
      accepted=accepted,
  )
  return refined, info


def _put(old, valid, values):
  flat = np.asarray(old, np.float64).reshape(-1).copy()
  flat[valid] = values
  return jnp.asarray(flat.reshape(np.shape(old)), jnp.float32)


def _refit_affine(fit: DynamicsFit, traj, times) -> DynamicsFit:
  """``fit`` with its affine map and R^2 recomputed for its chains (exact simulator)."""
  unit = dataclasses.replace(fit, scale=jnp.ones_like(fit.scale), offset=jnp.zeros_like(fit.offset))
  d = np.asarray(fitted_trajectory(unit, times), np.float64).reshape(traj.shape)
  finite = np.all(np.isfinite(traj), -1, keepdims=True) & np.isfinite(d)
  count = np.maximum(finite.sum((-1, -2)), 1)
  mean = lambda v: np.where(finite, v, 0.0).sum((-1, -2)) / count
  md, mt = mean(d), mean(traj)
  dc = np.where(finite, d - md[:, None, None], 0.0)
  tc = np.where(finite, traj - mt[:, None, None], 0.0)
  b = (dc * tc).sum((-1, -2)) / np.maximum((dc * dc).sum((-1, -2)), 1e-30)
  a = mt - b * md
  fitted = a[:, None, None] + b[:, None, None] * d
  r2, r2_dynamic = trajectory_r2(traj, fitted)
  shape = np.shape(fit.valid)
  ok = np.asarray(fit.valid).reshape(-1) & (b > 0)
  put = lambda v: jnp.asarray(np.where(ok, v, np.nan).reshape(shape), jnp.float32)
  return dataclasses.replace(
      fit, scale=put(b), offset=put(a), r2=put(r2), r2_dynamic=put(r2_dynamic)
  )

"""A whole hyperparameter grid in one call, one compile per shape group.

``train_grid(config, {"alpha": [...], "batch_size": [...]}, data, 100)``
trains the Cartesian product of the axes. Axes that keep shapes
(`HPARAM_NAMES`: seed, alpha, dropout, learning_rate, noise, init_scale) are
flattened into one vmapped population; axes that change shapes
(`SHAPE_AXES`: batch_size, depth, width) split the grid into groups, one
compiled program each, run one after another. With several local devices
each group's population axis is sharded across them. Grouping, padding and
scattering back are `featurespring.grids` and `featurespring.sharding`, the
layer below both this module and `featurespring.sweep`: one implementation
for both routes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from featurespring import grids as grid_lib
from featurespring import metrics as metrics_lib
from featurespring import progress as progress_lib
from featurespring import sharding
from featurespring import vocabulary
from featurespring.train import hparams as hparams_lib
from featurespring.train import loop

SHAPE_AXES = ("batch_size", "depth", "width")
AXES = hparams_lib.HPARAM_NAMES + SHAPE_AXES
# Axes whose values must be integers: inclusive bounds of each.
INTEGER_AXES = {"seed": (0, hparams_lib.MAX_SEED), **{name: (1, None) for name in SHAPE_AXES}}


@dataclasses.dataclass
class GridResult:
  """Every net's course over training, with the grid's axes in front.

  Names are those of `featurespring.vocabulary`, shared with sweeps and
  ``sweep.load``: ``result["history/load_curve"]`` is
  ``result.history["load_curve"]``, ``result["load_curve"]`` its value at the
  last evaluated epoch, and :meth:`to_xarray` labels them all.

  Attributes:
    axes: axis name -> values, in grid order.
    history: the per-epoch metrics of `featurespring.train.train_epochs`
      (``load_curve``, ``accuracy``, ``loss`` ...) shaped
      ``[*grid, E(, L)]`` (``L`` padded with NaN to the deepest group;
      ``steps/`` keys ``[*grid, E, S(, L)]``, ``S`` padded likewise to the
      group with the most steps per epoch, ``steps/step`` with -1), plus
      ``stop_epoch`` and ``diverge_epoch`` shaped ``[*grid]`` (-1: never).
    states: final `TrainState` per shape group, keyed by its
      ``(batch_size, depth, width)``, for continuing with `train_epochs`
      (members in grid order, restricted to the group; padding members added
      for sharding are kept at the end).
  """

  axes: dict[str, np.ndarray]
  history: dict[str, np.ndarray]
  states: dict[tuple[int, int, int], loop.TrainState]

  @property
  def shape(self) -> tuple[int, ...]:
    return tuple(len(v) for v in self.axes.values())

  @property
  def valid(self) -> np.ndarray:
    """``[*grid, E]``: not diverged; the mask for `masked_mean`."""
    return ~self.history["diverged"]

  def final(self) -> dict[str, np.ndarray]:
    """Each per-epoch metric at the last epoch it was evaluated (``eval_every``
    leaves NaN between), ``[*grid(, L)]``; the curvatures of the load curves;
    ``stop_epoch``, ``diverge_epoch`` and ``diverged``, ``stopped`` as they ended."""
    ndim = len(self.shape)
    out = {}
    for key, values in self.history.items():
      if key.startswith("steps/") or values.ndim == ndim:
        if values.ndim == ndim:
          out[key] = values
        continue
      evaluated = np.isfinite(values.reshape(values.shape[: ndim + 1] + (-1,))).any(-1)
      last = evaluated.shape[ndim] - 1 - np.argmax(evaluated[..., ::-1], axis=ndim)
      index = last.reshape(last.shape + (1,) * (values.ndim - ndim))
      out[key] = np.take_along_axis(values, index, axis=ndim).squeeze(ndim)
    for key in [k for k in out if k.startswith("load_curve")]:
      out[key.replace("load_curve", "curvature")] = np.asarray(
          metrics_lib.curvature(out[key]), np.float64
      )
    return out

  def __getitem__(self, name: str) -> np.ndarray:
    """A result by its vocabulary name: ``"history/<metric>"`` or a final value."""
    if name.startswith(vocabulary.HISTORY):
      return self.history[name[len(vocabulary.HISTORY) :]]
    final = self.final()
    if name not in final:
      raise KeyError(f"{name!r}; known: {sorted(final)} and history/<{', '.join(self.history)}>")
    return final[name]

  def to_xarray(self):
    """An ``xarray.Dataset`` named like ``sweep.load``: grid axes, ``epoch``
    (from 1), ``layer``; ``history/<metric>`` and the final values."""
    import xarray as xr  # pylint: disable=g-import-not-at-top

    grid_dims = list(self.axes)
    data_vars = {}
    for key, values in self.history.items():
      trailing = ["epoch", "step", "layer"] if key.startswith("steps/") else ["epoch", "layer"]
      data_vars[vocabulary.history(key)] = (
          grid_dims + trailing[: values.ndim - len(grid_dims)],
          values,
      )
    for key, values in self.final().items():
      data_vars[key] = (grid_dims + ["layer"][: values.ndim - len(grid_dims)], values)
    num_epochs = next(
        v.shape[len(grid_dims)] for v in self.history.values() if v.ndim > len(grid_dims)
    )
    coords = {name: values for name, values in self.axes.items()}
    coords["epoch"] = np.arange(1, num_epochs + 1)
    layers = max((v.shape[-1] for d, v in data_vars.values() if "layer" in d), default=0)
    if layers:
      coords["layer"] = np.arange(layers)
    return xr.Dataset(data_vars, coords=coords)


def train_grid(
    config: hparams_lib.Config,
    axes: Mapping[str, Sequence[Any]],
    data: loop.Data,
    num_epochs: int,
    hparams: Mapping[str, float] | None = None,
    progress: bool = True,
    progress_every: int | None = None,
) -> GridResult:
  """Trains every point of a grid for ``num_epochs`` epochs.

  Args:
    config: settings shared by the grid (shape axes override its fields).
    axes: ordered axis name -> values; names from `AXES`.
    data: training and test arrays.
    num_epochs: epochs per net.
    hparams: values of hyperparameters that are not axes (defaults: those of
      `HParams.create`).
    progress: show progress lines (nets/s, ETA, loss and accuracy
      quantiles; on stderr, or absl INFO under ``app.run``) at least every
      10 s and after each shape group; False: silent.
    progress_every: epochs per compiled call between progress lines
      (default: about a tenth of the run). Calls of equal length share one
      compile, and a run split into calls equals one call bit for bit.

  Returns:
    A `GridResult`.

  Raises:
    ValueError: unknown axis, or an invalid value anywhere in the grid
      (checked for every group before anything is compiled), such as a
      non-integer depth, width, batch size or seed (which would otherwise
      be truncated: depth 2.5 trained as 2) or a seed outside
      ``[0, MAX_SEED]`` (which would wrap).
  """
  hparams = dict(hparams or {})
  unknown = sorted(set(axes) - set(AXES)) + sorted(set(hparams) - set(hparams_lib.HPARAM_NAMES))
  fixed = {**hparams_lib.HPARAM_DEFAULTS, **hparams}
  if unknown:
    raise ValueError(f"unknown grid axes or hparams {unknown}; allowed: " f"{AXES}")
  axes = {name: np.asarray(values) for name, values in axes.items()}
  for name, values in axes.items():
    if values.ndim != 1 or values.size == 0:
      raise ValueError(f"axis {name!r} needs a non-empty 1-D list of values")
    if name in INTEGER_AXES:
      hparams_lib.check_integers(f"grid axis {name!r}", values, *INTEGER_AXES[name])
      axes[name] = values.astype(np.int64)
  # The sweep layer's grid and grouping: members numbered in C order over
  # the axes, one group per combination of shape values.
  grid = grid_lib.Grid(
      tuple(grid_lib.Axis(name, values, {name: values}) for name, values in axes.items())
  )
  points = grid.points(np.arange(grid.size))

  def value(members, name, default):
    return points[name][members] if name in points else np.full(len(members), default)

  num_train = data.x_train.shape[0]
  mesh = sharding.member_mesh(jax.local_devices())
  plans = []
  for group in grid_lib.plan_chunks(grid, grid.size, SHAPE_AXES):
    # Axis values are integers by now (``item`` makes them Python ints);
    # config values go as they are to `validate_config`, which reports a
    # float there instead of truncating it.
    shape_key = tuple(group.static.get(name, getattr(config, name)) for name in SHAPE_AXES)
    group_config = config.replace(**dict(zip(SHAPE_AXES, shape_key)))
    hparams_lib.validate_config(group_config, num_train)
    population = hparams_lib.HParams.create(
        **{name: value(group.members, name, fixed[name]) for name in hparams_lib.HPARAM_NAMES}
    )
    hparams_lib.validate_hparams(population, group_config)
    plans.append((shape_key, group.members, group_config, population))

  group_metrics = []
  states = {}
  every = progress_every or max(1, num_epochs // 10)
  if every < 1:
    raise ValueError(f"progress_every must be a positive number of epochs, got {every}")
  tracker = progress_lib.Progress(
      len(plans),
      sum(len(members) for _, members, _, _ in plans) * num_epochs,
      "epoch",
      member_name="net",
      emit=None if progress else progress_lib.silent,
  )
  for position, (shape_key, members, group_config, population) in enumerate(plans):
    # Padded by repeating the last member and split over the local devices;
    # init and training keep that sharding (the only cross-member reduction
    # is one flag per layer, see `metrics.separations`).
    population = sharding.shard_members(population, mesh)
    state = loop.init(group_config, population, data)
    parts, compiled, done = [], set(), 0
    name = "batch {} depth {} width {}".format(*shape_key)
    while done < num_epochs:
      step = min(every, num_epochs - done)
      state, part = loop.train_epochs(state, data, step)
      parts.append(jax.device_get(part))
      done += step
      tracker.update(
          position,
          name,
          done,
          num_epochs,
          step * len(members),
          force=done == num_epochs,
          compiled=step not in compiled,
      )
      compiled.add(step)
    metrics = {key: np.concatenate([p[key] for p in parts], axis=1) for key in parts[0]}
    states[shape_key] = state
    metrics = dict(metrics, stop_epoch=state.stop_epoch, diverge_epoch=state.diverge_epoch)
    group_metrics.append(
        (members, {key: np.asarray(array)[: len(members)] for key, array in metrics.items()})
    )

  flat_metrics = grid_lib.scatter_members(group_metrics, grid.size)
  history = {
      key: array.reshape(grid.shape + array.shape[1:]) for key, array in flat_metrics.items()
  }
  return GridResult(axes=axes, history=history, states=states)

"""A whole hyperparameter grid in one call, one compile per shape group.

``train_grid(config, {"alpha": [...], "batch_size": [...]}, data, 100)``
trains the Cartesian product of the axes. Axes that keep shapes
(`HPARAM_NAMES`: seed, alpha, dropout, learning_rate, noise, init_scale) are
flattened into one vmapped population; axes that change shapes
(`SHAPE_AXES`: batch_size, depth, width) split the grid into groups, one
compiled program each, run one after another. With several local devices
each group's population axis is sharded across them.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from featurespring import sharding
from featurespring.train import hparams as hparams_lib
from featurespring.train import loop

SHAPE_AXES = ("batch_size", "depth", "width")
AXES = hparams_lib.HPARAM_NAMES + SHAPE_AXES
# Axes whose values must be integers: inclusive bounds of each.
INTEGER_AXES = {"seed": (0, hparams_lib.MAX_SEED),
                **{name: (1, None) for name in SHAPE_AXES}}


@dataclasses.dataclass
class GridResult:
  """Metrics of a grid with the grid's axes in front.

  Attributes:
    axes: axis name -> values, in grid order.
    metrics: the keys of `featurespring.train.loop` shaped
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
  metrics: dict[str, np.ndarray]
  states: dict[tuple[int, int, int], loop.TrainState]

  @property
  def shape(self) -> tuple[int, ...]:
    return tuple(len(v) for v in self.axes.values())

  @property
  def valid(self) -> np.ndarray:
    """``[*grid, E]``: not diverged; the mask for `masked_mean`."""
    return ~self.metrics["diverged"]


def _scatter_groups(group_metrics, size: int) -> dict[str, np.ndarray]:
  """``[(members, {key: [M, ...]})]`` per group -> ``{key: [size, ...]}``.

  Axes after the member axis that differ between groups (layers; the
  evaluations per epoch of `Config.eval_every_steps`) are padded at the end
  to the largest group: NaN, False or -1.
  """
  flat_metrics = {}
  for key, first in group_metrics[0][1].items():
    shape = np.max([metrics[key].shape[1:] for _, metrics in group_metrics],
                   axis=0).astype(int)
    fill = {"f": np.nan, "b": False}.get(first.dtype.kind, -1)
    flat_metrics[key] = np.full((size,) + tuple(shape), fill, first.dtype)
    for members, metrics in group_metrics:
      array = metrics[key]
      flat_metrics[key][(members,) + tuple(slice(n) for n in array.shape[1:])
                        ] = array
  return flat_metrics


def train_grid(config: hparams_lib.Config, axes: Mapping[str, Sequence[Any]],
               data: loop.Data, num_epochs: int,
               hparams: Mapping[str, float] | None = None) -> GridResult:
  """Trains every point of a grid for ``num_epochs`` epochs.

  Args:
    config: settings shared by the grid (shape axes override its fields).
    axes: ordered axis name -> values; names from `AXES`.
    data: training and test arrays.
    num_epochs: epochs per net.
    hparams: values of hyperparameters that are not axes (defaults: those of
      `HParams.create`).

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
  unknown = sorted(set(axes) - set(AXES)) + sorted(
      set(hparams) - set(hparams_lib.HPARAM_NAMES))
  fixed = {**hparams_lib.HPARAM_DEFAULTS, **hparams}
  if unknown:
    raise ValueError(f"unknown grid axes or hparams {unknown}; allowed: "
                     f"{AXES}")
  axes = {name: np.asarray(values) for name, values in axes.items()}
  for name, values in axes.items():
    if values.ndim != 1 or values.size == 0:
      raise ValueError(f"axis {name!r} needs a non-empty 1-D list of values")
    if name in INTEGER_AXES:
      hparams_lib.check_integers(f"grid axis {name!r}", values,
                                 *INTEGER_AXES[name])
      axes[name] = values.astype(np.int64)
  points = list(itertools.product(*[range(len(v)) for v in axes.values()]))
  names = list(axes)

  def value(point, name, default):
    return (axes[name][point[names.index(name)]] if name in axes
            else default)

  groups: dict[tuple[int, int, int], list[int]] = {}
  for flat, point in enumerate(points):
    # Axis values are integers by now (``item`` makes them Python ints);
    # config values go as they are to `validate_config`, which reports a
    # float there instead of truncating it.
    shape_key = tuple(np.asarray(value(point, name, getattr(config, name)))
                      .item() for name in SHAPE_AXES)
    groups.setdefault(shape_key, []).append(flat)

  num_train = data.x_train.shape[0]
  mesh = sharding.member_mesh(jax.local_devices())
  plans = []
  for shape_key, members in groups.items():
    group_config = config.replace(**dict(zip(SHAPE_AXES, shape_key)))
    hparams_lib.validate_config(group_config, num_train)
    population = hparams_lib.HParams.create(**{
        name: [value(points[m], name, fixed[name]) for m in members]
        for name in hparams_lib.HPARAM_NAMES})
    hparams_lib.validate_hparams(population, group_config)
    plans.append((shape_key, members, group_config, population))

  group_metrics = []
  states = {}
  for shape_key, members, group_config, population in plans:
    # Padded by repeating the last member and split over the local devices;
    # init and training keep that sharding (the only cross-member reduction
    # is one flag per layer, see `metrics.separations`).
    population = sharding.shard_members(population, mesh)
    state = loop.init(group_config, population, data)
    state, metrics = loop.train_epochs(state, data, num_epochs)
    states[shape_key] = state
    metrics = dict(metrics, stop_epoch=state.stop_epoch,
                   diverge_epoch=state.diverge_epoch)
    group_metrics.append(
        (members, {key: np.asarray(array)[:len(members)]
                   for key, array in metrics.items()}))

  flat_metrics = _scatter_groups(group_metrics, len(points))
  grid_shape = tuple(len(v) for v in axes.values())
  metrics = {key: array.reshape(grid_shape + array.shape[1:])
             for key, array in flat_metrics.items()}
  return GridResult(axes=axes, metrics=metrics, states=states)

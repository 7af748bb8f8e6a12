"""A finished (merged) sweep seen as a phase diagram: ``[Y, X, seed, ...]`` cells.

A merged result holds ``[*grid.shape, ...]`` arrays, one grid axis per swept
field and ``seed`` last. :class:`FinishedSweep` picks the phase diagram's two
axes (``config.plot`` unless given), moves them in front of the seed axis and
holds every other axis at its first value. Rows run by increasing
nonlinearity: an ``alpha`` axis (LeakyReLU slope) is shown as ``1 - alpha``;
:meth:`FinishedSweep.row_order` lists them by the raw value instead.

Diverged runs (``diverged``) are frozen at their last finite state, so their
final numbers are finite but meaningless: :meth:`FinishedSweep.masked_cells`
sets them to NaN, :meth:`FinishedSweep.finite_cells` also every other
non-finite value.

Built on :func:`featurespring.sweep.load_result` (plain NumPy arrays) rather
than the ``xarray`` view of :func:`featurespring.sweep.load`: results written
by hand (tests, older merges) lack the grid description that view needs.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from featurespring import plotting
from featurespring import grids as grid_lib
from featurespring.sweep import merging

# Which way a knob moves the training noise: larger batches are quieter.
NOISE_DIRECTION = {"batch_size": -1.0}
DATASET_NAMES = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "mnist_embedded": "embedded MNIST subset",
    "synthetic": "synthetic data",
    "orthogonal_binary": "orthogonal data, random labels",
}


@dataclasses.dataclass
class FinishedSweep:
  """A merged result with its axes, reduced to a 2-D phase diagram.

  Attributes:
    arrays: the result arrays ``[*grid.shape, ...]`` and ``axis/<name>`` values.
    config: the resolved config (plain dict).
    names: grid axis names (seed last).
    x, y: names of the phase diagram's axes.
    name: a label, by default the workdir's base name (``fig1c``).
  """

  arrays: dict
  config: dict
  names: list
  x: str
  y: str
  name: str = ""

  @classmethod
  def load(cls, workdir, x=None, y=None):
    """The merged sweep in ``workdir``, phase-diagram axes ``x``, ``y`` (default ``config.plot``).

    Raises:
      ValueError: if ``x`` or ``y`` is not a grid axis of the sweep.
    """
    arrays, sidecar = merging.load_result(workdir)
    config, names = sidecar["config"], sidecar["grid_names"]
    x, y = x or config["plot"]["x"], y or config["plot"]["y"]
    for axis in (x, y):
      if axis not in names:
        raise ValueError(f"cannot plot axis {axis!r}: the sweep's axes are {names}")
    return cls(arrays, config, names, x, y, os.path.basename(os.path.normpath(workdir)))

  @property
  def engine(self) -> str:
    return self.config["engine"]

  @property
  def num_seeds(self) -> int:
    return int(self.arrays[f"axis/{grid_lib.SEED_AXIS}"].shape[0])

  def values(self, name):
    """The raw values of grid axis ``name``, in grid order."""
    return np.asarray(self.arrays[f"axis/{name}"])

  def axis(self, name):
    """Axis ``name`` as drawn: ``1 - alpha`` for ``alpha``, so nonlinearity grows."""
    values = self.arrays[f"axis/{name}"]
    return 1.0 - values if name == "alpha" else values

  def y_values(self):
    """The row values as drawn (``axis(y)``, sorted for ``alpha``), one per cells row."""
    return np.sort(self.axis(self.y)) if self.y == "alpha" else self.axis(self.y)

  def raw_y_values(self, by_value=False):
    """:meth:`y_values` with ``1 - alpha`` undone; ``by_value``: ascending (:meth:`row_order`)."""
    raw = 1.0 - self.y_values() if self.y == "alpha" else np.asarray(self.y_values())
    return np.sort(raw) if by_value else raw

  def row_order(self):
    """Rows of :meth:`cells` by ascending raw ``y`` (``alpha`` 0 = ReLU first); stable."""
    return np.argsort(self.raw_y_values(), kind="stable")

  def cells(self, key):
    """``[Y, X, seed, ...]`` of ``key``: other axes at their first value."""
    array = self.arrays[key]
    order = [self.names.index(a) for a in (self.y, self.x, grid_lib.SEED_AXIS)]
    rest = [i for i in range(len(self.names)) if i not in order]
    array = np.moveaxis(array, order + rest, list(range(len(self.names))))
    array = array[(slice(None),) * 3 + (0,) * len(rest)]
    if self.y == "alpha":  # rows by increasing nonlinearity
      array = array[np.argsort(self.axis(self.y))]
    return array

  def snapshot_times(self):
    """``[Y, X, seed, T]``: when each ``history/load_curve`` snapshot was taken.

    A chain sweep's physical times (``history/time``); a network's epochs
    1..E (the history has one entry per epoch).
    """
    if "history/time" in self.arrays:
      return self.cells("history/time")
    history = self.cells("history/load_curve")
    epochs = np.arange(1, history.shape[3] + 1, dtype=np.float32)
    return np.broadcast_to(epochs, history.shape[:4])

  def diverged(self, by_value=False):
    """``[Y, X, seed]`` bool: the runs flagged diverged (none if the sweep has no flag).

    ``by_value``: rows in :meth:`row_order`, as tables list them.
    """
    if "diverged" in self.arrays:
      diverged = self.cells("diverged").astype(bool)
    else:
      diverged = np.zeros(
          [self.arrays[f"axis/{a}"].size for a in (self.y, self.x, grid_lib.SEED_AXIS)], bool
      )
    return diverged[self.row_order()] if by_value else diverged

  def masked_cells(self, key, by_value=False):
    """``cells(key)`` as float, diverged runs NaN (other values as they are).

    ``by_value``: rows in :meth:`row_order`, as tables list them.
    """
    values = self.cells(key).astype(np.float64)
    diverged = self.diverged()
    values = np.where(diverged.reshape(diverged.shape + (1,) * (values.ndim - 3)), np.nan, values)
    return values[self.row_order()] if by_value else values

  def finite_cells(self, key):
    """``masked_cells(key)`` with every non-finite value NaN too."""
    values = self.masked_cells(key)
    return np.where(np.isfinite(values), values, np.nan)

  def fixed_axes(self):
    """Other axes with several values, held at their first (see :meth:`cells`)."""
    return {
        n: self.arrays[f"axis/{n}"][0].item()
        for n in self.names
        if n not in (self.x, self.y, grid_lib.SEED_AXIS) and self.arrays[f"axis/{n}"].size > 1
    }

  def noise_direction(self) -> float:
    """+1 if the noise grows with the x knob's value, -1 if it falls (:data:`NOISE_DIRECTION`).

    A zipped x axis (e.g. batch size with its epochs) goes the way of its fields that have a direction.
    """
    zipped = self.x_zipped()
    fields = list(zipped) if zipped else [self.x]
    return next((NOISE_DIRECTION[f] for f in fields if f in NOISE_DIRECTION), 1.0)

  def x_zipped(self):
    """``{field: values per column}`` of a zipped x axis (batch size at fixed
    steps: ``batch_size`` and ``num_epochs`` of ``batch``); None for a plain one."""
    zipped = self.config.get("grid", {}).get(self.x)
    if not isinstance(zipped, dict):
      return None
    return {f: np.asarray(v) for f, v in zipped.items()}

  def x_field(self, field):
    """Per column, the value of setting ``field``: the x axis itself, or a field
    of a zipped x axis (``batch_size`` of ``batch``)."""
    if self.x == field:
      return self.values(field)
    zipped = self.x_zipped() or {}
    if field in zipped:
      return zipped[field]
    raise ValueError(f"the x axis {self.x!r} of {self.name or 'the sweep'} does not set {field!r}")

  def noise_falls_along_x(self) -> bool:
    """Whether larger x means less noise: figures draw such an axis reversed,
    so that noise grows to the right on every phase diagram."""
    return self.noise_direction() < 0

  def describe(self) -> str:
    """What was run, for figure titles: data or chain, length of training, seeds."""
    seeds = f"{self.num_seeds} seed{'s' if self.num_seeds != 1 else ''}"
    swept = set(self.names)
    for values in self.config.get("grid", {}).values():
      if isinstance(values, dict):  # a zipped axis sweeps each of its fields
        swept.update(values)
    if self.engine == "springs":
      c = self.config["springs"]
      noise = c["noise_dist"].replace("_", " ")
      if "synchronous" not in swept:
        noise = f"{'synchronous' if c['synchronous'] else 'independent'} {noise}"
      parts = [f"{c['dynamics'].replace('_', '-')} chains, L = {c['num_blocks']}"]
      if "num_steps" not in swept:
        parts.append(f"{c['num_steps']} steps")
      return ", ".join(parts + [f"{noise} noise", seeds])
    d = self.config["dnn"]
    parts = [DATASET_NAMES.get(d["dataset"], d["dataset"])]
    if d.get("model", "mlp") != "mlp":
      parts.append(d["model"].upper())
    elif not {"depth", "width"} & swept:
      parts.append(f"{d['depth']} hidden layers of {d['width']}")
    parts.append("epochs per cell" if "num_epochs" in swept else f"{d['num_epochs']} epochs")
    return ", ".join(parts + [seeds])

  def corner_cells(self, metric="curvature"):
    """(row, column) of the lazy, linear and active cells on the most nonlinear row.

    The most nonlinear row with a finite cell, and its finite cell nearest
    to zero curvature (the middle one if none is finite). Lazy is the end
    with the least noise (the last column where the knob is the batch
    size, :meth:`noise_falls_along_x`).
    """
    curvature = plotting.finite_mean(self.finite_cells(metric), axis=2)
    rows = np.flatnonzero(np.isfinite(curvature).any(axis=1))
    row = int(rows[-1]) if rows.size else curvature.shape[0] - 1
    distance = np.where(np.isfinite(curvature[row]), np.abs(curvature[row]), np.inf)
    linear = int(np.argmin(distance)) if np.isfinite(distance).any() else curvature.shape[1] // 2
    quiet, noisy = 0, curvature.shape[1] - 1
    if self.noise_falls_along_x():
      quiet, noisy = noisy, quiet
    return [(row, quiet), (row, linear), (row, noisy)]

"""A finished sweep as an ``xarray.Dataset`` with named dimensions.

The merged ``results.npz`` holds ``[*grid.shape, ...]`` arrays;
:func:`load` gives them names: the grid axes (``config.grid`` keys in sorted
order, then ``seed``) with their values as coordinates, and each array's
trailing axes (``layer``, ``epoch``, ``step``, ``time``, ``block``). A zipped
grid axis (several fields moving together) has its case
index as the dimension and every field it sets as a coordinate along it.

The dimension names of every array are written into ``results.json``
(``"dims"``) when a sweep is merged; for results merged before that, they are
derived from the engine the same way. Attributes: the resolved config (as
JSON), its hash, library versions, device kind and count, wall time.

  ds = sweep.load("runs/fig1c")
  ds.curvature.mean("seed").sel(alpha=0.0)          # one row of the phase diagram
  ds.load_curve.sel(alpha=0.0, dropout=0.1).mean("seed")   # over `layer`
  ds[["curvature", "accuracy"]].to_dataframe()      # tidy: one row per net
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

import numpy as np

from featurespring.sweep import engine as engine_lib
from featurespring.sweep import merging

# Axis coordinates ``axis/<name>`` in results.npz: turned into coordinates.
_AXIS_PREFIX = "axis/"
# A chain sweep's snapshot times and steps: the ``time`` (and ``step``) coordinates.
SNAPSHOT_ARRAYS = ("history/time", "history/step")


def array_dims(key: str, trailing_ndim: int, engine: str) -> tuple[str, ...]:
  """Names of the trailing (per-run) axes of result array ``key``.

  Args:
    key: the array's name in ``results.npz``.
    trailing_ndim: its number of axes after the grid axes.
    engine: ``config.engine`` of the sweep; the engine names its outputs'
      axes (`Engine.output_dims`).

  Returns:
    ``trailing_ndim`` names. Axes that no rule names are called
    ``<key>_dim<i>`` (with ``/`` replaced), so a new output never fails to load.
  """
  names = engine_lib.engine_class_named(engine).output_dims(key, trailing_ndim)
  if len(names) >= trailing_ndim:
    return tuple(names[:trailing_ndim])
  stem = key.replace("/", "_")
  return tuple(names) + tuple(f"{stem}_dim{i}" for i in range(len(names), trailing_ndim))


def result_dims(
    arrays: Mapping[str, np.ndarray], grid_names: Sequence[str], engine: str
) -> dict[str, list[str]]:
  """``{array name: [dimension names]}`` for every non-axis array of a merge."""
  return {
      key: list(grid_names) + list(array_dims(key, np.ndim(value) - len(grid_names), engine))
      for key, value in arrays.items()
      if not key.startswith(_AXIS_PREFIX)
  }


def _trailing_coords(arrays, dims) -> dict[str, np.ndarray]:
  """Coordinates of the per-run axes: layers from 0, epochs from 1."""
  sizes = {}
  for key, names in dims.items():
    for name, size in zip(names, np.shape(arrays[key])):
      sizes[name] = max(sizes.get(name, 0), size)
  coords = {}
  if "layer" in sizes:
    coords["layer"] = np.arange(sizes["layer"])
  if "epoch" in sizes:
    coords["epoch"] = np.arange(1, sizes["epoch"] + 1)
  # Every chain is recorded at the same times and steps: take them from one run.
  for name in SNAPSHOT_ARRAYS:
    if "time" in sizes and name in arrays:
      values = np.asarray(arrays[name])
      coords[name[len("history/") :]] = ("time", values.reshape(-1, values.shape[-1])[0])
  if "time" in coords:
    coords["time"] = coords["time"][1]
  return coords


def load(workdir: str | os.PathLike):
  """The merged sweep in ``workdir`` as an ``xarray.Dataset``.

  Args:
    workdir: a workdir whose sweep was merged (``results.npz/.json``, written
      by ``launch.sweep`` or ``python -m launch.sweep --merge_only``).

  Returns:
    One data variable per result array, with the dimensions described in
    this module's docstring; ``Dataset.to_dataframe()`` gives the tidy table.

  Raises:
    FileNotFoundError: no merged result in ``workdir`` (names the files).
  """
  import xarray as xr  # pylint: disable=g-import-not-at-top

  arrays, sidecar = merging.load_result(os.fspath(workdir))
  grid_names = list(sidecar["grid_names"])
  engine = sidecar["config"]["engine"]
  dims = sidecar.get("dims") or result_dims(arrays, grid_names, engine)
  coords = {}
  for name in grid_names:
    axis = sidecar["grid"][name]
    coords[name] = np.asarray(axis["values"])
    fields = axis.get("fields", {})
    if len(fields) > 1 or (fields and name not in fields):  # a zipped axis
      coords.update({field: (name, np.asarray(values)) for field, values in fields.items()})
  coords.update(_trailing_coords(arrays, dims))
  data_vars = {
      key: (tuple(dims[key]), value)
      for key, value in arrays.items()
      if not key.startswith(_AXIS_PREFIX) and not (key in SNAPSHOT_ARRAYS and "time" in coords)
  }
  environment = sidecar.get("environment", {})
  wall_time_s, unrecorded = merging.total_wall_time(sidecar)
  attrs = {
      "engine": engine,
      "config": json.dumps(sidecar["config"], sort_keys=True),
      "config_hash": sidecar["config_hash"],
      "units": sidecar.get("units"),
      "unit_name": sidecar.get("unit_name"),
      # Each chunk's time over its resumes (merging.total_wall_time): a lower
      # bound where some chunk's time before a resume went unrecorded.
      "wall_time_s": wall_time_s,
      "wall_time_unrecorded_chunks": ",".join(unrecorded) or None,
      "versions": json.dumps(environment.get("versions", {}), sort_keys=True),
      "device_kind": environment.get("device_kind"),
      "device_count": environment.get("device_count"),
      "platform": environment.get("platform"),
      "workdir": os.fspath(workdir),
  }
  return xr.Dataset(
      data_vars, coords=coords, attrs={k: v for k, v in attrs.items() if v is not None}
  )

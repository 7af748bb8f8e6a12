"""Joining the parts of a sweep into one result with named axes.

Each part holds ``[members, ...]`` arrays and the members' flat grid indices;
merging scatters them into ``[*grid.shape, ...]`` arrays. Members of different
static groups may have different trailing shapes (a deeper net has a longer
load curve): such arrays are padded at the end with NaN (floats), False or
-1 (integers) to the largest shape (`grid.scatter_members`, which
`train.train_grid` shares).
"""

from __future__ import annotations

import json
import os

import numpy as np
from absl import logging

from featurespring import grids as grid_lib
from featurespring.sweep import results
from featurespring import vocabulary

RESULT_STEM = "results"


def read_manifest(path: str) -> dict:
  """A workdir's ``sweep.json``; ``CorruptFileError`` if it is not a sweep manifest."""
  manifest = results.read_json(path)
  if not isinstance(manifest, dict) or not {"chunks", "config_hash", "grid", "config"} <= set(
      manifest
  ):
    raise results.CorruptFileError(
        path,
        "not a sweep manifest (it lacks chunks, config_hash, config or grid); move it "
        "aside and rerun launch.sweep with the sweep's --config",
    )
  return manifest


def check_part(stem: str, name: str, members) -> None:
  """Raises ``CorruptFileError`` unless the part at ``stem`` is chunk ``name`` with ``members``.

  A part copied or renamed onto another chunk's name passes its checksum (the
  pair is intact) but holds other runs; merged, it would leave the named
  chunk's cells empty (NaN) while saying nothing diverged.
  """
  with np.load(stem + ".npz", allow_pickle=False) as npz:
    stored = np.asarray(npz["members"]) if "members" in npz.files else None
  check_loaded_part(stem, results.read_json(stem + ".json"), stored, name, members)


def check_loaded_part(stem: str, sidecar: dict, stored_members, name: str, members) -> None:
  """:func:`check_part` on a part already read: its sidecar and stored ``members``."""
  if sidecar.get("chunk") != name:
    raise results.CorruptFileError(
        stem + ".json", f"it is the part of {sidecar.get('chunk')!r}, not of {name!r}"
    )
  if stored_members is None or not np.array_equal(stored_members, np.asarray(members)):
    raise results.CorruptFileError(
        stem + ".npz", f"its member indices are not those of {name} in the manifest"
    )


def merge(workdir: str) -> str:
  """Merges ``<workdir>/parts`` into ``<workdir>/results.{npz,json}``.

  Returns:
    The result stem (``<workdir>/results``).

  Raises:
    NotADirectoryError: if ``workdir`` is a file.
    FileNotFoundError: if there is no sweep in ``workdir``, or any chunk's
      part is missing; names them.
    ValueError: if a part was computed with another config than the
      manifest's (names the part and both config hashes).
    results.CorruptFileError: if a part is unreadable or fails its checksum.
  """
  results.check_workdir(workdir)
  manifest_path = os.path.join(workdir, "sweep.json")
  if not os.path.exists(manifest_path):
    raise FileNotFoundError(
        f"no sweep in {workdir}: sweep.json not found; run " "launch.sweep with --config first"
    )
  manifest = read_manifest(manifest_path)
  names = [c["name"] for c in manifest["chunks"]]
  stems = [os.path.join(workdir, "parts", n) for n in names]
  missing = [n for n, s in zip(names, stems) if not results.exists(s)]
  if missing:
    raise FileNotFoundError(
        f"cannot merge {workdir}: {len(missing)} of {len(names)} chunks have no "
        f"result yet ({', '.join(missing[:8])}{', ...' if len(missing) > 8 else ''});"
        " run the remaining tasks first"
    )
  parts = []
  for stem in stems:
    try:
      parts.append(results.load(stem))
    except results.CorruptFileError as e:
      raise results.CorruptFileError(
          e.path,
          f"{e.problem}. Rerun the sweep (its task) to move the part "
          "aside and compute the chunk again",
      ) from e
    chunk = manifest["chunks"][len(parts) - 1]
    arrays, sidecar = parts[-1]
    try:
      check_loaded_part(stem, sidecar, arrays.get("members"), chunk["name"], chunk["members"])
    except results.CorruptFileError as e:
      raise results.CorruptFileError(
          e.path,
          f"{e.problem}. Move it out of the workdir and rerun the sweep (its task) to "
          "compute the chunk again",
      ) from e
    part_hash = parts[-1][1].get("config_hash")
    if part_hash != manifest["config_hash"]:
      raise ValueError(
          f"{stem}.json was computed with config_hash {part_hash}, but the sweep "
          f"in {manifest_path} has config_hash {manifest['config_hash']}: the part "
          "comes from another config. Move it out of the workdir and rerun the "
          "sweep to compute its chunk again"
      )
  data = check_same_data([sidecar for _, sidecar in parts])
  grid_shape = tuple(manifest["grid_shape"])
  size = int(np.prod(grid_shape))
  covered = np.sort(np.concatenate([arrays["members"] for arrays, _ in parts]))
  if not np.array_equal(covered, np.arange(size)):
    raise ValueError(
        f"cannot merge {workdir}: its parts do not cover every run of the grid exactly "
        "once (the manifest's chunks and the parts disagree); rerun the sweep"
    )
  flat = grid_lib.scatter_members(
      [
          (arrays["members"], {k: v for k, v in arrays.items() if k != "members"})
          for arrays, _ in parts
      ],
      size,
  )
  merged = {key: array.reshape(grid_shape + array.shape[1:]) for key, array in flat.items()}
  for name, axis in manifest["grid"].items():
    merged[f"axis/{name}"] = np.asarray(axis["values"])
  sidecars = [p[1] for p in parts]
  # Imported here: the dataset module reads merged results through this one.
  from featurespring.sweep import dataset as dataset_lib  # pylint: disable=g-import-not-at-top

  stem = os.path.join(workdir, RESULT_STEM)
  results.save(
      stem,
      merged,
      {
          "config": manifest["config"],
          "config_hash": manifest["config_hash"],
          "grid": manifest["grid"],
          "grid_names": manifest["grid_names"],
          "dims": dataset_lib.result_dims(
              merged, manifest["grid_names"], manifest["config"]["engine"]
          ),
          "grid_shape": manifest["grid_shape"],
          "seeds": manifest["grid"]["seed"]["values"],
          "arrays": {k: list(v.shape) for k, v in merged.items()},
          "wall_time_s": sum(s["wall_time_s"] for s in sidecars),
          "num_chunks": len(parts),
          "unit_name": sidecars[0]["unit_name"],
          "units": sidecars[0]["units"],
          "environment": sidecars[0]["environment"],
          **({"data": data} if data else {}),
          "parts": {
              s["chunk"]: {
                  **{
                      k: s[k] for k in ("wall_time_s", "resumed_from_unit", "static", "num_members")
                  },
                  "wall_time_s_before_resume": _wall_before_resume(s),
              }
              for s in sidecars
          },
      },
  )
  logging.info("merged %d chunks into %s.npz", len(parts), stem)
  return stem


def check_same_data(sidecars: list[dict]) -> list[dict]:
  """The distinct data the parts saw; ``ValueError`` if the same settings gave two.

  Parts of one sweep may see different data only where their data settings
  differ (a swept training-set size); the same settings with two digests
  mean the files changed between tasks, and their results do not belong
  in one table.
  """
  seen = {}  # settings (JSON) -> {sha256: [chunk names]}
  for sidecar in sidecars:
    if sidecar.get("data"):
      key = json.dumps(sidecar["data"]["settings"], sort_keys=True)
      seen.setdefault(key, {}).setdefault(sidecar["data"]["sha256"], []).append(sidecar["chunk"])
  for key, digests in seen.items():
    if len(digests) > 1:
      listed = "; ".join(
          f"{', '.join(chunks[:4])}{', ...' if len(chunks) > 4 else ''} saw sha256 {sha[:12]}"
          for sha, chunks in digests.items()
      )
      raise ValueError(
          f"cannot merge: parts computed with the same data settings saw different data "
          f"({listed}): the data files changed between tasks. Keep one version: move the "
          "other parts (parts/<chunk>.npz and .json) out of the workdir and rerun their "
          "tasks with that version's files, then merge"
      )
  return [{"settings": json.loads(k), "sha256": sha} for k, d in seen.items() for sha in d]


def _wall_before_resume(part: dict) -> float | None:
  """A part's training time before its last invocation: 0 for a chunk that
  was never resumed, None where the part (or its checkpoint) predates the
  record."""
  if "wall_time_s_before_resume" in part:
    return part["wall_time_s_before_resume"]
  return 0.0 if int(part.get("resumed_from_unit", 0)) == 0 else None


def total_wall_time(sidecar: dict) -> tuple[float | None, list[str]]:
  """``(seconds, unrecorded)``: a merged result's training time, summed over its
  chunks, and the chunks whose time before a resume was not recorded.

  A chunk's time is that of the invocations its state was resumed through,
  each up to the checkpoint the next one resumed from (compiles included;
  waiting between invocations, and work after an interrupted invocation's
  last checkpoint, not). For an ``unrecorded`` chunk only its last invocation
  counts, so the sum is then a lower bound. A sidecar without parts gives its
  own ``wall_time_s`` (None if it has none) and no chunk names.
  """
  parts = sidecar.get("parts")
  if not parts:
    return sidecar.get("wall_time_s"), []
  total, unrecorded = 0.0, []
  for name, part in sorted(parts.items()):
    before = _wall_before_resume(part)
    if before is None:
      unrecorded.append(name)
    total += float(part["wall_time_s"]) + (before or 0.0)
  return total, unrecorded


def load_result(workdir: str) -> tuple[dict[str, np.ndarray], dict]:
  """``(arrays, sidecar)`` of the merged result in ``workdir``.

  Arrays are named as in `featurespring.vocabulary`; a result merged before
  it (``trajectory``, ``history/sep/train`` ...) is read under the current
  names, its ``dims`` too.
  """
  arrays, sidecar = results.load(os.path.join(workdir, RESULT_STEM))
  if sidecar.get("dims"):
    sidecar = dict(sidecar, dims=vocabulary.rename_legacy(sidecar["dims"]))
  return vocabulary.rename_legacy(arrays), sidecar

r"""The bridge report: does the chain's effective-friction law predict trained networks?

Reads finished sweeps (Fig. 1(a)-(d), S5, S6), fits the chain's shape to
every run's load curve (``bridge.fit_shape``: one signed friction per run),
then along every row the bounded-noise law of docs/theory.md §3
(``bridge.fit_noise_map``) for each candidate knob map, and writes
``experiments/bridge/README.md`` with:

* held-out tables (``heldout.held_out``): interpolation and extrapolation of
  the cells' friction, the theory against linear and row-mean baselines,
  R² and MAE with seed-bootstrap CIs, one verdict per prediction;
* the knob maps compared by held-out error (``heldout.compare_knob_maps``);
* universality (``universality_lib.compare_universality``, needs fig1a-d): one
  ``(mu_r, mu_l)`` per nonlinearity for all four knobs against separate fits,
  by AIC / BIC and held-out error;
* figures: fitted ``mu_r``, ``mu_l`` against ``1 - alpha`` and the collapse
  of friction against ``eps / eps*`` (PNG + PDF, in ``experiments/bridge/figures/``);
* ``experiments/bridge/dynamics.md`` verbatim, if it exists.

Every number in the doc is computed here. Run:

  python -m experiments.bridge.report --runs=runs/central --out=experiments/bridge/README.md
  python -m experiments.bridge.report --sweeps=s5=runs/central/s5,s6=runs/central/s6
"""

from __future__ import annotations

import os
import re
import warnings

from absl import app
from absl import flags
import numpy as np
import matplotlib  # pylint: disable=g-import-not-at-top,wrong-import-order

from featurespring import bridge
from featurespring.analysis import finished
from featurespring.sweep import merging

from experiments.bridge import catalogue
from experiments.bridge import figures as bridge_figures
from experiments.bridge import heldout
from experiments.bridge import markdown
from experiments.bridge import universality as universality_lib

FLAGS = flags.FLAGS


matplotlib.use("Agg")


def load_grid(workdir):
  """``(sweep, knob name, knob values, friction [Y, X, seed], row labels)`` of a finished sweep."""
  sweep = finished.FinishedSweep.load(workdir)
  curves = sweep.masked_cells(catalogue.CURVE_KEY)  # [Y, X, seed, L+1], diverged runs NaN
  # Rows of different depths (S5) are merged padded with NaN to the deepest
  # curve: each row is fit on its own layers, one fit_shape call per depth.
  friction = np.full(curves.shape[:3], np.nan)
  finite_layers = np.isfinite(curves).any(axis=(1, 2))  # [Y, L+1]
  depths = [int(np.flatnonzero(f)[-1]) + 1 if f.any() else 0 for f in finite_layers]
  for depth in sorted(set(depths) - {0}):
    rows = np.flatnonzero(np.asarray(depths) == depth)
    fit = bridge.fit_shape(curves[rows, ..., :depth].astype(np.float32))
    friction[rows] = np.asarray(fit.friction, np.float64)
  return sweep, sweep.x, np.asarray(sweep.values(sweep.x), np.float64), friction


def analyse_grid(name, workdir, num_boot, boot_seed):
  sweep, knob, values, friction = load_grid(workdir)
  quiet = int(np.argmin(sweep.noise_direction() * values))  # the least-noise column
  with np.errstate(all="ignore"):
    curvature_quiet = (
        np.nanmean(sweep.masked_cells("curvature")[:, quiet], -1)
        if "curvature" in sweep.arrays
        else np.full(len(sweep.y_values()), np.nan)
    )
  entry = {
      "quiet_column": quiet,
      "curvature_quiet": curvature_quiet,
      "name": name,
      "knob": knob,
      "knob_values": values,
      "rows_axis": sweep.y,
      "rows": np.asarray(sweep.y_values(), np.float64),
      "friction": friction,
      "num_seeds": friction.shape[-1],
      "valid_runs": int(np.isfinite(friction).sum()),
      "runs": int(friction.size),
  }
  candidates = bridge.KNOB_CANDIDATES.get(knob)
  if candidates is None:
    entry["skipped"] = f"no knob map for axis {knob!r}"
    return entry
  entry["maps"] = candidates
  with warnings.catch_warnings():
    # A cell whose every run diverged has no mean: NaN, and no fit uses it.
    warnings.simplefilter("ignore", RuntimeWarning)
    means = np.nanmean(np.where(np.isfinite(friction), friction, np.nan), -1)
  entry["fits"] = {}
  for m in candidates:
    try:
      entry["fits"][m] = bridge.fit_noise_map(values, means.astype(np.float32), knob_map=m)
    except ValueError as err:
      entry["fits"][m] = str(err)
  entry["held_out"] = {}
  for split in heldout.SPLITS:
    try:
      entry["held_out"][split] = heldout.compare_knob_maps(
          values, friction, candidates, split=split, num_boot=num_boot, boot_seed=boot_seed
      )
    except ValueError as err:
      entry["held_out"][split] = str(err)
  return entry


def universality(grids, num_boot, boot_seed):
  missing = [n for n in catalogue.UNIVERSAL if n not in grids or "skipped" in grids[n]]
  if missing:
    return f"not available: needs {', '.join(catalogue.UNIVERSAL)}; missing {', '.join(missing)}"
  rows = [grids[n]["rows"] for n in catalogue.UNIVERSAL]
  if any(r.shape != rows[0].shape or not np.allclose(r, rows[0]) for r in rows):
    return "not available: the four grids do not share their rows"
  try:
    out = universality_lib.compare_universality(
        [grids[n]["knob_values"] for n in catalogue.UNIVERSAL],
        [grids[n]["friction"] for n in catalogue.UNIVERSAL],
        [grids[n]["maps"][0] for n in catalogue.UNIVERSAL],
        num_boot=num_boot,
        boot_seed=boot_seed,
    )
  except ValueError as err:
    return f"not available: {err}"
  return out


def write_report(workdirs, out_md, *, num_boot=1000, boot_seed=0, dpi=110, commands=()):
  """Analyses ``workdirs`` (``{name: path}``), writes ``out_md`` and its figures; returns the grids."""
  doc_dir = os.path.dirname(os.path.abspath(out_md))
  fig_dir = os.path.join(doc_dir, "figures")
  grids, skipped = {}, {}
  for name, workdir in workdirs.items():
    if not os.path.exists(os.path.join(workdir, merging.RESULT_STEM + ".json")):
      skipped[name] = f"no finished results in {workdir}"
      continue
    grids[name] = analyse_grid(name, workdir, num_boot, boot_seed)
  universal = universality(grids, num_boot, boot_seed)
  figures = []
  stem = bridge_figures.figure_friction(grids, fig_dir, dpi)
  if stem:
    figures.append(
        (stem, "Fitted mu_r and mu_l against nonlinearity (each grid's default knob map)")
    )
  if grids:
    figures.append((bridge_figures.figure_collapse(grids, universal, fig_dir, dpi), "Collapse"))
  # The dynamics section (experiments/bridge/dynamics.py) is written beside
  # the doc, its links relative to the same folder: included verbatim.
  dynamics_path = os.path.join(doc_dir, "dynamics.md")
  dynamics = None
  if os.path.exists(dynamics_path):
    with open(dynamics_path) as f:
      dynamics = f.read()
  text = markdown.render(grids, skipped, universal, figures, dynamics, list(commands))
  os.makedirs(doc_dir, exist_ok=True)
  with open(out_md, "w") as f:
    f.write(text)
  return {"grids": grids, "skipped": skipped, "universality": universal, "figures": figures}


def _define_flags():
  """The command-line flags; defined only when run as a script, so that tests (and other
  scripts) can import this module beside others that define flags of the same names."""
  flags.DEFINE_string("runs", "runs/central", "Directory holding the sweep workdirs.")
  flags.DEFINE_list(
      "sweeps", [], "name=workdir pairs; default: fig1a fig1b fig1c fig1d s5 s6 under --runs."
  )
  flags.DEFINE_string(
      "out",
      "experiments/bridge/README.md",
      "The markdown report; its figures go into figures/ beside it.",
  )
  flags.DEFINE_integer("num_boot", 1000, "Seed-bootstrap replicates.")
  flags.DEFINE_integer("boot_seed", 0, "NumPy seed of the bootstrap.")
  flags.DEFINE_integer("dpi", 110, "Resolution of the PNGs.")


def main(argv):
  del argv
  if FLAGS.sweeps:
    workdirs = dict(item.split("=", 1) for item in FLAGS.sweeps)
  else:
    workdirs = {n: os.path.join(FLAGS.runs, n) for n in catalogue.SWEEPS}
  command = (
      f"python -m experiments.bridge.report --out={FLAGS.out} --num_boot={FLAGS.num_boot} "
      + (
          f"--sweeps={','.join(f'{k}={v}' for k, v in workdirs.items())}"
          if FLAGS.sweeps
          else f"--runs={FLAGS.runs}"
      )
  )
  write_report(
      workdirs,
      FLAGS.out,
      num_boot=FLAGS.num_boot,
      boot_seed=FLAGS.boot_seed,
      dpi=FLAGS.dpi,
      commands=[command],
  )


if __name__ == "__main__":
  _define_flags()
  app.run(main)

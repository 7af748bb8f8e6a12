r"""Issue 12.6: does a chain started from rest follow a network's load curves over training?

For every cell of two network sweeps, the seed-mean train load curve after
each epoch is fit by a chain (``k = 1``, ``y = 1``) and a time map
``t = s * epoch`` (``bridge._dynamics.fit_dynamics``: a grid of candidate
chains x time scales, one jitted search), with synchronous and with
independent noise, then refined by gradient (``refine_dynamics``), whose gain
is measured and reported. Sweeps (resumable; a finished one is only read):

  python -m launch.sweep --config=experiments/fig4_dynamics.py:engine=dnn \
      --workdir=runs/bridge_dynamics/fig4_dnn
  python -m launch.sweep --config=experiments/fig1c_dropout.py --config.grid.alpha='(0.0,)' \
      --config.seeds=3 --workdir=runs/bridge_dynamics/fig1c_row

This script runs them itself when they are missing, then writes figures to
``experiments/bridge/figures/dynamics_*.{png,pdf}``, the numbers to
``runs/bridge_dynamics/numbers.json`` and the section
``experiments/bridge/dynamics.md``:

  python -m experiments.bridge.dynamics
  # smoke test (each sweep's :runlocal, a small search): --quick --outdir=/tmp/bd
"""

from __future__ import annotations

import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import matplotlib
import numpy as np

from featurespring import plotting
from featurespring import sweep
from featurespring.analysis import docblocks
from featurespring.analysis import finished
from featurespring.sweep import results
from featurespring.bridge import _dynamics as dynamics

from experiments.bridge import dynamics_figures
from experiments.bridge import markdown as bridge_markdown
from experiments.bridge import dynamics_markdown
from experiments.bridge import relaxation

FLAGS = flags.FLAGS


matplotlib.use("Agg")


# Workdir -> (config file, argument, overrides): the two sweeps of the module docstring.
SWEEPS = {
    "fig4_dnn": ("fig4_dynamics.py", "engine=dnn", {}),
    "fig1c_row": ("fig1c_dropout.py", "", {"alpha": (0.0,), "seeds": 3}),
}


def load_config(name, quick):
  path, arg, overrides = SWEEPS[name]
  arg = ",".join(filter(None, (arg, "runlocal" if quick else "")))
  # The figure configs sit one level up, in experiments/.
  experiments = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  config = sweep.load_config(os.path.join(experiments, path) + (f":{arg}" if arg else ""))
  if "alpha" in overrides:
    config.grid.alpha = overrides["alpha"]
  if "seeds" in overrides and not quick:
    config.seeds = overrides["seeds"]
  if quick:  # :runlocal trains 2 epochs; the time map needs at least 3
    config.dnn.num_epochs = 4
  return config


def cell_data(sw):
  """Seed-mean trajectories ``[X, E, L+1]``, epochs ``[E]``, labels, final curvature ``[X]``."""
  traj = sw.finite_cells("history/load_curve")[0]  # first (only) row: [X, seed, E, L+1]
  with np.errstate(invalid="ignore"):
    mean = plotting.finite_mean(traj, axis=1)
  epochs = np.asarray(sw.snapshot_times()[0, 0, 0], np.float64)
  curvature = plotting.finite_mean(sw.finite_cells("curvature")[0], axis=1)
  if sw.x == "case":
    names = ("lazy", "balanced", "active")
    labels = [names[i] if i < len(names) else f"case {i}" for i in range(mean.shape[0])]
  else:
    labels = [f"{sw.x}={v:g}" for v in sw.values(sw.x)]
  return mean, epochs, labels, curvature


def fit_sweep(mean, epochs, num_candidates, chain_seeds, refine_iterations):
  """Per noise mode: the grid fit, the refined fit, their numbers and timings."""
  out = {}
  for mode in dynamics_markdown.MODES:
    start = time.time()
    fit = dynamics.fit_dynamics(
        mean, epochs, noise=mode, num_candidates=num_candidates, chain_seeds=chain_seeds
    )
    jax_block(fit)
    search_s = time.time() - start
    refined, info, refine_s = fit, None, 0.0
    if refine_iterations:
      start = time.time()
      refined, info = dynamics.refine_dynamics(fit, mean, epochs, num_iterations=refine_iterations)
      jax_block(refined)
      refine_s = time.time() - start
    fitted = np.asarray(dynamics.fitted_trajectory(refined, epochs), np.float64)
    out[mode] = dict(
        grid=fit,
        fit=refined,
        info=info,
        fitted=fitted,
        search_s=search_s,
        refine_s=refine_s,
        num_candidates=int(
            dynamics.candidate_grid(mean.shape[-1] - 1, epochs[-1], num_candidates).size
        ),
        num_steps=fit.num_steps,
        at_edge=at_edge(fit, mean.shape[-1] - 1, epochs[-1], num_candidates),
    )
  return out


def at_edge(fit, num_blocks, max_epoch, num_candidates):
  """Valid cells whose grid-best value is the largest of its axis (smallest too for ``s``).

  A best candidate on the edge means the grid, not the data, bounds the fit.
  """
  grid = dynamics.candidate_grid(num_blocks, max_epoch, num_candidates)
  valid = np.asarray(fit.valid)
  count = lambda hit: int(np.sum(valid & hit))
  value = lambda name: np.asarray(getattr(fit, name), np.float64)
  edges = {
      name: count(np.isclose(value(name), getattr(grid, name).max(), rtol=1e-5))
      for name in ("mu_right", "mu_left", "noise", "time_scale")
  }
  edges["time_scale_low"] = count(np.isclose(value("time_scale"), grid.time_scale.min(), rtol=1e-5))
  return edges


def jax_block(fit):
  np.asarray(fit.r2)


def _define_flags():
  """The command-line flags; defined only when run as a script, so that tests (and other
  scripts) can import this module beside others that define flags of the same names."""
  flags.DEFINE_string("outdir", "runs/bridge_dynamics", "Sweep workdirs and numbers.")
  flags.DEFINE_string("figures", "experiments/bridge/figures", "Where the figures go.")
  flags.DEFINE_string("doc", "experiments/bridge/dynamics.md", "The markdown section written.")
  flags.DEFINE_string(
      "report",
      "experiments/bridge/README.md",
      "The bridge report whose copy of the section is rewritten (empty: none).",
  )
  flags.DEFINE_integer(
      "num_candidates", dynamics.DEFAULT_CANDIDATES, "Candidates (chains x time scales) per cell."
  )
  flags.DEFINE_integer("chain_seeds", 4, "Noise realisations per candidate chain.")
  flags.DEFINE_integer("refine_iterations", 30, "Adam steps of the refinement (0: none).")
  flags.DEFINE_bool("quick", False, "Sweeps at :runlocal size and a small search.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  quick = FLAGS.quick
  num_candidates = 256 if quick else FLAGS.num_candidates
  refine = min(FLAGS.refine_iterations, 3) if quick else FLAGS.refine_iterations
  numbers = {"chain_seeds": FLAGS.chain_seeds, "sweeps": {}}
  commands = []
  for name, (path, arg, overrides) in SWEEPS.items():
    workdir = os.path.join(FLAGS.outdir, name)
    config = load_config(name, quick)
    sweep.run(config, workdir)
    flags_text = "".join(
        f" --config.grid.{k}='{v}'" if k == "alpha" else f" --config.{k}={v}"
        for k, v in overrides.items()
    )
    commands.append(
        f"python -m launch.sweep --config=experiments/{path}"
        f"{':' + arg if arg else ''}{flags_text} --workdir={workdir}"
    )
    sw = finished.FinishedSweep.load(workdir)
    mean, epochs, labels, curvature = cell_data(sw)
    logging.info("%s: %d cells, %d epochs, %d layers", name, *mean.shape)
    fits = fit_sweep(mean, epochs, num_candidates, FLAGS.chain_seeds, refine)
    if sw.x == "case":
      cells = list(zip(range(mean.shape[0]), ("lazy", "balanced", "active")))
    else:
      corners = sw.corner_cells()
      cells = [(col, kind) for (_, col), kind in zip(corners, ("lazy", "balanced", "active"))]
    figures = dynamics_figures.plot_cells(
        os.path.join(FLAGS.figures, f"dynamics_{name}_cells"),
        name,
        mean,
        epochs,
        labels,
        cells,
        fits,
    )
    if sw.x != "case":
      figures += dynamics_figures.plot_row(
          os.path.join(FLAGS.figures, f"dynamics_{name}_r2"), name, sw, fits
      )
    rows = dynamics_markdown.cell_numbers(
        labels, curvature, fits, relaxation.fit_relaxation(mean, epochs)
    )
    numbers["sweeps"][name] = {
        "workdir": workdir,
        "cells": rows,
        "figures": [os.path.relpath(f, os.path.dirname(FLAGS.doc)) for f in figures],
        "timing": {
            mode: {
                k: fits[mode][k]
                for k in ("search_s", "refine_s", "num_candidates", "num_steps", "at_edge")
            }
            for mode in dynamics_markdown.MODES
        },
        "verdict": {
            mode: dynamics_markdown.verdict_of(rows, mode) for mode in dynamics_markdown.MODES
        },
    }
  commands.append(
      "python -m experiments.bridge.dynamics"
      + (" --quick" if quick else "")
      + f" --num_candidates={num_candidates} --refine_iterations={refine}"
  )
  all_rows = [
      (row, mode)
      for e in numbers["sweeps"].values()
      for row in e["cells"]
      for mode in dynamics_markdown.MODES
  ]
  valid = [(row, mode) for row, mode in all_rows if row[mode]["valid"]]
  gains = np.array([row[mode]["r2"] - row[mode]["r2_grid"] for row, mode in valid])
  dyn_gains = np.array(
      [row[mode]["r2_dynamic"] - row[mode]["r2_dynamic_grid"] for row, mode in valid]
  )
  diffs = np.array(
      [
          row["synchronous"]["r2"] - row["independent"]["r2"]
          for e in numbers["sweeps"].values()
          for row in e["cells"]
          if row["synchronous"]["valid"] and row["independent"]["valid"]
      ]
  )
  follows = sum(row[mode]["follows"] for row, mode in valid)
  # The chain against the relaxing-shape competitor, fit by fit (both scored on R2dyn).
  versus = np.array(
      [row[mode]["r2_dynamic"] - row["relaxation"]["r2_dynamic"] for row, mode in valid]
  )
  versus = versus[np.isfinite(versus)]
  reversed_friction = [
      f"{name} {row['cell']} ({mode})"
      for name, e in numbers["sweeps"].items()
      for row in e["cells"]
      for mode in dynamics_markdown.MODES
      if row[mode]["valid"] and row[mode]["mu_right"] > row[mode]["mu_left"]
  ]
  timing = [t for e in numbers["sweeps"].values() for t in e["timing"].values()]
  numbers["overall"] = {
      "cells": sum(len(e["cells"]) for e in numbers["sweeps"].values()),
      "fits": len(all_rows),
      "follows": follows,
      "median_gain": float(np.median(gains)),
      "max_gain": float(gains.max()),
      "median_dynamic_gain": float(np.median(dyn_gains)),
      "max_dynamic_gain": float(dyn_gains.max()),
      "refine_helps": bool(np.median(dyn_gains) >= dynamics_markdown.REFINE_HELPS),
      "sync_minus_indep_r2": float(np.median(diffs)),
      "max_abs_mode_difference": float(np.max(np.abs(diffs))),
      "valid_fits": len(valid),
      "at_edge": {k: int(sum(t["at_edge"][k] for t in timing)) for k in timing[0]["at_edge"]},
      "chain_beats_relaxation": int((versus > 0).sum()),
      "versus_relaxation": len(versus),
      "median_chain_minus_relaxation_r2_dynamic": float(np.median(versus))
      if versus.size
      else float("nan"),
      "mu_right_above_mu_left": reversed_friction,
      "search_s": float(sum(t["search_s"] for t in timing)),
      "refine_s": float(sum(t["refine_s"] for t in timing)),
      "verdict": (
          "The chain from rest follows the networks' load-curve dynamics in every cell "
          "(both noise modes)."
          if follows == len(all_rows)
          else f"The chain from rest follows the dynamics in {follows} of {len(all_rows)} fits; "
          "see the tables for the cells that fail."
      ),
  }
  os.makedirs(FLAGS.outdir, exist_ok=True)
  results.write_json(os.path.join(FLAGS.outdir, "numbers.json"), numbers)
  os.makedirs(os.path.dirname(FLAGS.doc), exist_ok=True)
  section = dynamics_markdown.markdown(numbers, commands)
  results.write_text(FLAGS.doc, section)
  # The bridge report includes this section; keep its copy current without its sweeps.
  if FLAGS.report and os.path.exists(FLAGS.report):
    docblocks.write_block(
        FLAGS.report, section, bridge_markdown.DYNAMICS_BEGIN, bridge_markdown.DYNAMICS_END
    )
  print(json.dumps(numbers["overall"], indent=1))


if __name__ == "__main__":
  _define_flags()
  app.run(main)

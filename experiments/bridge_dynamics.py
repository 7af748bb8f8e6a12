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
``docs/figures/bridge/dynamics_*.{png,pdf}``, the numbers to
``runs/bridge_dynamics/numbers.json`` and the section
``docs/bridge/dynamics.md``:

  python experiments/bridge_dynamics.py
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

FLAGS = flags.FLAGS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from featurespring import plotting  # pylint: disable=g-import-not-at-top
from featurespring import sweep
from featurespring.analysis import finished
from featurespring.bridge import _dynamics as dynamics

# Workdir -> (config file, argument, overrides): the two sweeps of the module docstring.
SWEEPS = {
    "fig4_dnn": ("fig4_dynamics.py", "engine=dnn", {}),
    "fig1c_row": ("fig1c_dropout.py", "", {"alpha": (0.0,), "seeds": 3}),
}
MODES = dynamics.NOISE_MODES
# Verdict rule, fixed before reading the numbers: the chain follows the
# trajectory of a cell if R^2 >= 0.9 (the map explains the bulk) and
# R^2_dynamic >= 0.5 (it explains at least half of the change over time that
# a static curve cannot); the sweep passes if every valid cell does.
R2_MIN, R2_DYNAMIC_MIN = 0.9, 0.5
# The refinement helps if it raises the median R^2_dynamic by this much.
REFINE_HELPS = 0.02


def load_config(name, quick):
  path, arg, overrides = SWEEPS[name]
  arg = ",".join(filter(None, (arg, "runlocal" if quick else "")))
  here = os.path.dirname(os.path.abspath(__file__))
  config = sweep.load_config(os.path.join(here, path) + (f":{arg}" if arg else ""))
  if "alpha" in overrides:
    config.grid.alpha = overrides["alpha"]
  if "seeds" in overrides and not quick:
    config.seeds = overrides["seeds"]
  if quick:  # :runlocal trains 2 epochs; the time map needs at least 3
    config.dnn.num_epochs = 4
  return config


def cell_data(sw):
  """Seed-mean trajectories ``[X, E, L+1]``, epochs ``[E]``, labels, final curvature ``[X]``."""
  traj = sw.finite_cells("trajectory")[0]  # first (only) row: [X, seed, E, L+1]
  with np.errstate(invalid="ignore"):
    mean = plotting.finite_mean(traj, axis=1)
  epochs = np.asarray(sw.cells("trajectory_time")[0, 0, 0], np.float64)
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
  for mode in MODES:
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


def plot_cells(path, name, mean, epochs, labels, cells, fits):
  """Each layer's separation over epochs: network (solid) and fitted chain (dashed)."""
  num_layers = mean.shape[-1]
  colours = plt.cm.viridis(np.linspace(0.0, 0.9, num_layers))
  fig, axes = plt.subplots(
      len(MODES), len(cells), figsize=(3.8 * len(cells), 3.1 * len(MODES)), squeeze=False
  )
  for row, mode in enumerate(MODES):
    fit, fitted = fits[mode]["fit"], fits[mode]["fitted"]
    for col, (cell, kind) in enumerate(cells):
      ax = axes[row, col]
      for layer, colour in enumerate(colours):
        ax.plot(epochs, mean[cell, :, layer], "-", color=colour, lw=1.5)
        ax.plot(epochs, fitted[cell, :, layer], "--", color=colour, lw=1.1)
      ax.set_xscale("log")
      title = kind if labels[cell] == kind else f"{kind}: {labels[cell]}"
      if bool(np.asarray(fit.valid)[cell]):
        numbers = (
            f"R²={float(fit.r2[cell]):.3f}, R²dyn={float(fit.r2_dynamic[cell]):.2f}, "
            f"s={float(fit.time_scale[cell]):.3g}"
        )
      else:
        numbers = f"no fit ({dynamics.REASONS[int(fit.reason[cell])]})"
      ax.set_title(f"{title}\n{mode} noise: {numbers}", fontsize=8)
      ax.set_xlabel("epoch", fontsize=8)
      ax.tick_params(labelsize=7)
      if col == 0:
        ax.set_ylabel("separation D_l (train)", fontsize=8)
  handles = [plt.Line2D([], [], color=c, lw=1.5) for c in colours]
  handles += [
      plt.Line2D([], [], color="k", ls="-", lw=1.5),
      plt.Line2D([], [], color="k", ls="--", lw=1.1),
  ]
  fig.legend(
      handles,
      [f"layer {l}" for l in range(num_layers)] + ["network (seed mean)", "chain from rest (fit)"],
      loc="lower center",
      ncol=num_layers + 2,
      fontsize=7,
      frameon=False,
  )
  fig.suptitle(
      f"{name}: network load curves over training vs a chain from rest at t = s·epoch", fontsize=10
  )
  fig.tight_layout(rect=(0, 0.05, 1, 0.97))
  return save(fig, path)


def plot_row(path, name, sw, fits):
  """R², R²_dynamic and the time scale per cell across the row, both noise modes."""
  x = sw.values(sw.x)
  fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.2))
  for mode, marker in zip(MODES, ("o", "s")):
    fit = fits[mode]["fit"]
    axes[0].plot(x, np.asarray(fit.r2), marker + "-", label=mode, ms=4)
    axes[1].plot(x, np.asarray(fit.r2_dynamic), marker + "-", label=mode, ms=4)
    axes[2].semilogy(x, np.asarray(fit.time_scale), marker + "-", label=mode, ms=4)
  axes[0].axhline(R2_MIN, color="grey", ls=":", lw=1)
  axes[1].axhline(R2_DYNAMIC_MIN, color="grey", ls=":", lw=1)
  axes[1].axhline(0.0, color="k", lw=0.5)
  titles = ("trajectory R²", "R²_dynamic (vs best static curve)", "time scale s (chain time/epoch)")
  for ax, title in zip(axes, titles):
    ax.set_xlabel(sw.x)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
  fig.suptitle(f"{name}: chain-from-rest fit per cell (dotted: verdict thresholds)", fontsize=10)
  fig.tight_layout()
  return save(fig, path)


def save(fig, path):
  written = plotting.save_figure(fig, path, dpi=130)
  plt.close(fig)
  return written


def cell_numbers(labels, curvature, fits):
  rows = []
  for c, label in enumerate(labels):
    row = {"cell": label, "final_curvature": float(curvature[c])}
    for mode in MODES:
      fit, grid, info = fits[mode]["fit"], fits[mode]["grid"], fits[mode]["info"]
      row[mode] = {
          name: float(np.asarray(getattr(fit, name))[c])
          for name in (
              "r2",
              "r2_dynamic",
              "time_scale",
              "mu_right",
              "mu_left",
              "noise",
              "scale",
              "offset",
          )
      }
      row[mode].update(
          valid=bool(np.asarray(fit.valid)[c]),
          reason=dynamics.REASONS[int(np.asarray(fit.reason)[c])],
          r2_grid=float(np.asarray(grid.r2)[c]),
          r2_dynamic_grid=float(np.asarray(grid.r2_dynamic)[c]),
          refined=bool(int(np.asarray(fit.candidate)[c]) == -2),
      )
      row[mode]["follows"] = bool(
          row[mode]["valid"]
          and row[mode]["r2"] >= R2_MIN
          and row[mode]["r2_dynamic"] >= R2_DYNAMIC_MIN
      )
    rows.append(row)
  return rows


def markdown(numbers, commands):
  lines = [
      "## Dynamics: a chain from rest against the networks' load curves over training",
      "",
      "Generated by `experiments/bridge_dynamics.py` (issue 12, point 6); every number below is "
      "computed by it. Each cell's seed-mean train load curve `D_l(e)` after every epoch `e` is "
      "fit by a chain (`k = 1`, `y = 1`, started from rest) read at chain time `t = s * e`, "
      "up to one affine map per cell, `D_l(e) ~ a + b d_l(s e)` with `b > 0` "
      "(`featurespring.bridge._dynamics.fit_dynamics`). The search simulates a grid of "
      "candidate chains (friction `mu_r`, `mu_l`, noise `eps`) once and reads every time scale "
      "off the recorded trajectory; all candidates of all cells are scored in one jitted call. "
      "Each candidate is the mean of "
      f"{numbers['chain_seeds']} noise realisations (the same keys for all candidates). "
      "`R2` is over all (epoch, layer) entries; `R2dyn = 1 - SSR / SS_time` compares with "
      "each layer's mean over epochs, so it is > 0 only if the chain beats every curve "
      "that is constant in time. The gradient refinement (Adam through the scan with the "
      "friction's kinks smoothed, then re-simulated exactly; kept only where it gains) is "
      "reported as the gain over the grid's best.",
      "",
      "Commands:",
      "",
      "```",
      *commands,
      "```",
      "",
      f"**Verdict rule** (fixed before the runs): the chain follows a cell if `R2 >= {R2_MIN}` "
      f"and `R2dyn >= {R2_DYNAMIC_MIN}`; a sweep passes for a noise mode if every valid cell "
      "does.",
      "",
  ]
  for name, entry in numbers["sweeps"].items():
    lines += [f"### {name} (`{entry['workdir']}`)", ""]
    for mode in MODES:
      timing = entry["timing"][mode]
      lines.append(
          f"- {mode}: {timing['num_candidates']} candidates per cell, "
          f"{timing['num_steps']} chain steps; search {timing['search_s']:.1f} s, refinement "
          f"{timing['refine_s']:.1f} s (wall, shared 2-core CPU). Valid cells whose grid-best "
          "value is on the grid's edge (upper, and lower for time_scale_low; a bound set by the grid, not "
          "the data): " + ", ".join(f"{k} {v}" for k, v in timing["at_edge"].items()) + "."
      )
    lines += [
        "",
        "| cell | final curvature | noise | R2 | R2dyn | refinement gain (R2 / R2dyn) | s "
        "(time/epoch) | mu_r | mu_l | eps | follows |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in entry["cells"]:
      for mode in MODES:
        r = row[mode]
        if not r["valid"]:
          lines.append(
              f"| {row['cell']} | {row['final_curvature']:.3g} | {mode} | invalid "
              f"({r['reason']}) | | | | | | | no |"
          )
          continue
        lines.append(
            f"| {row['cell']} | {row['final_curvature']:.3g} | {mode} | {r['r2']:.4f} | "
            f"{r['r2_dynamic']:.3f} | {r['r2'] - r['r2_grid']:+.4f} / "
            f"{r['r2_dynamic'] - r['r2_dynamic_grid']:+.3f} | {r['time_scale']:.3g} | "
            f"{r['mu_right']:.3g} | {r['mu_left']:.3g} | {r['noise']:.3g} | "
            f"{'yes' if r['follows'] else 'no'} |"
        )
    lines.append("")
    for mode in MODES:
      v = entry["verdict"][mode]
      lines.append(
          f"- **{mode}**: {v['follows']}/{v['valid']} valid cells follow; median R2 "
          f"{v['median_r2']:.3f}, median R2dyn {v['median_r2_dynamic']:.3f}; refinement raised "
          f"R2 in {v['refined']} cells by up to {v['max_gain']:.4f} (median gain "
          f"{v['median_gain']:.4f} in R2, {v['median_dynamic_gain']:.3f} in R2dyn). "
          f"Verdict: **{v['verdict']}**."
      )
    lines += [""] + [f"![{name}]({f})" for f in entry["figures"] if f.endswith(".png")] + [""]
  v = numbers["overall"]
  lines += [
      "### Verdict",
      "",
      f"- Over all {v['cells']} cells and both noise modes, {v['follows']} of {v['fits']} fits "
      f"follow. Synchronous minus independent R2: median {v['sync_minus_indep_r2']:+.4f}, "
      f"largest |difference| {v['max_abs_mode_difference']:.4f}.",
      f"- Gradient refinement: median gain {v['median_gain']:.4f} in R2 (largest "
      f"{v['max_gain']:.4f}) and {v['median_dynamic_gain']:.3f} in R2dyn (largest "
      f"{v['max_dynamic_gain']:.3f}), for {v['refine_s']:.0f} s against {v['search_s']:.0f} s "
      f"of search; it {'helps' if v['refine_helps'] else 'does not help materially'} "
      f"(rule: helps if the median R2dyn gain is >= {REFINE_HELPS}).",
      f"- The grid-best noise sits on the grid's upper edge in {v['noise_at_edge']} of "
      f"{v['valid_fits']} valid fits: there the seed-mean trajectory does not pin `eps` "
      "(the refinement, free of the grid, moves it by little and gains little), so read "
      "the fitted `eps` as a lower bound.",
      f"- **{v['verdict']}**",
      "",
  ]
  return "\n".join(lines)


def verdict_of(cells, mode):
  rows = [c[mode] for c in cells if c[mode]["valid"]]
  gains = np.array([r["r2"] - r["r2_grid"] for r in rows]) if rows else np.zeros(0)
  dyn_gains = np.array([r["r2_dynamic"] - r["r2_dynamic_grid"] for r in rows])
  follows = sum(r["follows"] for r in rows)
  return {
      "valid": len(rows),
      "follows": follows,
      "median_r2": float(np.median([r["r2"] for r in rows])) if rows else float("nan"),
      "median_r2_dynamic": (
          float(np.median([r["r2_dynamic"] for r in rows])) if rows else float("nan")
      ),
      "refined": int(sum(r["refined"] for r in rows)),
      "max_gain": float(gains.max()) if gains.size else 0.0,
      "median_gain": float(np.median(gains)) if gains.size else 0.0,
      "median_dynamic_gain": float(np.median(dyn_gains)) if gains.size else 0.0,
      "verdict": (
          "no valid cells"
          if not rows
          else "passes"
          if follows == len(rows)
          else f"fails ({len(rows) - follows} cells)"
      ),
  }


def _define_flags():
  """The command-line flags; defined only when run as a script, so that tests (and other
  scripts) can import this module beside others that define flags of the same names."""
  flags.DEFINE_string("outdir", "runs/bridge_dynamics", "Sweep workdirs and numbers.")
  flags.DEFINE_string("figures", "docs/figures/bridge", "Where the figures go.")
  flags.DEFINE_string("doc", "docs/bridge/dynamics.md", "The markdown section written.")
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
    figures = plot_cells(
        os.path.join(FLAGS.figures, f"dynamics_{name}_cells"),
        name,
        mean,
        epochs,
        labels,
        cells,
        fits,
    )
    if sw.x != "case":
      figures += plot_row(os.path.join(FLAGS.figures, f"dynamics_{name}_r2"), name, sw, fits)
    rows = cell_numbers(labels, curvature, fits)
    numbers["sweeps"][name] = {
        "workdir": workdir,
        "cells": rows,
        "figures": [os.path.relpath(f, os.path.dirname(FLAGS.doc)) for f in figures],
        "timing": {
            mode: {
                k: fits[mode][k]
                for k in ("search_s", "refine_s", "num_candidates", "num_steps", "at_edge")
            }
            for mode in MODES
        },
        "verdict": {mode: verdict_of(rows, mode) for mode in MODES},
    }
  commands.append(
      "python experiments/bridge_dynamics.py"
      + (" --quick" if quick else "")
      + f" --num_candidates={num_candidates} --refine_iterations={refine}"
  )
  all_rows = [
      (row, mode) for e in numbers["sweeps"].values() for row in e["cells"] for mode in MODES
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
  timing = [t for e in numbers["sweeps"].values() for t in e["timing"].values()]
  numbers["overall"] = {
      "cells": sum(len(e["cells"]) for e in numbers["sweeps"].values()),
      "fits": len(all_rows),
      "follows": follows,
      "median_gain": float(np.median(gains)),
      "max_gain": float(gains.max()),
      "median_dynamic_gain": float(np.median(dyn_gains)),
      "max_dynamic_gain": float(dyn_gains.max()),
      "refine_helps": bool(np.median(dyn_gains) >= REFINE_HELPS),
      "sync_minus_indep_r2": float(np.median(diffs)),
      "max_abs_mode_difference": float(np.max(np.abs(diffs))),
      "valid_fits": len(valid),
      "noise_at_edge": int(sum(t["at_edge"]["noise"] for t in timing)),
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
  with open(os.path.join(FLAGS.outdir, "numbers.json"), "w") as f:
    json.dump(numbers, f, indent=1)
  os.makedirs(os.path.dirname(FLAGS.doc), exist_ok=True)
  with open(FLAGS.doc, "w") as f:
    f.write(markdown(numbers, commands))
  print(json.dumps(numbers["overall"], indent=1))


if __name__ == "__main__":
  _define_flags()
  app.run(main)

r"""The bridge report: does the chain's effective-friction law predict trained networks?

Reads finished sweeps (Fig. 1(a)-(d), S5, S6), fits the chain's shape to
every run's load curve (``bridge.fit_shape``: one signed friction per run),
then along every row the bounded-noise law of SPEC §3
(``bridge.fit_noise_map``) for each candidate knob map, and writes
``docs/bridge.md`` with:

* held-out tables (``bridge.held_out``): interpolation and extrapolation of
  the cells' friction, the theory against linear and row-mean baselines,
  R² and MAE with seed-bootstrap CIs, one verdict per prediction;
* the knob maps compared by held-out error (``bridge.compare_knob_maps``);
* universality (``bridge.compare_universality``, needs fig1a-d): one
  ``(mu_r, mu_l)`` per nonlinearity for all four knobs against separate fits,
  by AIC / BIC and held-out error;
* figures: fitted ``mu_r``, ``mu_l`` against ``1 - alpha`` and the collapse
  of friction against ``eps / eps*`` (PNG + PDF, in ``docs/bridge/``);
* ``docs/bridge/dynamics.md`` verbatim, if it exists.

Every number in the doc is computed here. Run:

  python experiments/bridge_report.py --runs=runs/central --out=docs/bridge.md
  python experiments/bridge_report.py --sweeps=s5=runs/central/s5,s6=runs/central/s6
"""

from __future__ import annotations

import math
import os
import re
import warnings

from absl import app
from absl import flags
import numpy as np

from featurespring import bridge
from featurespring import plotting
from featurespring.analysis import finished
from featurespring.sweep import merging

import matplotlib  # pylint: disable=g-import-not-at-top,wrong-import-order

FLAGS = flags.FLAGS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-order

SWEEPS = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6")
UNIVERSAL = ("fig1a", "fig1b", "fig1c", "fig1d")
TITLES = {
    "fig1a": "Fig. 1(a) label + data noise",
    "fig1b": "Fig. 1(b) learning rate",
    "fig1c": "Fig. 1(c) dropout",
    "fig1d": "Fig. 1(d) batch size",
    "s5": "S5 depth x dropout",
    "s6": "S6 width x dropout",
}
# The load curve the friction is fit to: train-set trace separation.
CURVE_KEY = "load_curve"

RULE = (
    "**Verdict rule.** A prediction is *supported* when the 95 % seed-bootstrap CI of "
    "MAE(baseline) - MAE(theory) lies above 0 for both baselines (linear and row mean), "
    "*not supported* when it lies below 0 for either, *inconclusive* otherwise. Universality is "
    "*supported* when both ΔAIC and ΔBIC (separate - joint) are > 0 and the CI of the held-out "
    "MAE difference (separate - joint) lies above 0, *rejected* when both Δ are < 0 and that CI "
    "lies below 0, *inconclusive* otherwise. The preferred knob map is the one with the lowest "
    "interpolation MAE of the theory; it is *clearly* preferred when its CI's upper end is below "
    "every other map's point value."
)


def _fmt(value, digits=4):
  if value is None or (isinstance(value, float) and not math.isfinite(value)):
    return "—"
  return f"{value:.{digits}g}"


def _ci(entry, digits=3):
  return f"{_fmt(entry['value'], digits)} [{_fmt(entry['low'], digits)}, {_fmt(entry['high'], digits)}]"


def prediction_verdict(difference):
  lows = [difference[b]["mae"]["low"] for b in bridge.BASELINES]
  highs = [difference[b]["mae"]["high"] for b in bridge.BASELINES]
  if not all(math.isfinite(v) for v in lows + highs):
    return "inconclusive"
  if all(v > 0 for v in lows):
    return "supported"
  if any(v < 0 for v in highs):
    return "not supported"
  return "inconclusive"


def load_grid(workdir):
  """``(sweep, knob name, knob values, friction [Y, X, seed], row labels)`` of a finished sweep."""
  sweep = finished.FinishedSweep.load(workdir)
  curves = sweep.masked_cells(CURVE_KEY)  # [Y, X, seed, L+1], diverged runs NaN
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
  for split in bridge.SPLITS:
    try:
      entry["held_out"][split] = bridge.compare_knob_maps(
          values, friction, candidates, split=split, num_boot=num_boot, boot_seed=boot_seed
      )
    except ValueError as err:
      entry["held_out"][split] = str(err)
  return entry


def universality(grids, num_boot, boot_seed):
  missing = [n for n in UNIVERSAL if n not in grids or "skipped" in grids[n]]
  if missing:
    return f"not available: needs {', '.join(UNIVERSAL)}; missing {', '.join(missing)}"
  rows = [grids[n]["rows"] for n in UNIVERSAL]
  if any(r.shape != rows[0].shape or not np.allclose(r, rows[0]) for r in rows):
    return "not available: the four grids do not share their rows"
  try:
    out = bridge.compare_universality(
        [grids[n]["knob_values"] for n in UNIVERSAL],
        [grids[n]["friction"] for n in UNIVERSAL],
        [grids[n]["maps"][0] for n in UNIVERSAL],
        num_boot=num_boot,
        boot_seed=boot_seed,
    )
  except ValueError as err:
    return f"not available: {err}"
  return out


def universality_verdict(out):
  d_aic, d_bic, diff = out["delta_aic"], out["delta_bic"], out["mae_difference"]
  if d_aic > 0 and d_bic > 0 and diff["low"] > 0:
    return "supported"
  if d_aic < 0 and d_bic < 0 and diff["high"] < 0:
    return "rejected"
  return "inconclusive"


def _row_label(entry, value):
  return f"{'1-alpha' if entry['rows_axis'] == 'alpha' else entry['rows_axis']}={_fmt(value, 3)}"


def figure_friction(grids, fig_dir, dpi):
  usable = [g for g in grids.values() if "fits" in g]
  if not usable:
    return None
  fig, axes = plt.subplots(1, len(usable), figsize=(3.6 * len(usable), 3.2), squeeze=False)
  for ax, g in zip(axes[0], usable):
    fit = g["fits"][g["maps"][0]]
    if isinstance(fit, str):
      ax.set_title(f"{g['name']}: no fit")
      continue
    x = g["rows"]
    ax.plot(x, np.asarray(fit.mu_right), "o-", label="mu_r")
    mu_l = np.asarray(fit.mu_left, np.float64)
    ax.plot(x, np.where(np.isfinite(mu_l), mu_l, np.nan), "s--", label="mu_l (finite)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("1 - alpha" if g["rows_axis"] == "alpha" else g["rows_axis"])
    ax.set_ylabel("fitted friction")
    ax.set_title(f"{TITLES.get(g['name'], g['name'])}\nmap {g['maps'][0]}", fontsize=9)
    ax.legend(fontsize=7)
  row_axes = sorted(
      {"nonlinearity (1 - alpha)" if g["rows_axis"] == "alpha" else g["rows_axis"] for g in usable}
  )
  fig.suptitle(f"Chain friction fitted per row against {', '.join(row_axes)}", fontsize=10)
  fig.tight_layout()
  return _save(fig, fig_dir, "friction_vs_nonlinearity", dpi)


def _collapse_rows(grids, universal):
  """``(source, [(grid, x, y, floored, friction, position)])``: every cell, [rows, levels] each.

  With ``u = b eps / sqrt(dt)`` (the fitted noise in friction units) the law
  says that the noise removes ``mu_r - mu_eff = min(u, c)`` of the friction,
  ``c = (mu_r + mu_l) / 2``, in every row whatever its knob, map or friction.
  In ``x = u / c``, ``y = (mu_r - mu_eff) / c`` every row falls on
  ``y = min(x, 1)``. A row without a floor (``mu_l = inf``, ``floored``
  False) is scaled by its largest ``u`` instead: the law is ``y = x`` there.
  ``friction`` is the measured seed mean and ``position`` the cell's rank
  along its row by noise (0 = least, 1 = most), for the raw panel.
  """
  if isinstance(universal, dict):
    source = "joint fit of " + ", ".join(UNIVERSAL)
    pairs = [
        (name, fit, c["friction"])
        for name, fit, c in zip(UNIVERSAL, universal["joint_fit"].grids, universal["collapse"])
    ]
  else:
    source = "separate fits per grid"
    pairs = []
    for g in grids.values():
      fit = g.get("fits", {}).get(g.get("maps", [None])[0]) if "fits" in g else None
      if fit is None or isinstance(fit, str):
        continue
      with np.errstate(all="ignore"), warnings.catch_warnings():
        # A cell whose every run diverged is NaN, and plotted as nothing.
        warnings.simplefilter("ignore", RuntimeWarning)
        pairs.append((g["name"], fit, np.nanmean(g["friction"], -1)))
  rows = []
  for name, fit, friction in pairs:
    friction = np.asarray(friction, np.float64)
    u = bridge.NOISE_SLOPE * np.asarray(
        bridge.noise_level(fit, grids[name]["knob_values"]), np.float64
    )
    mu_r, mu_l = (np.asarray(v, np.float64)[:, None] for v in (fit.mu_right, fit.mu_left))
    floored = np.isfinite(mu_l) & (mu_r + mu_l > 0)
    with np.errstate(all="ignore"):
      c = np.where(floored, 0.5 * (mu_r + mu_l), np.nanmax(u, -1, keepdims=True))
      x, y = u / c, (mu_r - friction) / c
    # Every row of a grid shares the knob's order of noise (g is increasing).
    rank = np.argsort(np.argsort(np.nan_to_num(u[0], nan=-np.inf)))
    position = np.broadcast_to(rank / max(len(rank) - 1, 1), u.shape)
    rows.append((name, x, y, np.broadcast_to(floored, u.shape), friction, position))
  return source, rows


def figure_collapse(grids, universal, fig_dir, dpi):
  """Raw friction along every row beside the same cells on the law's one coordinate."""
  source, rows = _collapse_rows(grids, universal)
  fig, (raw, collapsed) = plt.subplots(1, 2, figsize=(11, 4.2))
  right = 1.0
  for k, (name, x, y, floored, friction, position) in enumerate(rows):
    colour = f"C{k}"
    for i in range(friction.shape[0]):
      order = np.argsort(position[i])
      raw.plot(position[i][order], friction[i][order], "-", color=colour, alpha=0.5, lw=0.8)
    raw.plot([], [], "-", color=colour, label=name)
    for mask, marker, suffix in ((floored, "o", ""), (~floored, "^", ", rows without a floor")):
      keep = mask & np.isfinite(x) & np.isfinite(y)
      if keep.any():
        collapsed.plot(
            x[keep], y[keep], marker, ms=3.5, color=colour, alpha=0.7, label=name + suffix
        )
        right = max(right, float(np.max(x[keep])))
  raw.axhline(0, color="grey", lw=0.5)
  raw.set_xlabel("place along the row by noise (0 = least, 1 = most)")
  raw.set_ylabel("shape-fit friction mu_eff (seed mean)")
  raw.set_title("Raw: every row of every grid", fontsize=9)
  raw.legend(fontsize=7)
  line = np.linspace(0.0, right, 200)
  collapsed.plot(line, np.minimum(line, 1.0), "k-", lw=1, label="law: y = min(x, 1)")
  collapsed.set_xlabel("x = u / c,  u = b eps / sqrt(dt) (fitted noise in friction units)")
  collapsed.set_ylabel("y = (mu_r - mu_eff) / c: share of the floor reached")
  collapsed.set_title(
      f"Collapse ({source}); c = (mu_r + mu_l) / 2,\nrows without a floor: c = their largest u",
      fontsize=9,
  )
  collapsed.legend(fontsize=7)
  fig.tight_layout()
  return _save(fig, fig_dir, "collapse", dpi)


def linear_row_lines(grids):
  """What the fitted law makes of the linear network (1 - alpha = 0) at its least noise.

  The bounded-noise law gives a chain without noise ``mu_eff = mu_r >= 0``
  (linear or concave), so a linear net that is convex without noise lies
  outside it; the lines say by how much the fit misses that cell.
  """
  lines = []
  for g in grids.values():
    if g.get("rows_axis") != "alpha" or "fits" not in g or not np.any(g["rows"] == 0):
      continue
    row = int(np.flatnonzero(g["rows"] == 0)[0])
    col = g["quiet_column"]
    seeds = g["friction"][row, col]
    with np.errstate(all="ignore"):
      measured, spread = np.nanmean(seeds), np.nanstd(seeds, ddof=1)
    if not lines:
      lines.append("\n## The linear network at the least noise\n")
      lines.append(
          "Without noise the bounded-noise law puts the chain at mu_eff = mu_r >= 0, a linear "
          "or concave load curve; a convex curve without noise (negative shape-fit friction) "
          "lies outside it. Per grid, the linear row (alpha = 1) at its least-noise cell (no "
          "noise, except for the batch size, whose largest batch still samples; miss = law - "
          "shape-fit friction):\n"
      )
      lines.append(
          "| grid | knob at the cell | curvature (seed mean) | shape-fit friction [seed std] "
          "| map | fitted mu_r | fitted mu_l | law at the cell | miss | row's RMS residual |"
      )
      lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for m, fit in g["fits"].items():
      if isinstance(fit, str):
        continue
      law = float(np.asarray(bridge.predict_friction(fit, g["knob_values"][None]))[row, col])
      mu_l = float(np.asarray(fit.mu_left)[row])
      lines.append(
          f"| {g['name']} | {_fmt(g['knob_values'][col], 3)} | "
          f"{_fmt(float(g['curvature_quiet'][row]), 3)} | {_fmt(measured, 3)} "
          f"[{_fmt(spread, 2)}] | {m} | {_fmt(float(np.asarray(fit.mu_right)[row]), 3)} | "
          f"{'—' if not np.isfinite(mu_l) else _fmt(mu_l, 3)} | {_fmt(law, 3)} | "
          f"{_fmt(law - measured, 3)} | {_fmt(float(np.asarray(fit.residual)[row]), 3)} |"
      )
  return lines


def _save(fig, fig_dir, stem, dpi):
  plotting.save_figure(fig, os.path.join(fig_dir, stem), dpi=dpi)
  plt.close(fig)
  return stem


def _held_out_lines(entry):
  lines = []
  for split in bridge.SPLITS:
    result = entry["held_out"][split]
    lines.append(f"\n#### {split.capitalize()}\n")
    if isinstance(result, str):
      lines.append(f"Not available: {result}")
      continue
    lines.append("| map | predictor | R² [95% CI] | MAE [95% CI] | cells | verdict |")
    lines.append("|---|---|---|---|---|---|")
    for m, r in result.items():
      if "error" in r:
        lines.append(f"| {m} | — | — | — | — | not applicable: {r['error']} |")
        continue
      verdict = prediction_verdict(r["difference"])
      for p in bridge.PREDICTORS:
        s = r["metrics"][p]
        lines.append(
            f"| {m} | {p} | {_ci(s['r2'])} | {_ci(s['mae'])} | {r['num_cells']} | "
            f"{verdict if p == 'theory' else ''} |"
        )
    best = next((m for m, r in result.items() if "error" not in r), None)
    if best is not None and split == "interpolation":
      others = [
          r["metrics"]["theory"]["mae"]["value"]
          for m, r in result.items()
          if m != best and "error" not in r
      ]
      clear = all(result[best]["metrics"]["theory"]["mae"]["high"] < v for v in others)
      lines.append(
          f"\nPreferred knob map (lowest theory MAE): **{best}**"
          + (" (clearly)" if clear and others else " (not clearly)" if others else "")
      )
    if split == "extrapolation" and best is not None:
      r = result[best]
      c = r["crossing"]
      lines.append(
          f"\nZero crossing ({best}), knob value per row — measured: "
          f"{', '.join(_fmt(v, 3) for v in c['measured'])}; theory: "
          f"{', '.join(_fmt(v, 3) for v in c['theory'])}; linear: "
          f"{', '.join(_fmt(v, 3) for v in c['linear'])}. "
          f"Existence agrees on {c['summary']['theory']['agree']}/{c['rows']} rows (theory), "
          f"{c['summary']['linear']['agree']}/{c['rows']} (linear); MAE where both exist: "
          f"theory {_fmt(c['summary']['theory']['mae_knob'], 3)}, "
          f"linear {_fmt(c['summary']['linear']['mae_knob'], 3)}."
      )
      last = r["last_level"]
      lines.append(
          "Saturation (largest noise level only), MAE: "
          + "; ".join(f"{p} {_ci(last[p]['mae'])}" for p in bridge.PREDICTORS)
      )
  return lines


def _summary_lines(grids, universal):
  """Verdicts at a glance: every grid's held-out predictions (preferred map) and universality."""
  lines = [
      "## Verdicts at a glance",
      "",
      "Per grid and split, the knob map with the lowest held-out theory MAE (all maps in the "
      "grid's section), the theory's MAE beside the better baseline's, and the verdict of the "
      "rule above.",
      "",
      "| grid | split | map | theory MAE [95% CI] | better baseline: MAE [95% CI] | verdict |",
      "|---|---|---|---|---|---|",
  ]
  tally = {}
  for name, entry in grids.items():
    for split in bridge.SPLITS:
      result = entry.get("held_out", {}).get(split)
      usable = (
          {m: r for m, r in result.items() if "error" not in r} if isinstance(result, dict) else {}
      )
      if not usable:
        why = result if isinstance(result, str) else entry.get("skipped", "no usable map")
        tally.setdefault("not available", []).append(f"{name} {split}")
        lines.append(f"| {name} | {split} | — | — | — | not available: {why} |")
        continue
      m, r = min(usable.items(), key=lambda kv: kv[1]["metrics"]["theory"]["mae"]["value"])
      baseline = min(bridge.BASELINES, key=lambda p: r["metrics"][p]["mae"]["value"])
      verdict = prediction_verdict(r["difference"])
      tally.setdefault(verdict, []).append(f"{name} {split}")
      lines.append(
          f"| {name} | {split} | {m} | {_ci(r['metrics']['theory']['mae'])} | {baseline}: "
          f"{_ci(r['metrics'][baseline]['mae'])} | **{verdict}** |"
      )
  if tally:
    lines.append(
        "\nOver the predictions above: "
        + "; ".join(
            f"{verdict} {len(where)} ({', '.join(where)})" for verdict, where in tally.items()
        )
        + "."
    )
  if isinstance(universal, dict):
    lines.append(
        f"\nUniversality (one friction pair per nonlinearity across "
        f"{', '.join(UNIVERSAL)}): **{universality_verdict(universal)}**"
        + (
            "; its strictest form (one scale per knob): **"
            + universality_verdict(_strict_universality(universal))
            + "**."
            if "universal" in universal
            else "."
        )
    )
  else:
    lines.append(f"\nUniversality: {universal}.")
  return lines


def _strict_universality(universal):
  """The universal model against the joint one, in the form the universality rule reads."""
  return {
      "delta_aic": universal["joint"]["aic"] - universal["universal"]["aic"],
      "delta_bic": universal["joint"]["bic"] - universal["universal"]["bic"],
      "mae_difference": universal["universal_mae_difference"],
  }


def _fit_lines(entry):
  lines = []
  for m, fit in entry["fits"].items():
    lines.append(f"\nNoise-map fit on all levels, map `{m}` ({bridge.KNOB_MAPS[m].formula}):\n")
    if isinstance(fit, str):
      lines.append(f"Not available: {fit}")
      continue
    lines.append("| row | mu_r | mu_l | s | critical knob | residual | levels | status |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for i, row in enumerate(entry["rows"]):
      reason = bridge.NOISE_REASONS[int(np.asarray(fit.reason)[i])]
      values = [
          np.asarray(getattr(fit, f))[i].item()
          for f in ("mu_right", "mu_left", "scale", "critical_knob", "residual")
      ]
      lines.append(
          f"| {_row_label(entry, row)} | "
          + " | ".join(_fmt(v, 3) for v in values)
          + f" | {int(np.asarray(fit.num_levels)[i])} | {reason} |"
      )
  return lines


def render(grids, skipped, universal, figures, dynamics, commands):
  lines = [
      "# The bridge: the chain's effective-friction law against trained networks",
      "",
      "Generated by `experiments/bridge_report.py`; every number below is computed from the "
      "finished sweeps, none typed in.",
      "",
      RULE,
      "",
      "**What is predicted.** Each run's train-set load curve (`load_curve`) is fit with the "
      "chain's equilibrium shape (`bridge.fit_shape`): one signed friction mu_eff per run "
      "(NaN for invalid fits and diverged runs). The cell value is the seed mean. Along each "
      "row the bounded-noise law mu_eff = max(mu_r - b eps / sqrt(dt), (mu_r - mu_l) / 2) with "
      f"eps = s g(knob) is fit (reference chain {bridge.REFERENCE_CHAIN}, "
      f"b / sqrt(dt) = {bridge.NOISE_SLOPE:.4g}). Curvature itself is not predicted: it needs "
      "each cell's own shape-fit scale.",
      "",
      "Commands:",
      "",
      "```",
      *commands,
      "```",
      "",
  ]
  for name, why in skipped.items():
    lines.append(f"- Skipped {name}: {why}")
  lines += [""] + _summary_lines(grids, universal)
  for name, entry in grids.items():
    lines.append(f"\n## {name}: {TITLES.get(name, name)}\n")
    lines.append(
        f"Knob `{entry['knob']}` = {', '.join(_fmt(v, 3) for v in entry['knob_values'])}; rows "
        f"`{entry['rows_axis']}`; {entry['num_seeds']} seeds; {entry['valid_runs']}/"
        f"{entry['runs']} runs with a valid shape fit."
    )
    if "skipped" in entry:
      lines.append(f"\nSkipped: {entry['skipped']}")
      continue
    lines.extend(_fit_lines(entry))
    lines.append("\n### Held-out prediction of the cells' friction")
    lines.extend(_held_out_lines(entry))
  lines.append("\n## Universality (fig1a-d share their networks)\n")
  if isinstance(universal, str):
    lines.append(universal.capitalize() if universal.startswith("not") else universal)
  else:
    lines.append(
        "One (mu_r, mu_l) per nonlinearity shared by the four knobs, a scale per knob and row "
        f"({universal['joint']['num_params']} parameters) against separate fits "
        f"({universal['separate']['num_params']}), over {universal['rows_compared']} rows.\n"
    )
    lines.append("| model | RSS | cells | params | AIC | BIC | held-out MAE [95% CI] |")
    lines.append("|---|---|---|---|---|---|---|")
    for m in ("universal", "joint", "separate"):
      if m not in universal:
        continue
      u = universal[m]
      lines.append(
          f"| {m} | {_fmt(u['rss'])} | {u['num_cells']} | {u['num_params']} | "
          f"{_fmt(u['aic'], 6)} | {_fmt(u['bic'], 6)} | {_ci(u['held_out_mae'])} |"
      )
    lines.append(
        f"\nΔAIC = {_fmt(universal['delta_aic'], 4)}, ΔBIC = {_fmt(universal['delta_bic'], 4)} "
        f"(separate - joint), held-out MAE difference {_ci(universal['mae_difference'])}: "
        f"**{universality_verdict(universal)}**."
    )
    if "universal" in universal:
      strict = _strict_universality(universal)
      lines.append(
          "\nThe strictest form, `universal`: one scale per knob for every nonlinearity "
          f"({universal['universal']['num_params']} parameters; scales "
          + ", ".join(_fmt(float(v), 3) for v in universal["universal_fit"].scale)
          + "). Against the joint model: "
          f"ΔAIC = {_fmt(strict['delta_aic'], 4)}, ΔBIC = {_fmt(strict['delta_bic'], 4)} "
          f"(joint - universal), held-out MAE difference {_ci(strict['mae_difference'])}: "
          f"**{universality_verdict(strict)}** (same rule, universal in place of joint)."
      )
  lines += linear_row_lines(grids)
  lines.append("\n## Figures\n")
  for stem, caption in figures:
    lines.append(f"![{caption}](bridge/{stem}.png) ([PDF](bridge/{stem}.pdf))\n")
  if dynamics is not None:
    lines.append("")  # the section brings its own heading
    lines.append(dynamics)
  return "\n".join(lines) + "\n"


def rebase_links(markdown, from_dir, to_dir):
  """``markdown`` written in ``from_dir`` with its relative links made relative to ``to_dir``.

  The dynamics section is written beside its figures' folder and included
  verbatim in a document one level up, where its image links would break.
  """

  def rebase(match):
    target = match.group(2)
    if "://" in target or target.startswith(("/", "#")):
      return match.group(0)
    moved = os.path.relpath(os.path.join(os.path.abspath(from_dir), target), to_dir)
    return f"{match.group(1)}({moved})"

  return re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", rebase, markdown)


def write_report(workdirs, out_md, *, num_boot=1000, boot_seed=0, dpi=110, commands=()):
  """Analyses ``workdirs`` (``{name: path}``), writes ``out_md`` and its figures; returns the grids."""
  fig_dir = os.path.join(os.path.dirname(os.path.abspath(out_md)), "bridge")
  grids, skipped = {}, {}
  for name, workdir in workdirs.items():
    if not os.path.exists(os.path.join(workdir, merging.RESULT_STEM + ".json")):
      skipped[name] = f"no finished results in {workdir}"
      continue
    grids[name] = analyse_grid(name, workdir, num_boot, boot_seed)
  universal = universality(grids, num_boot, boot_seed)
  figures = []
  stem = figure_friction(grids, fig_dir, dpi)
  if stem:
    figures.append((stem, "Fitted mu_r and mu_l against nonlinearity"))
  if grids:
    figures.append((figure_collapse(grids, universal, fig_dir, dpi), "Collapse"))
  dynamics_path = os.path.join(fig_dir, "dynamics.md")
  dynamics = None
  if os.path.exists(dynamics_path):
    with open(dynamics_path) as f:
      dynamics = rebase_links(f.read(), fig_dir, os.path.dirname(os.path.abspath(out_md)))
  text = render(grids, skipped, universal, figures, dynamics, list(commands))
  os.makedirs(os.path.dirname(os.path.abspath(out_md)), exist_ok=True)
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
  flags.DEFINE_string("out", "docs/bridge.md", "The markdown report; figures go beside it.")
  flags.DEFINE_integer("num_boot", 1000, "Seed-bootstrap replicates.")
  flags.DEFINE_integer("boot_seed", 0, "NumPy seed of the bootstrap.")
  flags.DEFINE_integer("dpi", 110, "Resolution of the PNGs.")


def main(argv):
  del argv
  if FLAGS.sweeps:
    workdirs = dict(item.split("=", 1) for item in FLAGS.sweeps)
  else:
    workdirs = {n: os.path.join(FLAGS.runs, n) for n in SWEEPS}
  command = (
      f"python experiments/bridge_report.py --out={FLAGS.out} --num_boot={FLAGS.num_boot} "
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

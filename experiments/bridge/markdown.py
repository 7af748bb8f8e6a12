"""The bridge report as markdown: the verdict rule, held-out tables, fits and universality."""

from __future__ import annotations

import math

import numpy as np

from featurespring import bridge

from experiments.bridge import catalogue
from experiments.bridge import figures
from experiments.bridge import heldout

RULE = (
    "**Verdict rule.** A prediction is *supported* when the 95 % seed-bootstrap CI of "
    "MAE(baseline) - MAE(theory) lies above 0 for every baseline (linear interpolation, row "
    "mean, nearest cell, and a saturating curve a + b exp(-z/c) with the law's three "
    "parameters; the last two added 2026-12-06, after the first results), *not supported* when "
    "it lies below 0 for any, *inconclusive* otherwise. Universality is "
    "*supported* when both ΔAIC and ΔBIC (separate - joint) are > 0 and the CI of the held-out "
    "MAE difference (separate - joint) lies above 0, *rejected* when both Δ are < 0 and that CI "
    "lies below 0, *inconclusive* otherwise. The preferred knob map is the one with the lowest "
    "interpolation MAE of the theory; it is *clearly* preferred when its CI's upper end is below "
    "every other map's point value. Both splits are read with the preferred map: the "
    "extrapolation error never picks a map (until 2026-12-06 the at-a-glance table picked each "
    "split's map by its own held-out error; changed after the first results were read)."
)


def preferred_map(entry):
  """The knob map with the lowest interpolation MAE of the theory (None if no map is usable)."""
  result = entry.get("held_out", {}).get("interpolation")
  usable = {m: r for m, r in result.items() if "error" not in r} if isinstance(result, dict) else {}
  if not usable:
    return None
  return min(
      usable, key=lambda m: heldout._sort_key(usable[m]["metrics"]["theory"]["mae"]["value"])
  )


DYNAMICS_BEGIN = "<!-- BEGIN dynamics: experiments/bridge/dynamics.md, written by experiments/bridge/dynamics.py -->"
DYNAMICS_END = "<!-- END dynamics -->"


def fmt(value, digits=4):
  if value is None or (isinstance(value, float) and not math.isfinite(value)):
    return "—"
  return f"{value:.{digits}g}"


def _ci(entry, digits=3):
  return (
      f"{fmt(entry['value'], digits)} [{fmt(entry['low'], digits)}, {fmt(entry['high'], digits)}]"
  )


def prediction_verdict(difference):
  lows = [difference[b]["mae"]["low"] for b in heldout.BASELINES]
  highs = [difference[b]["mae"]["high"] for b in heldout.BASELINES]
  if not all(math.isfinite(v) for v in lows + highs):
    return "inconclusive"
  if all(v > 0 for v in lows):
    return "supported"
  if any(v < 0 for v in highs):
    return "not supported"
  return "inconclusive"


def universality_verdict(out):
  d_aic, d_bic, diff = out["delta_aic"], out["delta_bic"], out["mae_difference"]
  if d_aic > 0 and d_bic > 0 and diff["low"] > 0:
    return "supported"
  if d_aic < 0 and d_bic < 0 and diff["high"] < 0:
    return "rejected"
  return "inconclusive"


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
          f"| {g['name']} | {fmt(g['knob_values'][col], 3)} | "
          f"{fmt(float(g['curvature_quiet'][row]), 3)} | {fmt(measured, 3)} "
          f"[{fmt(spread, 2)}] | {m} | {fmt(float(np.asarray(fit.mu_right)[row]), 3)} | "
          f"{'—' if not np.isfinite(mu_l) else fmt(mu_l, 3)} | {fmt(law, 3)} | "
          f"{fmt(law - measured, 3)} | {fmt(float(np.asarray(fit.residual)[row]), 3)} |"
      )
  return lines


def _held_out_lines(entry):
  lines = []
  for split in heldout.SPLITS:
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
      for p in heldout.PREDICTORS:
        s = r["metrics"][p]
        lines.append(
            f"| {m} | {p} | {_ci(s['r2'])} | {_ci(s['mae'])} | {r['num_cells']} | "
            f"{verdict if p == 'theory' else ''} |"
        )
    best = preferred_map(entry)
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
    if (
        split == "extrapolation"
        and best is not None
        and "error" not in result.get(best, {"error": 1})
    ):
      r = result[best]
      c = r["crossing"]
      lines.append(
          f"\nZero crossing ({best}), knob value per row — measured: "
          f"{', '.join(fmt(v, 3) for v in c['measured'])}; theory: "
          f"{', '.join(fmt(v, 3) for v in c['theory'])}; linear: "
          f"{', '.join(fmt(v, 3) for v in c['linear'])}. "
          f"Existence agrees on {c['summary']['theory']['agree']}/{c['rows']} rows (theory), "
          f"{c['summary']['linear']['agree']}/{c['rows']} (linear); MAE where both exist: "
          f"theory {fmt(c['summary']['theory']['mae_knob'], 3)}, "
          f"linear {fmt(c['summary']['linear']['mae_knob'], 3)}."
      )
      last = r["last_level"]
      lines.append(
          "Saturation (largest noise level only), MAE: "
          + "; ".join(f"{p} {_ci(last[p]['mae'])}" for p in heldout.PREDICTORS)
      )
  return lines


def _summary_lines(grids, universal):
  """Verdicts at a glance: every grid's held-out predictions (preferred map) and universality."""
  lines = [
      "## Verdicts at a glance",
      "",
      "Per grid and split, the preferred knob map (the rule above: lowest interpolation MAE of "
      "the theory; all maps in the grid's section), the theory's MAE beside the best "
      "baseline's, and the verdict of the rule above.",
      "",
      "| grid | split | map | theory MAE [95% CI] | best baseline: MAE [95% CI] | verdict |",
      "|---|---|---|---|---|---|",
  ]
  tally, outside, differences, differences_outside = {}, [], 0, 0
  for name, entry in grids.items():
    for split in heldout.SPLITS:
      result = entry.get("held_out", {}).get(split)
      m = preferred_map(entry)
      if m is None or not isinstance(result, dict) or "error" in result.get(m, {"error": 1}):
        why = result if isinstance(result, str) else entry.get("skipped", "no usable map")
        tally.setdefault("not available", []).append(f"{name} {split}")
        lines.append(f"| {name} | {split} | {m or '—'} | — | — | not available: {why} |")
        continue
      r = result[m]
      baseline = min(heldout.BASELINES, key=lambda p: r["metrics"][p]["mae"]["value"])
      verdict = prediction_verdict(r["difference"])
      tally.setdefault(verdict, []).append(f"{name} {split}")
      for who in ("theory", baseline):
        mae = r["metrics"][who]["mae"]
        if not mae["low"] <= mae["value"] <= mae["high"]:
          outside.append(f"{name} {split} {who}")
      for b in heldout.BASELINES:
        d = r["difference"][b]["mae"]
        differences += 1
        differences_outside += not d["low"] <= d["value"] <= d["high"]
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
  if outside:
    lines.append(
        f"\nIn {len(outside)} MAE(s) above ({', '.join(outside)}) the point lies outside "
        "its own interval. An error measured against seed means grows when the seeds are "
        "resampled, since resampling adds noise the point estimate does not have, so these "
        "percentile intervals lean high where an error is small. The verdicts read the "
        "intervals of differences of two errors, where both lean; "
        f"{differences_outside} of the {differences} behind this table exclude their point."
    )
  if isinstance(universal, dict):
    lines.append(
        f"\nUniversality (one friction pair per nonlinearity across "
        f"{', '.join(catalogue.UNIVERSAL)}): **{universality_verdict(universal)}**"
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
          f"| {figures.row_label(entry, row)} | "
          + " | ".join(fmt(v, 3) for v in values)
          + f" | {int(np.asarray(fit.num_levels)[i])} | {reason} |"
      )
  return lines


def render(grids, skipped, universal, figures, dynamics, commands):
  lines = [
      "# The bridge: the chain's effective-friction law against trained networks",
      "",
      "Generated by `experiments/bridge/report.py`; every number below is computed from the "
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
      "each cell's own shape-fit scale. The equilibrium shape is a quadratic in the layer "
      "index, so `scale * d_l(mu) + offset` spans {1, l, l^2}: the shape fit is a quadratic "
      "fit with a physical parametrisation, and a valid fit (a falling, near-monotone curve) "
      "is no evidence that a chain produced the curve; the evidence for chains is whether the "
      "law below predicts the cells.",
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
    lines.append(f"\n## {name}: {catalogue.TITLES.get(name, name)}\n")
    lines.append(
        f"Knob `{entry['knob']}` = {', '.join(fmt(v, 3) for v in entry['knob_values'])}; rows "
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
        f"({universal['separate']['num_params']}), over {universal['rows_compared']} rows. "
        "Each knob enters through its default map (the first of its candidates, set from how "
        "the knob scales the training noise, not picked by these fits: "
        + ", ".join(
            f"{n} {grids[n]['maps'][0]}" for n in catalogue.UNIVERSAL if "maps" in grids.get(n, {})
        )
        + "), as in the friction figure; the at-a-glance table's preferred maps are chosen "
        "per grid.\n"
    )
    lines.append("| model | RSS | cells | params | AIC | BIC | held-out MAE [95% CI] |")
    lines.append("|---|---|---|---|---|---|---|")
    for m in ("universal", "joint", "separate"):
      if m not in universal:
        continue
      u = universal[m]
      lines.append(
          f"| {m} | {fmt(u['rss'])} | {u['num_cells']} | {u['num_params']} | "
          f"{fmt(u['aic'], 6)} | {fmt(u['bic'], 6)} | {_ci(u['held_out_mae'])} |"
      )
    lines.append(
        f"\nΔAIC = {fmt(universal['delta_aic'], 4)}, ΔBIC = {fmt(universal['delta_bic'], 4)} "
        f"(separate - joint), held-out MAE difference {_ci(universal['mae_difference'])}: "
        f"**{universality_verdict(universal)}**."
    )
    if "universal" in universal:
      strict = _strict_universality(universal)
      lines.append(
          "\nThe strictest form, `universal`: one scale per knob for every nonlinearity "
          f"({universal['universal']['num_params']} parameters; scales "
          + ", ".join(fmt(float(v), 3) for v in universal["universal_fit"].scale)
          + "). Against the joint model: "
          f"ΔAIC = {fmt(strict['delta_aic'], 4)}, ΔBIC = {fmt(strict['delta_bic'], 4)} "
          f"(joint - universal), held-out MAE difference {_ci(strict['mae_difference'])}: "
          f"**{universality_verdict(strict)}** (same rule, universal in place of joint)."
      )
  lines += linear_row_lines(grids)
  lines.append("\n## Figures\n")
  for stem, caption in figures:
    lines.append(f"![{caption}](figures/{stem}.png) ([PDF](figures/{stem}.pdf))\n")
  if dynamics is not None:
    # The section brings its own heading; the markers let experiments/bridge/dynamics.py
    # rewrite it here without the grids' sweeps.
    lines += ["", DYNAMICS_BEGIN, dynamics.strip("\n"), DYNAMICS_END]
  return "\n".join(lines) + "\n"

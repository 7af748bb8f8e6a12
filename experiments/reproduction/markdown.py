"""``numbers.md`` of the reproduction: one section of tables per sweep, from the measured numbers."""

from __future__ import annotations

import os

import numpy as np

from featurespring import analysis

from experiments import runtimes as runtimes_lib
from experiments.reproduction import catalogue
from experiments.reproduction import claims


def fmt(value, spec=".3g"):
  if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
    return "-"
  return format(value, spec)


def wall_time(numbers, name):
  """A sweep's wall time in words (:func:`experiments.runtimes.wall_time_words`)."""
  unrecorded = (numbers.get("wall_times_unrecorded") or {}).get(name, ())
  return runtimes_lib.wall_time_words(numbers["wall_times_s"][name], unrecorded)


def _pm(mean, std):
  return f"{fmt(mean, '+.3f')}±{fmt(std, '.3f')}"


def _ci(c):
  if c is None or not np.isfinite(c["pearson"]):
    return "- | -"
  return (
      f"{c['pearson']:+.2f} [{c['pearson_ci'][0]:+.2f}, {c['pearson_ci'][1]:+.2f}] | "
      f"{c['spearman']:+.2f} [{c['spearman_ci'][0]:+.2f}, {c['spearman_ci'][1]:+.2f}]"
  )


def _table(header, rows):
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
  return lines + [""]


def _grid_markdown(name, a):
  y, x = a["y"], a["x"]
  score = a["score"]
  fields = a.get("x_fields")
  if fields:  # a zipped axis: columns named by its first field's values
    first = next(iter(fields))
    head = [f"{y} \\ {first}"] + [fmt(v) for v in fields[first]]
    columns = (
        f"{x} ("
        + "; ".join(f"{f} = {', '.join(fmt(v) for v in vals)}" for f, vals in fields.items())
        + "; the per-row table gives column indices)"
    )
  else:
    head = [f"{y} \\ {x}"] + [fmt(v) for v in a["x_values"]]
    columns = x
  lines = [
      f"## {name}: {a['title']}",
      "",
      f"{a['num_seeds']} seeds per cell; rows: {y}; columns: {columns}. "
      f"Diverged nets (left out everywhere): {a['diverged']['total']} of "
      f"{a['diverged']['num_nets']}.",
  ]
  if a["fixed_axes"]:
    lines.append(f"Other axes held at their first value: {a['fixed_axes']}.")
  lines += ["", "Mean curvature (train set, trace) +- seed std:", ""]
  curv = a["curvature"]
  lines += _table(
      head,
      [
          [fmt(yv)]
          + [f"{fmt(m, '+.3f')}±{fmt(s, '.3f')}" for m, s in zip(curv["mean"][i], curv["std"][i])]
          for i, yv in enumerate(a["y_values"])
      ],
  )
  lines += [f"Mean test {score} +- seed std:", ""]
  sc = a[score]
  lines += _table(
      head,
      [
          [fmt(yv)]
          + [f"{fmt(m, '.4f')}±{fmt(s, '.4f')}" for m, s in zip(sc["mean"][i], sc["std"][i])]
          for i, yv in enumerate(a["y_values"])
      ],
  )
  if a["diverged"]["total"]:
    lines += ["Diverged nets per cell:", ""]
    lines += _table(
        head,
        [
            [fmt(yv)] + [str(int(v)) for v in a["diverged"]["per_cell"][i]]
            for i, yv in enumerate(a["y_values"])
        ],
    )
  signs = [k for k in analysis.CURVATURE_KEYS if k in a]
  best_word = "best" if a["higher_is_better"] else "lowest"
  lines += [
      f"Per row: curvature signs by column ({', '.join(signs)}; rule: "
      f"{a['sign_rule']}), the {best_word}-{score} cell, the cell nearest zero "
      "curvature, the interpolated zero crossing(s), the distance best - nearest-zero "
      "in x steps, the rank of the best cell by |curvature| (0 = nearest zero), "
      "Spearman of curvature against x, and the correlation of |curvature| with "
      f"{score} across the row (Pearson, Spearman, bootstrap 95% CI). Steps are "
      "signed, best minus reference, in columns:",
      "",
  ]
  head2 = (
      [y]
      + [f"sign {k.replace('curvature', 'c')}" for k in signs]
      + [
          f"{best_word}-{score} {x}",
          f"{score}",
          "nearest-0 x",
          "crossing x",
          "steps to nearest-0",
          "steps to crossing",
          "rank",
          "rho(c, x)",
          f"r(abs c, {score}) [CI]",
          f"rho(abs c, {score}) [CI]",
      ]
  )
  table = []
  for i, r in enumerate(a["rows"]):
    table.append(
        [fmt(r["y"])]
        + [f"`{a[k]['sign'][i]}`" for k in signs]
        + [
            fmt(r["best_x"]),
            fmt(r["best_score"], ".4f"),
            fmt(r["zero_x"]),
            ", ".join(fmt(v) for v in r["crossings_x"]) or "none",
            fmt(r.get("best_minus_zero_steps"), "+d")
            if r.get("best_minus_zero_steps") is not None
            else "-",
            fmt(r.get("best_minus_crossing_steps"), "+.1f"),
            fmt(r.get("best_rank_by_abs_curvature"), "d")
            if r.get("best_rank_by_abs_curvature") is not None
            else "-",
            fmt(r.get("spearman_curvature_vs_x"), "+.2f"),
            _ci(r["correlation"]),
        ]
    )
  lines += _table(head2, table)
  bz, cn = a["best_vs_zero"], a["curvature_vs_noise"]
  lines += [
      f"- {best_word.capitalize()} cell overall: {y}={fmt(a.get('best_cell', {}).get('y'))}, "
      f"{x}={fmt(a.get('best_cell', {}).get('x'))}, {score} "
      f"{fmt(a.get('best_cell', {}).get('score'), '.4f')}, curvature "
      f"{fmt(a.get('best_cell', {}).get('curvature'), '+.3f')}.",
      f"- Best cell = nearest-zero cell in {fmt(bz['fraction_best_is_nearest_zero'], '.0%')}"
      f" of rows, within one x step in {fmt(bz['fraction_within_one_step'], '.0%')}; "
      f"mean |steps| {fmt(bz['mean_abs_steps'], '.2f')}; mean |steps| to the nearest "
      f"zero crossing {fmt(bz['mean_abs_steps_to_crossing'], '.2f')} "
      f"({bz['rows_with_crossing']} rows cross zero).",
      f"- Curvature rises with the noise ({cn['rule']}) in "
      f"{fmt(cn['fraction_rows_increasing'], '.0%')} of rows; median signed Spearman "
      f"{fmt(cn['median_spearman'], '+.2f')}.",
      f"- |curvature| vs {score} over all cells: {_ci(a['correlation_pooled'])}; "
      f"centred per row: {_ci(a['correlation_pooled_row_centred'])} "
      "(Pearson [CI] | Spearman [CI]).",
      "",
  ]
  return lines


def _figures_line(a):
  return [f"Figures: {', '.join(f'`{f}`' for f in a['figures'])}.", ""] if a.get("figures") else []


def _fig2_markdown(name, a):
  """The section of :func:`analysis.independent_vs_synchronous`."""
  lines = [
      f"## {name}: {a['title']}",
      "",
      f"{a['num_steps']} steps at noise {fmt(a['noise'], '.4g')}. Per noise mode: valid seeds, "
      "final curvature ± seed std and its sign, the seed-mean final load curve "
      "D_0 ... D_L, and the correlation across blocks of the load curve's increments "
      "over the second half of the recorded trajectory (1: the blocks move together), "
      "mean ± seed std.",
      "",
  ]
  lines += _table(
      ["noise mode", "seeds", "final curvature", "final D_l", "increment correlation"],
      [
          [
              "synchronous" if m["synchronous"] else "independent",
              m["num_seeds"],
              f"{_pm(m['final_curvature'], m['final_curvature_std'])} `{m['final_sign']}`",
              " ".join(fmt(v, ".3f") for v in m["load_curve"]),
              _pm(m["increment_correlation"], m["increment_correlation_std"]),
          ]
          for m in a["modes"]
      ],
  )
  lines += [
      "- Final curves, synchronous - independent: largest |difference| over layers "
      f"{fmt(a['final_curve_max_abs_difference'], '.2g')}, against a largest seed std of "
      f"{fmt(a['final_curve_max_seed_std'], '.2g')}.",
      "- Effective-friction theory at this noise (equilibrium curve at mu_eff): curvature "
      f"{fmt(a['theory_curvature'], '+.3f')}.",
      "",
  ]
  return lines + _figures_line(a)


def _fig5b_markdown(name, a):
  """The section of :func:`left_friction.left_friction_only`."""
  noise = a["noise"]
  loudest = fmt(max(noise))
  lines = [
      f"## {name}: {a['title']}",
      "",
      f"Seed-mean curvature per leftward friction mu_l over the noise "
      f"({', '.join(fmt(v) for v in noise)}), signs left to right. Without noise, the "
      "curvature ± seed std beside the load curve's mean drop per layer |D_0 - D_L| / L "
      "(the scale of a straight line); at the largest noise, the curvature ± seed std "
      "beside the theory's large-noise limit (the equilibrium curve at "
      "mu_eff = (mu_r - mu_l) / 2).",
      "",
  ]
  lines += _table(
      [
          "mu_l",
          "signs over noise",
          "mean curvature over noise",
          "noiseless curvature",
          "drop per layer",
          f"curvature at noise {loudest}",
          "theory limit",
      ],
      [
          [
              fmt(r["mu_left"]),
              f"`{r['sign']}`",
              " ".join(fmt(v, "+.3f") for v in r["curvature_mean"]),
              f"{fmt(r['noiseless_curvature'], '+.1e')}±{fmt(r['noiseless_std'], '.1e')}",
              fmt(r["noiseless_mean_layer_drop"], ".3f"),
              f"{_pm(r['max_noise_curvature'], r['max_noise_std'])} `{r['max_noise_sign']}`",
              fmt(r["theory_limit_curvature"], "+.3f"),
          ]
          for r in a["rows"]
      ],
  )
  return lines + _figures_line(a)


def central_check_markdown(central):
  """The secondary correlation numbers (numbers.md and the doc's generated block)."""
  lines = []
  if central:
    lines += [
        "Prediction (docs/theory.md §2): test accuracy peaks near the linear load curve, i.e. a "
        "negative correlation between |curvature| and accuracy. Pearson / Spearman over "
        "cells with bootstrap 95% CIs. *Row-centred*: |curvature| and accuracy are both "
        "centred within each grid row (one alpha, depth or width) before correlating — "
        "the partial correlation given the row. Linear and weakly nonlinear nets are "
        "less accurate regardless of curvature and grids differ in their accuracy "
        "level (Fashion-MNIST vs MNIST), so the raw pooled number mixes those level "
        "differences with the within-row effect the paper describes; the row-centred "
        "number removes them.",
        "",
    ]
    rows = []
    for name, c in central["per_grid"].items():
      rows.append([name, c["pooled"]["num_cells"], _ci(c["pooled"]), _ci(c["pooled_row_centred"])])
    rows.append(
        [
            "**all grids**",
            central["pooled"]["num_cells"],
            _ci(central["pooled"]),
            _ci(central["pooled_row_centred"]),
        ]
    )
    lines += _table(
        ["grid", "cells", "Pearson [CI]; Spearman [CI]", "row-centred Pearson [CI]; Spearman [CI]"],
        [[r[0], r[1], r[2].replace(" | ", "; "), r[3].replace(" | ", "; ")] for r in rows],
    )
    for key in ("pooled_curvature_pinv", "pooled_curvature_test"):
      if key in central:
        lines.append(
            f"- With {key.replace('pooled_', '')} in place of the train trace "
            f"curvature (all grids): {_ci(central[key])}; row-centred "
            f"{_ci(central[key + '_row_centred'])}."
        )
    lines += [
        "",
        "Within each row (across the x axis), median over rows of the Pearson "
        "correlation, and the fraction of rows where it is negative with a CI "
        "excluding 0:",
        "",
    ]
    lines += _table(
        ["grid", "rows", "median r", "rows r<0 (CI<0)", "median rho", "rows rho<0 (CI<0)"],
        [
            [
                n,
                r["num_rows"],
                fmt(r["median_pearson"], "+.2f"),
                f"{r['negative_pearson']} ({r['significant_negative_pearson']})",
                fmt(r["median_spearman"], "+.2f"),
                f"{r['negative_spearman']} ({r['significant_negative_spearman']})",
            ]
            for n, r in ((n, c["rows"]) for n, c in central["per_grid"].items())
        ],
    )
    lines += ["Figure: `curvature_vs_accuracy.png`.", ""]
  else:
    lines += ["No classification phase-diagram sweep was found.", ""]
  return lines


def numbers_markdown(numbers):
  lines = [
      "# Reproduction report: measured numbers",
      "",
      f"Generated by `python -m experiments.reproduction.report "
      f"--runs={numbers['runs']}` from the sweeps listed below; every number is also in "
      "`numbers.json` (NaN as null).",
      "",
  ]
  missing = [n for n, s in numbers["sweeps"].items() if s.get("status") != "ok"]
  found = ", ".join(n for n in numbers["sweeps"] if n not in missing) or "none"
  lines += [f"Sweeps found: {found}."]
  for n in missing:
    s = numbers["sweeps"][n]
    lines.append(f"- **{n} skipped**: {s['status']}{': ' + s['error'] if 'error' in s else ''}.")
  if numbers.get("verdicts"):
    lines += ["", "## Verdicts", ""] + claims.verdicts_markdown(numbers["verdicts"])
  lines += [
      "",
      "## Conventions",
      "",
      "- Diverged nets (a non-finite loss or update, or a loss above `divergence_factor` "
      "times the first one, during training; frozen at their last finite state) are "
      "left out of every mean, std and correlation; their number is reported per sweep.",
      "- Cell mean over the valid seeds, std = sample std (ddof=1).",
      f"- Sign of a cell's curvature: `+` / `-` if its mean is more than "
      f"{analysis.SIGN_SE_FACTOR:g} standard errors (std/sqrt(n)) and more than "
      f"{analysis.stats.SIGN_MIN_EFFECT:g} above / below 0, `0` otherwise, `.` if no "
      "valid net; with a single valid seed or no spread, the floor alone decides. "
      "Sign strings list the columns (x axis) left to right.",
      "- Curvature: `d_0 - d_{L-1}` of the train-set trace-separation load curve unless "
      "named otherwise (`c_pinv`: pinv separation, `c_test`: test set).",
      f"- Bootstrap: {numbers['num_boot']} resamples, NumPy seed {numbers['boot_seed']}: "
      "each cell's seeds are resampled with replacement independently per cell, the cell "
      "means of curvature and accuracy recomputed, |mean curvature| correlated with mean "
      "accuracy over the cells; 95% percentile intervals. They measure seed noise "
      "only (the cells themselves are fixed) and, with few seeds (3 seeds give 10 "
      "distinct resamples of a cell), they are narrow: they say whether a number is "
      "robust to which seeds were drawn, not how it would vary over new grids.",
      "",
  ]
  lines += ["## Central check: |curvature| against test accuracy", ""]
  lines += central_check_markdown(numbers.get("central_check"))
  for name in catalogue.SWEEPS:
    s = numbers["sweeps"].get(name, {})
    if s.get("status") != "ok":
      lines += [
          f"## {name}: {catalogue.TITLES.get(name, name)}",
          "",
          f"Skipped: {s.get('status')}" f"{': ' + s['error'] if 'error' in s else ''}.",
          "",
      ]
      continue
    a = numbers["results"][name]
    if (
        name in catalogue.CLASSIFICATION_GRIDS
        or name in catalogue.REGRESSION_GRIDS
        or name in catalogue.VARIANT_GRIDS
    ):
      lines += _grid_markdown(name, a)
      if a.get("figure"):
        lines += [f"Figure: `{a['figure']}`.", ""]
      if a.get("beside"):
        lines += _beside_markdown(a["beside"])
    elif name.startswith("fig4"):
      lines += [
          f"## {name}: {a['title']}",
          "",
          "Seed-mean curvature of the train load curve over time (unit: "
          f"{a['time_unit']}; evaluated times only): start (first evaluated time), "
          "end, extremes (and when); final curvature +- seed std.",
          "",
      ]
      lines += _table(
          ["case", "start", "end", "min (at)", "max (at)", "final ± std", "sign"]
          + (["theory"] if any("theory_curvature" in c for c in a["cases"]) else [])
          + (["test acc."] if any("accuracy" in c for c in a["cases"]) else []),
          [
              [
                  c["case"],
                  fmt(c.get("start"), "+.3f"),
                  fmt(c.get("end"), "+.3f"),
                  f"{fmt(c.get('min'), '+.3f')} ({fmt(c.get('min_time'))})",
                  f"{fmt(c.get('max'), '+.3f')} ({fmt(c.get('max_time'))})",
                  _pm(c["final_curvature"], c["final_curvature_std"]),
                  f"`{c['final_sign']}`",
              ]
              + ([fmt(c.get("theory_curvature"), "+.3f")] if "theory_curvature" in c else [])
              + ([fmt(c.get("accuracy"), ".4f")] if "accuracy" in c else [])
              for c in a["cases"]
          ],
      )
    elif name == "fig5a":
      lines += [
          f"## {name}: {a['title']}",
          "",
          "Final train load curves (mean over seeds), " "curvature ± seed std:",
          "",
      ]
      rows = []
      for c in a["cases"]:
        rows.append(
            [
                c["case"],
                " ".join(fmt(v, ".2f") for v in c["load_curve"]),
                f"{fmt(c['curvature'], '+.3f')}±{fmt(c['curvature_std'], '.3f')} "
                f"`{c['curvature_sign']}`",
                " ".join(fmt(v, ".2f") for v in c["load_curve_pinv"]),
                f"{fmt(c['curvature_pinv'], '+.3f')}±{fmt(c['curvature_pinv_std'], '.3f')} "
                f"`{c['curvature_pinv_sign']}`",
                fmt(c.get("final_train_loss"), ".2e"),
                c["diverged"],
            ]
        )
      lines += _table(
          [
              "case",
              "trace D_l",
              "curvature",
              "pinv D'_l",
              "pinv curvature",
              "final train loss",
              "diverged",
          ],
          rows,
      )
      if a.get("series_figure"):
        lines += [f"One factor at a time: `{a['series_figure']}`.", ""]
    elif name == "fig2":
      lines += _fig2_markdown(name, a)
    elif name == "fig5b":
      lines += _fig5b_markdown(name, a)
    elif name == "s2":
      lines += [
          f"## {name}: {a['title']}",
          "",
          f"Dropout {a['base_dropout']:g} for {a['switch_epoch']} epochs, then the rate "
          f"of each row until epoch {a['num_epochs']} (metrics every {a['eval_every']} "
          "epochs; the last evaluated epoch at or before the switch / the end).",
          "",
      ]
      lines += _table(
          [
              "rate after",
              "curvature before",
              "curvature end",
              "pinv before",
              "pinv end",
              "test acc. before",
              "test acc. end",
              "acc. change",
          ],
          [
              [
                  fmt(c["rate"]),
                  f"{_pm(c['curvature_before'], c['curvature_before_std'])} "
                  f"`{c['before_sign']}`",
                  f"{_pm(c['curvature_end'], c['curvature_end_std'])} `{c['end_sign']}`",
                  fmt(c["curvature_pinv_before"], "+.3f"),
                  fmt(c["curvature_pinv_end"], "+.3f"),
                  fmt(c["accuracy_before"], ".4f"),
                  fmt(c["accuracy_end"], ".4f"),
                  fmt(c["accuracy_change"], "+.4f"),
              ]
              for c in a["cases"]
          ],
      )
    if a.get(
        "figure"
    ) and name not in catalogue.CLASSIFICATION_GRIDS + catalogue.REGRESSION_GRIDS + tuple(
        catalogue.VARIANT_GRIDS
    ):
      lines += [f"Figure: `{a['figure']}`.", ""]
  for name, *_ in catalogue.ROW_CURVES:
    a = numbers["results"].get(name)
    if a is None:
      continue
    (first, first_c), (second, second_c) = a["pairs"]
    lines += [
        f"## {name}: {catalogue.TITLES[name]}",
        "",
        f"From `{a['source']}`, alpha = {a['alpha']:g}; mean over seeds (curves: layer 0 "
        "... L; range = max - min of the mean curve).",
        "",
    ]
    rows = []
    for c in a["cells"]:
      rows.append(
          [
              fmt(c[a["x"]]),
              " ".join(fmt(v, ".2f") for v in c[first]),
              fmt(c[first + "_range"], ".3f"),
              _pm(c[first_c]["mean"], c[first_c]["std"]),
              " ".join(fmt(v, ".2f") for v in c[second]),
              fmt(c[second + "_range"], ".3f"),
              _pm(c[second_c]["mean"], c[second_c]["std"]),
              fmt(c["accuracy"]["mean"], ".4f") if "accuracy" in c else "-",
          ]
      )
    lines += _table(
        [a["x"], first, "range", first_c, second, "range", second_c, "test accuracy"], rows
    )
    lines += [f"Figure: `{a['figure']}`.", ""]
  if numbers.get("s10_figure"):
    lines += [
        "## s10: trace vs pinv phase diagram (Fig. 1(c) sweep)",
        "",
        "Signs and correlations of `curvature_pinv` are in the fig1c tables above "
        f"(`sign c_pinv`). Figure: `{numbers['s10_figure']}`.",
        "",
    ]
  lines += [f"## Spring-block chains (sweeps {', '.join(catalogue.CHAIN_PHASE_GRIDS)})", ""]
  for dynamics, s in numbers["springs"].items():
    if s.get("status") != "ok":
      lines += [f"- {dynamics}: {s.get('status')}{': ' + s['error'] if 'error' in s else ''}.", ""]
      continue
    runtime = ", ".join(f"{k} {v}" for k, v in s["runtime"].items())
    lines += [
        f"### {dynamics} ({os.path.basename(s['workdir'])}, {s['num_seeds']} seeds; " f"{runtime})",
        "",
        f"Curvature rises with noise (Spearman >= {analysis.MONOTONE_RHO}) in "
        f"{fmt(s['fraction_rows_increasing'], '.0%')} of friction rows.",
        "",
    ]
    theory = "theory_critical_noise" in s["rows"][0] if s["rows"] else False
    lines += _table(
        ["mu", "signs over noise", "mean curvature over noise", "rho", "measured crossing"]
        + (["theory eps*"] if theory else []),
        [
            [
                fmt(r["mu"]),
                f"`{sign}`",
                " ".join(fmt(v, "+.2f") for v in s["curvature_mean"][i]),
                fmt(r["spearman_curvature_vs_noise"], "+.2f"),
                ", ".join(fmt(v, ".3g") for v in r["crossings_noise"]) or "none",
            ]
            + ([fmt(r["theory_critical_noise"], ".3g")] if theory else [])
            for i, (r, sign) in enumerate(zip(s["rows"], s["sign"]))
        ],
    )
  damping = numbers.get("springs_damping")
  if damping:
    g = damping["gamma"]
    lines += [
        f"### Second-order chains at damping {g[0]:g} and {g[1]:g} "
        f"({' vs '.join(catalogue.DAMPING_PAIR)})",
        "",
        f"Ringing modes (frequency above gamma / 2): {damping['ringing_modes'][0]} of the "
        f"chain's modes at gamma = {g[0]:g}, {damping['ringing_modes'][1]} at {g[1]:g}. "
        f"Cells with the same curvature sign: {fmt(damping['sign_agreement'], '.0%')} of "
        f"{damping['num_cells']}; largest shift of a row's first zero crossing: "
        f"{fmt(damping['max_abs_shift_steps'], '.2f')} noise steps.",
        "",
    ]
    lines += _table(
        ["mu", f"crossing at gamma {g[0]:g}", f"crossing at gamma {g[1]:g}", "shift (steps)"],
        [
            [
                fmt(r["mu"]),
                fmt(r["crossing"][0], ".2f"),
                fmt(r["crossing"][1], ".2f"),
                fmt(r["shift_steps"], "+.2f"),
            ]
            for r in damping["rows"]
        ],
    )
  runtimes = numbers.get("runtimes")
  lines += ["## Runtimes", ""]
  walls = numbers.get("wall_times_s") or {}
  if walls:
    lines += [
        "Sweep wall time from each result's sidecar (each chunk's training time over its "
        "resumes, summed over the chunks, including compiles; the machine was shared with "
        "other work during these runs):",
        "",
    ]
    lines += _table(["sweep", "wall time"], [[n, wall_time(numbers, n)] for n in walls])
    lines += [
        "`runtimes.tsv` (each `experiments/reproduction/run.sh` invocation of a sweep that "
        "finished a chunk; until 2026-12-07 each step was logged with its plots, and a step whose "
        "sweep had already finished showed only the time to check and re-plot):",
        "",
    ]
  if runtimes:
    lines += _table(
        ["name", "seconds", "command"],
        [[r["name"], f"{r['seconds']:.0f}", f"`{r['note']}`"] for r in runtimes["rows"]],
    )
    total = runtimes["total_seconds"]
    lines += [f"Total: {total:.0f} s ({total / 3600:.2f} h).", ""]
  else:
    lines += ["No `runtimes.tsv`.", ""]
  return "\n".join(lines) + "\n"


def _beside_markdown(b):
  """The table of :func:`_beside`."""
  lines = [
      f"Beside `{b['names'][0]}` at the {b['field'].replace('_', ' ')} values both hold "
      f"({', '.join(fmt(v) for v in b['x'])}, least noise first): seed-mean curvature, and "
      "whether it rises with the noise at every step (no fall larger than the seed std). "
      f"Rows rising throughout: {sum(b['monotone'][0])} of {len(b['y'])} in "
      f"`{b['names'][0]}`, {sum(b['monotone'][1])} of {len(b['y'])} in `{b['names'][1]}`.",
      "",
  ]
  lines += _table(
      ["row", f"{b['names'][0]} curvature", "rises", f"{b['names'][1]} curvature", "rises"],
      [
          [
              fmt(y),
              " ".join(fmt(v, "+.2f") for v in b["mean"][0][i]),
              "yes" if b["monotone"][0][i] else "no",
              " ".join(fmt(v, "+.2f") for v in b["mean"][1][i]),
              "yes" if b["monotone"][1][i] else "no",
          ]
          for i, y in enumerate(b["y"])
      ],
  )
  return lines

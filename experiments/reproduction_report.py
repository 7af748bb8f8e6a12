r"""Numbers and compact figures of the reproduction report, from finished sweeps.

Reads a directory of merged sweep workdirs (as ``experiments/reproduce.sh``
leaves them) and writes, into ``--out``:

* ``numbers.json``: everything measured, machine-readable (NaN as ``null``);
* ``numbers.md``: the same as tables: first a verdict per claim of the
  paper (:data:`CLAIMS`; the one rule and the thresholds of
  :mod:`featurespring.analysis.verdicts`, "best accuracy near linear"
  decided by the pre-registered test of docs/central_claim.md), then one
  section per sweep, the secondary central check (|curvature| against test
  accuracy) first;
* small PNGs: per phase-diagram grid, mean curvature beside the score (test
  accuracy, or test RMSE for regression); one scatter of |curvature| against
  accuracy over every classification grid; curvature over time (Fig. 4);
  final load curves (Fig. 5a); the dropout switch (S2); and the chain sweeps'
  own figures, copied (Fig. 2, Fig. 3 / S13 / S14, Fig. 5(b)).

Expected workdirs under ``--runs`` (each may be missing; the report says so):
fig1a fig1b fig1c fig1d s5 s6 s7a s7b (classification phase diagrams), s12
(regression), fig4_dnn fig4_springs (dynamics), fig5a (linear network), s2
(dropout switch), fig2 (chains under independent vs synchronous noise), fig5b
(chains with leftward friction only), fig3 s13 s14 (chain phase diagrams of
the three dynamics, as ``experiments/springs_phase_diagram.py --outdir`` also
lays them out);
``runtimes.tsv`` (``name<TAB>seconds<TAB>command``).

The measuring is :mod:`featurespring.analysis` (its conventions are printed
in numbers.md): diverged nets are left out of every statistic and counted;
cell statistics are over the cell's valid seeds; a cell's curvature sign
needs ``analysis.SIGN_SE_FACTOR`` standard errors; the central check is
:func:`~featurespring.analysis.curvature_accuracy_correlation`, a bootstrap
over seeds within cells. This script picks the sweeps, titles them and
writes the tables.

Run (seconds; NumPy and matplotlib only, apart from the curvature function);
``--doc`` also rewrites the verdict table of the doc (its generated block):

  python experiments/reproduction_report.py --runs=runs/reproduction --out=docs/reproduction \
      --doc=docs/reproduction.md
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import traceback

from absl import app
from absl import flags
from absl import logging
import numpy as np

from featurespring import analysis
from featurespring.analysis import central as central_lib
from featurespring.analysis import chains
from featurespring.analysis import docblocks
from featurespring.analysis import figures
from featurespring.analysis import verdicts
from featurespring.sweep import results

import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-order

FLAGS = flags.FLAGS


# Classification phase diagrams: the central check pools these.
CLASSIFICATION_GRIDS = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6", "s7a", "s7b")
REGRESSION_GRIDS = ("s12",)
# Variants of a classification grid that change one thing: analysed like it,
# set beside it (columns matched by a field), never pooled in the central
# check (their nets are not an independent grid). name -> (grid, field).
VARIANT_GRIDS = {"fig1d_fixed_steps": ("fig1d", "batch_size")}
SWEEPS = (
    "fig1a",
    "fig1b",
    "fig1c",
    "fig1d",
    "fig1d_fixed_steps",
    "s12",
    "s5",
    "s6",
    "fig2",
    "fig4_dnn",
    "fig4_springs",
    "fig5a",
    "fig5b",
    "s7a",
    "s7b",
    "s2",
)
TITLES = {
    "fig1a": "Fig. 1(a): nonlinearity x label + data noise",
    "fig1b": "Fig. 1(b): nonlinearity x learning rate",
    "fig1c": "Fig. 1(c): nonlinearity x dropout",
    "fig1d": "Fig. 1(d): nonlinearity x batch size",
    "fig1d_fixed_steps": "Fig. 1(d) at a fixed number of steps: nonlinearity x batch size",
    "s12": "S12: regression, nonlinearity x dropout",
    "s5": "S5: depth x dropout (ReLU)",
    "s6": "S6: width x dropout (ReLU)",
    "fig4_dnn": "Fig. 4 (left): network load-curve dynamics",
    "fig4_springs": "Fig. 4 (right): chain load-curve dynamics",
    "fig2": "Fig. 2: chain with independent vs synchronous noise",
    "fig5a": "Fig. 5(a): linear network, learning rate and dropout swept",
    "fig5b": "Fig. 5(b): chain with leftward friction only (mu_r = 0)",
    "s7a": "S7(a): Fashion-MNIST, nonlinearity x noise (Adam)",
    "s7b": "S7(b): Fashion-MNIST, nonlinearity x noise (SGD)",
    "s2": "S2: CNN, dropout raised mid-training",
    "s4": "S4: training vs test load curves (ReLU row of Fig. 1(b))",
    "s11": "S11: trace vs pinv load curves of linear nets (alpha = 1 row of Fig. 1(c))",
}
CASE_NAMES = {
    "fig4_dnn": ("lazy", "balanced", "active"),
    "fig4_springs": ("lazy", "balanced", "active"),
}
# Load curves of one grid row, two curve kinds side by side: S4 (train vs
# test, the ReLU row of Fig. 1(b)) and S11 (trace vs pinv, the linear row of
# Fig. 1(c)). Each entry: (name, source grid, alpha of the row, x values shown,
# (curve key, curvature key) pairs).
ROW_CURVES = (
    (
        "s4",
        "fig1b",
        0.0,
        (1e-4, 1e-3, 1e-2, 5e-2),
        (("load_curve", "curvature"), ("load_curve_test", "curvature_test")),
    ),
    (
        "s11",
        "fig1c",
        1.0,
        (0.0, 0.1, 0.2, 0.3),
        (("load_curve", "curvature"), ("load_curve_pinv", "curvature_pinv")),
    ),
)
# Chain phase diagrams (Fig. 3, S13, S14), one per dynamics, and the figures
# of theirs copied into the report: launch.plot's name -> the report's
# (springs_<dynamics>_<name>.png), corners of the first-order chain only.
CHAIN_PHASE_GRIDS = ("fig3", "s13", "s14")
# S13 at the paper's damping and at one that overdamps every mode.
DAMPING_PAIR = ("s13", "s13_damped")
CHAIN_FIGURES = (
    ("phase_diagram.png", "phase", None),
    ("load_curves.png", "corners", "first_order"),
)
# The figures of the other chain sweeps, copied likewise: launch.plot's name
# -> <sweep>_<name> in the report.
SWEEP_FIGURES = {
    "fig2": ("side_by_side.png",),
    "fig5b": ("load_curves.png", "curvature_by_row.png"),
}
SIZE_BUDGET_BYTES = 3 * 2**20

# The pre-registered test's six families (docs/central_claim.md): its pooled
# reading needs all of them. Every other phase grid gets the test's reading
# on its own rows (S7 at 3 seeds, S12 with -RMSE as the score).
PREREGISTERED = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6")
CHAIN_DYNAMICS = {"fig3": "first_order", "s13": "second_order", "s14": "langevin"}
# The paper's claims, in the order of the verdict table: key -> (figure, claim).
CLAIMS = {
    "fig1c": (
        "Fig. 1(c) dropout",
        "concave -> linear -> convex as dropout grows; best accuracy near linear",
    ),
    "fig1a": ("Fig. 1(a) label + data noise", "the same, noise = label and input corruption"),
    "fig1d": ("Fig. 1(d) batch size", "the same, noise = small batches"),
    "fig1d_fixed_steps": (
        "Fig. 1(d) at 1024 steps",
        "small batches still raise the curvature when every net takes the same number of steps",
    ),
    "fig1b": ("Fig. 1(b) learning rate", "the same, noise = a large step"),
    "preregistered": (
        "Pre-registered test, six grids pooled",
        "the accuracy peak sits at the curvature zero crossing and moves with it (docs/central_claim.md)",
    ),
    "s4": (
        "S4 train vs test",
        "test load curves concave -> convex like training ones; the most linear one is the most accurate",
    ),
    "s10": ("S10 trace vs pinv", "the pinv metric gives a comparable phase diagram"),
    "s11": (
        "S11 linear net",
        "through a linear net the pinv separation stays flat while the trace one moves",
    ),
    "s12": (
        "S12 regression",
        "the same phase diagram for a regression load; best RMSE near linear",
    ),
    "s5": ("S5 depth", "the same at every depth, best accuracy near linear"),
    "s6": ("S6 width", "the same at every width, best accuracy near linear"),
    "s7a": ("S7(a) Fashion-MNIST, Adam", "the same on another dataset"),
    "s7b": ("S7(b) Fashion-MNIST, SGD", "the same with another optimiser"),
    "s8_s9": ("S8 / S9 CIFAR-10", "the same on CIFAR-10"),
    "fig3": (
        "Fig. 3 first-order chains",
        "the networks' phase diagram; crossings on the effective-friction theory's line",
    ),
    "s13": ("S13 second-order chains", "the same phase diagram with inertia"),
    "s13_damping": ("S13 damping", "the phase diagram does not depend on the damping"),
    "s14": ("S14 Langevin chains", "the same phase diagram with Gaussian noise"),
    "fig2": (
        "Fig. 2 noise sharing",
        "independent and synchronous noise end on the same load curve; their fluctuations differ",
    ),
    "fig4": (
        "Fig. 4 dynamics",
        "lazy / balanced / active load curves over training, in networks and chains",
    ),
    "fig5a": (
        "Fig. 5(a) linear network",
        "a small step ends linear; a large step or dropout makes it convex",
    ),
    "fig5b": (
        "Fig. 5(b) leftward friction only",
        "linear without noise whatever mu_l, convex with noise",
    ),
    "s2": (
        "S2 CNN dropout switch",
        "concave before; dropout 0.1 linear and better, 0.3 convex and worse",
    ),
}
# Claims no sweep here can test, and why.
NOT_RUNNABLE = {
    "s8_s9": "no copy of CIFAR-10 can be obtained on this machine; the configs and the loader "
    "are ready and tested (experiments/s8_cifar10.py, s9_cifar10_lr.py)",
}
VERDICTS_BEGIN = (
    "<!-- BEGIN verdicts generated by experiments/reproduction_report.py; do not edit by hand -->"
)
VERDICTS_END = "<!-- END verdicts generated by experiments/reproduction_report.py -->"
# The sweeps behind a claim, where they are not the claim's own name: its
# block in the doc names their numbers.md sections and wall times.
CLAIM_SWEEPS = {
    "preregistered": PREREGISTERED,
    "s4": ("fig1b",),
    "s10": ("fig1c",),
    "s11": ("fig1c",),
    "fig4": ("fig4_dnn", "fig4_springs"),
    "s13_damping": ("s13", "s13_damped"),
}


def claim_markers(key):
  """The marker lines of claim ``key``'s generated block in docs/reproduction.md."""
  return (
      f"<!-- BEGIN claim {key} generated by experiments/reproduction_report.py; "
      "do not edit by hand -->",
      f"<!-- END claim {key} -->",
  )


CENTRAL_CHECK_MARKERS = claim_markers("central_check")


def read_runtimes(path):
  """``runtimes.tsv`` rows as dicts; reruns of a name are all kept."""
  rows = []
  with open(path) as f:
    for line in f:
      parts = line.rstrip("\n").split("\t")
      if len(parts) < 2 or not parts[0].strip():
        continue
      try:
        seconds = float(parts[1])
      except ValueError:
        continue
      rows.append(
          {"name": parts[0], "seconds": seconds, "command": parts[2] if len(parts) > 2 else ""}
      )
  return rows


# --------------------------------------------------------------------------
# Writing.


def to_json(value):
  """Plain JSON types; NaN / inf become ``None`` (JSON has no NaN)."""
  if isinstance(value, dict):
    return {str(k): to_json(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_json(v) for v in value]
  if isinstance(value, np.ndarray):
    return to_json(value.tolist())
  if isinstance(value, (np.bool_, bool)):
    return bool(value)
  if isinstance(value, (np.integer, int)):
    return int(value)
  if isinstance(value, (np.floating, float)):
    return float(value) if math.isfinite(value) else None
  if isinstance(value, np.str_):
    return str(value)
  return value


def _f(value, spec=".3g"):
  if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
    return "-"
  return format(value, spec)


def _pm(mean, std):
  return f"{_f(mean, '+.3f')}±{_f(std, '.3f')}"


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
    head = [f"{y} \\ {first}"] + [_f(v) for v in fields[first]]
    columns = (
        f"{x} ("
        + "; ".join(f"{f} = {', '.join(_f(v) for v in vals)}" for f, vals in fields.items())
        + "; the per-row table gives column indices)"
    )
  else:
    head = [f"{y} \\ {x}"] + [_f(v) for v in a["x_values"]]
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
          [_f(yv)]
          + [f"{_f(m, '+.3f')}±{_f(s, '.3f')}" for m, s in zip(curv["mean"][i], curv["std"][i])]
          for i, yv in enumerate(a["y_values"])
      ],
  )
  lines += [f"Mean test {score} +- seed std:", ""]
  sc = a[score]
  lines += _table(
      head,
      [
          [_f(yv)] + [f"{_f(m, '.4f')}±{_f(s, '.4f')}" for m, s in zip(sc["mean"][i], sc["std"][i])]
          for i, yv in enumerate(a["y_values"])
      ],
  )
  if a["diverged"]["total"]:
    lines += ["Diverged nets per cell:", ""]
    lines += _table(
        head,
        [
            [_f(yv)] + [str(int(v)) for v in a["diverged"]["per_cell"][i]]
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
        [_f(r["y"])]
        + [f"`{a[k]['sign'][i]}`" for k in signs]
        + [
            _f(r["best_x"]),
            _f(r["best_score"], ".4f"),
            _f(r["zero_x"]),
            ", ".join(_f(v) for v in r["crossings_x"]) or "none",
            _f(r.get("best_minus_zero_steps"), "+d")
            if r.get("best_minus_zero_steps") is not None
            else "-",
            _f(r.get("best_minus_crossing_steps"), "+.1f"),
            _f(r.get("best_rank_by_abs_curvature"), "d")
            if r.get("best_rank_by_abs_curvature") is not None
            else "-",
            _f(r.get("spearman_curvature_vs_x"), "+.2f"),
            _ci(r["correlation"]),
        ]
    )
  lines += _table(head2, table)
  bz, cn = a["best_vs_zero"], a["curvature_vs_noise"]
  lines += [
      f"- {best_word.capitalize()} cell overall: {y}={_f(a.get('best_cell', {}).get('y'))}, "
      f"{x}={_f(a.get('best_cell', {}).get('x'))}, {score} "
      f"{_f(a.get('best_cell', {}).get('score'), '.4f')}, curvature "
      f"{_f(a.get('best_cell', {}).get('curvature'), '+.3f')}.",
      f"- Best cell = nearest-zero cell in {_f(bz['fraction_best_is_nearest_zero'], '.0%')}"
      f" of rows, within one x step in {_f(bz['fraction_within_one_step'], '.0%')}; "
      f"mean |steps| {_f(bz['mean_abs_steps'], '.2f')}; mean |steps| to the nearest "
      f"zero crossing {_f(bz['mean_abs_steps_to_crossing'], '.2f')} "
      f"({bz['rows_with_crossing']} rows cross zero).",
      f"- Curvature rises with the noise ({cn['rule']}) in "
      f"{_f(cn['fraction_rows_increasing'], '.0%')} of rows; median signed Spearman "
      f"{_f(cn['median_spearman'], '+.2f')}.",
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
      f"{a['num_steps']} steps at noise {_f(a['noise'], '.4g')}. Per noise mode: valid seeds, "
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
              " ".join(_f(v, ".3f") for v in m["load_curve"]),
              _pm(m["increment_correlation"], m["increment_correlation_std"]),
          ]
          for m in a["modes"]
      ],
  )
  lines += [
      "- Final curves, synchronous - independent: largest |difference| over layers "
      f"{_f(a['final_curve_max_abs_difference'], '.2g')}, against a largest seed std of "
      f"{_f(a['final_curve_max_seed_std'], '.2g')}.",
      "- Effective-friction theory at this noise (equilibrium curve at mu_eff): curvature "
      f"{_f(a['theory_curvature'], '+.3f')}.",
      "",
  ]
  return lines + _figures_line(a)


def _fig5b_markdown(name, a):
  """The section of :func:`analysis.left_friction_only`."""
  noise = a["noise"]
  loudest = _f(max(noise))
  lines = [
      f"## {name}: {a['title']}",
      "",
      f"Seed-mean curvature per leftward friction mu_l over the noise "
      f"({', '.join(_f(v) for v in noise)}), signs left to right. Without noise, the "
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
              _f(r["mu_left"]),
              f"`{r['sign']}`",
              " ".join(_f(v, "+.3f") for v in r["curvature_mean"]),
              f"{_f(r['noiseless_curvature'], '+.1e')}±{_f(r['noiseless_std'], '.1e')}",
              _f(r["noiseless_mean_layer_drop"], ".3f"),
              f"{_pm(r['max_noise_curvature'], r['max_noise_std'])} `{r['max_noise_sign']}`",
              _f(r["theory_limit_curvature"], "+.3f"),
          ]
          for r in a["rows"]
      ],
  )
  return lines + _figures_line(a)


def _central_check_markdown(central):
  """The secondary correlation numbers (numbers.md and the doc's generated block)."""
  lines = []
  if central:
    lines += [
        "Prediction (SPEC §2): test accuracy peaks near the linear load curve, i.e. a "
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
                _f(r["median_pearson"], "+.2f"),
                f"{r['negative_pearson']} ({r['significant_negative_pearson']})",
                _f(r["median_spearman"], "+.2f"),
                f"{r['negative_spearman']} ({r['significant_negative_spearman']})",
            ]
            for n, r in ((n, c["rows"]) for n, c in central["per_grid"].items())
        ],
    )
    lines += ["Figure: `curvature_vs_accuracy.png`.", ""]
  else:
    lines += ["No classification phase-diagram sweep was found.", ""]
  return lines


def _markdown(numbers):
  lines = [
      "# Reproduction report: measured numbers",
      "",
      f"Generated by `python experiments/reproduction_report.py "
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
    lines += ["", "## Verdicts", ""] + verdicts_markdown(numbers["verdicts"])
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
  lines += _central_check_markdown(numbers.get("central_check"))
  for name in SWEEPS:
    s = numbers["sweeps"].get(name, {})
    if s.get("status") != "ok":
      lines += [
          f"## {name}: {TITLES.get(name, name)}",
          "",
          f"Skipped: {s.get('status')}" f"{': ' + s['error'] if 'error' in s else ''}.",
          "",
      ]
      continue
    a = numbers["results"][name]
    if name in CLASSIFICATION_GRIDS or name in REGRESSION_GRIDS or name in VARIANT_GRIDS:
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
                  _f(c.get("start"), "+.3f"),
                  _f(c.get("end"), "+.3f"),
                  f"{_f(c.get('min'), '+.3f')} ({_f(c.get('min_time'))})",
                  f"{_f(c.get('max'), '+.3f')} ({_f(c.get('max_time'))})",
                  _pm(c["final_curvature"], c["final_curvature_std"]),
                  f"`{c['final_sign']}`",
              ]
              + ([_f(c.get("theory_curvature"), "+.3f")] if "theory_curvature" in c else [])
              + ([_f(c.get("accuracy"), ".4f")] if "accuracy" in c else [])
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
                " ".join(_f(v, ".2f") for v in c["load_curve"]),
                f"{_f(c['curvature'], '+.3f')}±{_f(c['curvature_std'], '.3f')} "
                f"`{c['curvature_sign']}`",
                " ".join(_f(v, ".2f") for v in c["load_curve_pinv"]),
                f"{_f(c['curvature_pinv'], '+.3f')}±{_f(c['curvature_pinv_std'], '.3f')} "
                f"`{c['curvature_pinv_sign']}`",
                _f(c.get("final_train_loss"), ".2e"),
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
                  _f(c["rate"]),
                  f"{_pm(c['curvature_before'], c['curvature_before_std'])} "
                  f"`{c['before_sign']}`",
                  f"{_pm(c['curvature_end'], c['curvature_end_std'])} `{c['end_sign']}`",
                  _f(c["curvature_pinv_before"], "+.3f"),
                  _f(c["curvature_pinv_end"], "+.3f"),
                  _f(c["accuracy_before"], ".4f"),
                  _f(c["accuracy_end"], ".4f"),
                  _f(c["accuracy_change"], "+.4f"),
              ]
              for c in a["cases"]
          ],
      )
    if a.get("figure") and name not in CLASSIFICATION_GRIDS + REGRESSION_GRIDS + tuple(
        VARIANT_GRIDS
    ):
      lines += [f"Figure: `{a['figure']}`.", ""]
  for name, *_ in ROW_CURVES:
    a = numbers["results"].get(name)
    if a is None:
      continue
    (first, first_c), (second, second_c) = a["pairs"]
    lines += [
        f"## {name}: {TITLES[name]}",
        "",
        f"From `{a['source']}`, alpha = {a['alpha']:g}; mean over seeds (curves: layer 0 "
        "... L; range = max - min of the mean curve).",
        "",
    ]
    rows = []
    for c in a["cells"]:
      rows.append(
          [
              _f(c[a["x"]]),
              " ".join(_f(v, ".2f") for v in c[first]),
              _f(c[first + "_range"], ".3f"),
              _pm(c[first_c]["mean"], c[first_c]["std"]),
              " ".join(_f(v, ".2f") for v in c[second]),
              _f(c[second + "_range"], ".3f"),
              _pm(c[second_c]["mean"], c[second_c]["std"]),
              _f(c["accuracy"]["mean"], ".4f") if "accuracy" in c else "-",
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
  lines += [f"## Spring-block chains (sweeps {', '.join(CHAIN_PHASE_GRIDS)})", ""]
  for dynamics, s in numbers["springs"].items():
    if s.get("status") != "ok":
      lines += [f"- {dynamics}: {s.get('status')}{': ' + s['error'] if 'error' in s else ''}.", ""]
      continue
    runtime = ", ".join(f"{k} {v}" for k, v in s["runtime"].items())
    lines += [
        f"### {dynamics} ({os.path.basename(s['workdir'])}, {s['num_seeds']} seeds; " f"{runtime})",
        "",
        f"Curvature rises with noise (Spearman >= {analysis.MONOTONE_RHO}) in "
        f"{_f(s['fraction_rows_increasing'], '.0%')} of friction rows.",
        "",
    ]
    theory = "theory_critical_noise" in s["rows"][0] if s["rows"] else False
    lines += _table(
        ["mu", "signs over noise", "mean curvature over noise", "rho", "measured crossing"]
        + (["theory eps*"] if theory else []),
        [
            [
                _f(r["mu"]),
                f"`{sign}`",
                " ".join(_f(v, "+.2f") for v in s["curvature_mean"][i]),
                _f(r["spearman_curvature_vs_noise"], "+.2f"),
                ", ".join(_f(v, ".3g") for v in r["crossings_noise"]) or "none",
            ]
            + ([_f(r["theory_critical_noise"], ".3g")] if theory else [])
            for i, (r, sign) in enumerate(zip(s["rows"], s["sign"]))
        ],
    )
  damping = numbers.get("springs_damping")
  if damping:
    g = damping["gamma"]
    lines += [
        f"### Second-order chains at damping {g[0]:g} and {g[1]:g} "
        f"({' vs '.join(DAMPING_PAIR)})",
        "",
        f"Ringing modes (frequency above gamma / 2): {damping['ringing_modes'][0]} of the "
        f"chain's modes at gamma = {g[0]:g}, {damping['ringing_modes'][1]} at {g[1]:g}. "
        f"Cells with the same curvature sign: {_f(damping['sign_agreement'], '.0%')} of "
        f"{damping['num_cells']}; largest shift of a row's first zero crossing: "
        f"{_f(damping['max_abs_shift_steps'], '.2f')} noise steps.",
        "",
    ]
    lines += _table(
        ["mu", f"crossing at gamma {g[0]:g}", f"crossing at gamma {g[1]:g}", "shift (steps)"],
        [
            [
                _f(r["mu"]),
                _f(r["crossing"][0], ".2f"),
                _f(r["crossing"][1], ".2f"),
                _f(r["shift_steps"], "+.2f"),
            ]
            for r in damping["rows"]
        ],
    )
  runtimes = numbers.get("runtimes")
  lines += ["## Runtimes", ""]
  walls = numbers.get("wall_times_s") or {}
  if walls:
    lines += [
        "Sweep wall time from each result's sidecar (sum over its chunks, including "
        "compiles; the machine was shared with other work during these runs):",
        "",
    ]
    lines += _table(["sweep", "seconds"], [[n, _f(w, ".0f")] for n, w in walls.items()])
    lines += [
        "`runtimes.tsv` (each `experiments/reproduce.sh` step, sweep + plots; a step "
        "whose sweep had already finished shows only the time to check and re-plot):",
        "",
    ]
  if runtimes:
    lines += _table(
        ["name", "seconds", "command"],
        [[r["name"], f"{r['seconds']:.0f}", f"`{r['command']}`"] for r in runtimes["rows"]],
    )
    total = runtimes["total_seconds"]
    lines += [f"Total: {total:.0f} s ({total / 3600:.2f} h).", ""]
  else:
    lines += ["No `runtimes.tsv`.", ""]
  return "\n".join(lines) + "\n"


def _titled(name, numbers):
  return {"title": TITLES.get(name, name), **numbers}


def _beside(grid, variant, field):
  """A variant grid's curvature beside its grid's, columns matched by ``field``.

  Per sweep, the rows whose curvature rises with the noise at every step
  (no adjacent pair falling by more than the larger seed std), so that a
  reversal in one (Fig. 1(d): batch 640 more concave than 2560 at fixed
  epochs) can be checked in the other.
  """
  matched = analysis.matched_columns(grid, variant, field)
  monotone = []
  for mean, std in zip(matched["mean"], matched["std"]):
    fall = -np.diff(mean, axis=1)  # > 0: curvature fell as the noise rose
    spread = np.maximum(std[:, 1:], std[:, :-1])
    with analysis.quiet():
      monotone.append([bool(np.all(f <= s)) for f, s in zip(fall, spread)])
  return {**matched, "monotone": monotone}


def _beside_markdown(b):
  """The table of :func:`_beside`."""
  lines = [
      f"Beside `{b['names'][0]}` at the {b['field'].replace('_', ' ')} values both hold "
      f"({', '.join(_f(v) for v in b['x'])}, least noise first): seed-mean curvature, and "
      "whether it rises with the noise at every step (no fall larger than the seed std). "
      f"Rows rising throughout: {sum(b['monotone'][0])} of {len(b['y'])} in "
      f"`{b['names'][0]}`, {sum(b['monotone'][1])} of {len(b['y'])} in `{b['names'][1]}`.",
      "",
  ]
  lines += _table(
      ["row", f"{b['names'][0]} curvature", "rises", f"{b['names'][1]} curvature", "rises"],
      [
          [
              _f(y),
              " ".join(_f(v, "+.2f") for v in b["mean"][0][i]),
              "yes" if b["monotone"][0][i] else "no",
              " ".join(_f(v, "+.2f") for v in b["mean"][1][i]),
              "yes" if b["monotone"][1][i] else "no",
          ]
          for i, y in enumerate(b["y"])
      ],
  )
  return lines


def _analyse_sweep(name, workdir, out, dpi, num_boot, boot_seed, found):
  """One sweep's numbers (and figure); phase grids and Fig. 4 series go into ``found``."""
  sweep = analysis.FinishedSweep.load(workdir)
  path = lambda stem: os.path.join(out, stem)
  if name in CLASSIFICATION_GRIDS or name in REGRESSION_GRIDS or name in VARIANT_GRIDS:
    regression = name in REGRESSION_GRIDS or "accuracy" not in sweep.arrays
    a = _titled(
        name,
        analysis.analyse_phase_grid(
            sweep, "rmse" if regression else "accuracy", not regression, num_boot, boot_seed
        ),
    )
    a["figure"] = os.path.basename(
        figures.phase_beside_score(sweep, a, TITLES.get(name, name), path(f"phase_{name}.png"), dpi)
    )
    if name in VARIANT_GRIDS:
      found["variants"][name] = sweep
    elif not regression:
      found["grids"][name], found["analyses"][name] = sweep, a
    else:
      found["regression"][name] = sweep
  elif name.startswith("fig4"):
    a, found["dynamics"][name] = analysis.curvature_over_time(sweep, CASE_NAMES.get(name, ()))
    a = _titled(name, a)
  elif name == "fig5a":
    a, (get, labels) = analysis.final_load_curves(sweep, CASE_NAMES.get(name, ()))
    a = _titled(name, a)
    a["figure"] = os.path.basename(
        figures.final_load_curves(get, labels, path("fig5a_load_curves.png"), dpi)
    )
    a["series"] = analysis.one_at_a_time(sweep.config)
    if a["series"]:
      a["series_figure"] = os.path.basename(
          figures.one_at_a_time(
              a["cases"],
              a["series"],
              sweep.config,
              f"{TITLES[name]}\n{sweep.describe()}",
              path("fig5a_sweeps.png"),
              dpi,
          )
      )
  elif name == "fig2":
    a = _titled(name, analysis.independent_vs_synchronous(sweep))
  elif name == "fig5b":
    a = _titled(name, analysis.left_friction_only(sweep))
  elif name == "s2":
    a, (series, rates, switch) = analysis.before_and_after_switch(sweep)
    a = _titled(name, a)
    a["figure"] = os.path.basename(
        figures.dropout_switch(series, rates, switch, path("s2_switch.png"), dpi)
    )
  return a


def preregistered_readings(found):
  """The pre-registered test's reading of every phase grid, and pooled over its six families.

  The six families go through one ``central.analyse`` call with the plan's
  resampling (``central.PLAN_*``: the central report's defaults, whatever
  ``--num_boot`` this report's correlations use), so the pooled reading here
  is the one docs/central_claim.md prints; it is None until all six are
  present.
  """
  grids = {name: central_lib.grid_from_sweep(s, name) for name, s in found["grids"].items()}
  grids.update(
      {
          name: central_lib.grid_from_sweep(s, name, "rmse", higher_is_better=False)
          for name, s in found["regression"].items()
      }
  )
  six = {name: grids[name] for name in PREREGISTERED if name in grids}
  out = {"families": {}, "pooled": None, "missing": [n for n in PREREGISTERED if n not in grids]}
  if six:
    pooled = central_lib.analyse(six)
    out["families"] = {n: f["statistics"] for n, f in pooled["families"].items()}
    if not out["missing"]:
      out["pooled"] = pooled["pooled"]["statistics"]
  for name, grid in grids.items():
    if name not in six:
      alone = central_lib.analyse({name: grid})
      out["families"][name] = alone["families"][name]["statistics"]
  return out


def claim_checks(key, numbers):
  """``(checks, missing)`` of one claim of :data:`CLAIMS`; ``checks`` None when it cannot run."""
  result = numbers["results"].get
  phase = (
      lambda name: result(name) if numbers["sweeps"].get(name, {}).get("status") == "ok" else None
  )
  pre = numbers.get("preregistered") or {"families": {}, "pooled": None, "missing": PREREGISTERED}
  # What a claim without its sweep says: the sweep's status where it has one.
  status = lambda name: (
      f"{name} ({numbers['sweeps'][name]['status']})" if name in numbers["sweeps"] else name
  )
  if key in NOT_RUNNABLE:
    return None, NOT_RUNNABLE[key]
  if key in CLASSIFICATION_GRIDS + REGRESSION_GRIDS:
    a = phase(key)
    return (
        (verdicts.phase_grid_checks(a, pre["families"].get(key)), None)
        if a
        else (None, status(key))
    )
  if key == "fig1d_fixed_steps":
    a = phase(key)
    return (verdicts.raised_curvature_checks(a), None) if a else (None, status(key))
  if key == "preregistered":
    if pre["pooled"] is None:
      return None, ", ".join(pre["missing"])
    return [verdicts.peak_at_crossing(pre["pooled"])], None
  needs, make = {
      "s4": ("s4", verdicts.train_test_checks),
      "s10": ("fig1c", verdicts.pinv_phase_checks),
      "s11": ("s11", verdicts.invariance_checks),
      "s2": ("s2", verdicts.switch_checks),
      "fig2": ("fig2", verdicts.noise_sharing_checks),
      "fig5b": ("fig5b", verdicts.left_friction_checks),
      "fig5a": ("fig5a", lambda a: verdicts.linear_net_checks(a["cases"], a["series"])),
  }.get(key, (None, None))
  if needs:
    a = phase(needs)
    return (make(a), None) if a else (None, status(needs))
  if key in CHAIN_DYNAMICS:
    entry = numbers.get("springs", {}).get(CHAIN_DYNAMICS[key], {})
    ok = entry.get("status") == "ok"
    return (
        (verdicts.chain_phase_checks(entry), None)
        if ok
        else (None, f"{key} ({entry.get('status', 'missing')})")
    )
  if key == "s13_damping":
    comparison = numbers.get("springs_damping")
    return (verdicts.damping_checks(comparison), None) if comparison else (None, "s13, s13_damped")
  if key == "fig4":
    nets, chains_ = phase("fig4_dnn"), phase("fig4_springs")
    if not (nets and chains_):
      return None, "fig4_dnn, fig4_springs"
    return (
        verdicts.regimes_checks(nets["cases"], "networks")
        + verdicts.regimes_checks(chains_["cases"], "chains")
    ), None
  raise KeyError(f"no checks for claim {key!r}")


def claim_verdicts(numbers):
  """Every claim of :data:`CLAIMS`: its checks and the verdict of the one rule."""
  out = []
  for key, (figure, claim) in CLAIMS.items():
    try:
      checks, missing = claim_checks(key, numbers)
    except Exception as err:  # pylint: disable=broad-except
      # A claim whose numbers break a check is reported, not the whole report lost.
      logging.error("verdict of %s failed:\n%s", key, traceback.format_exc())
      checks = [verdicts.check("its checks", verdicts.UNDECIDED, f"error: {err!r}")]
      missing = None
    out.append(
        {
            "key": key,
            "figure": figure,
            "claim": claim,
            "checks": checks or [],
            "verdict": verdicts.verdict(checks or []),
            "missing": missing,
        }
    )
  return out


_MARKS = {verdicts.PASS: "pass", verdicts.FAIL: "**fail**", verdicts.UNDECIDED: "undecided"}


def verdicts_markdown(claims):
  """The rule and the verdict table (also the generated block of docs/reproduction.md)."""
  lines = [
      f"**The rule.** {verdicts.RULE}",
      "",
      "| figure | claim | verdict | checks (outcome: measured) |",
      "|---|---|---|---|",
  ]
  for c in claims:
    if c["checks"]:
      detail = "<br>".join(
          f"{_MARKS[k['outcome']]} {k['check']}: {k['measured']}" for k in c["checks"]
      )
    else:
      missing = c["missing"] or "its sweep"
      detail = missing if c["key"] in NOT_RUNNABLE else f"needs {missing}"
    lines.append(f"| {c['figure']} | {c['claim']} | **{c['verdict']}** | {detail} |")
  return lines


# Copied figures wider than this (pixels) are scaled down: the sweeps draw
# them full size, the doc shows them at page width.
COPY_MAX_WIDTH = 1300


def _copy_figure(source, target):
  """Copies a PNG drawn by a sweep, scaled down to :data:`COPY_MAX_WIDTH` if wider.

  Re-encoded with a 256-colour palette: line plots lose nothing visible and
  the files shrink several times, which keeps the report within its budget.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top  (matplotlib's own dependency)

  with Image.open(source) as image:
    image = image.convert("RGB")
    if image.width > COPY_MAX_WIDTH:
      height = round(image.height * COPY_MAX_WIDTH / image.width)
      image = image.resize((COPY_MAX_WIDTH, height), Image.LANCZOS)
    image.quantize(colors=256).save(target, optimize=True)


def claim_block(claim, numbers):
  """A claim's verdict with its checks, and where its numbers are (the doc's block)."""
  lines = [f"**Verdict: {claim['verdict']}.**", ""]
  if claim["checks"]:
    lines += [f"- {_MARKS[k['outcome']]}: {k['check']}: {k['measured']}" for k in claim["checks"]]
  else:
    missing = claim["missing"] or "its sweep"
    lines.append(f"- {missing if claim['key'] in NOT_RUNNABLE else 'needs ' + missing}")
  sweeps = CLAIM_SWEEPS.get(claim["key"], (claim["key"],))
  walls = numbers.get("wall_times_s") or {}
  found = [n for n in sweeps if numbers["sweeps"].get(n, {}).get("status") == "ok"]
  if found:
    plural = "s" if len(found) > 1 else ""
    line = (
        f"- All numbers: [`numbers.md`](reproduction/numbers.md), section{plural} "
        + ", ".join(f"`{n}`" for n in found)
        + "."
    )
    timed = [n for n in found if walls.get(n) is not None]
    if timed:
      line += (
          f" Wall time{'s' if len(timed) > 1 else ''} (result sidecar: chunks summed, "
          "compiles included): " + ", ".join(f"{_f(walls[n], '.0f')} s" for n in timed) + "."
      )
    lines.append(line)
  return "\n".join(lines)


def doc_blocks(text, numbers):
  """``(block, begin, end)`` of every generated block that document ``text`` holds.

  The verdict table must be there; a claim's block and the correlation block
  are filled where the document has their markers.
  """
  blocks = [("\n".join(verdicts_markdown(numbers["verdicts"])), VERDICTS_BEGIN, VERDICTS_END)]
  for claim in numbers["verdicts"]:
    begin, end = claim_markers(claim["key"])
    if begin in text:
      blocks.append((claim_block(claim, numbers), begin, end))
  if CENTRAL_CHECK_MARKERS[0] in text:
    central = _central_check_markdown(numbers.get("central_check"))
    blocks.append(("\n".join(central), *CENTRAL_CHECK_MARKERS))
  return blocks


def write_report(runs, out, num_boot=2000, boot_seed=0, dpi=90, doc=None):
  """Analyses every sweep under ``runs``; writes numbers.json, numbers.md, PNGs into ``out``.

  With ``doc``, also rewrites that document's generated blocks (:func:`doc_blocks`):
  the verdict table (between :data:`VERDICTS_BEGIN` and :data:`VERDICTS_END`),
  each claim's verdict and checks (:func:`claim_markers`), and the correlations.

  Returns:
    The numbers (as written to numbers.json, before NaN -> null).
  """
  os.makedirs(out, exist_ok=True)
  numbers = {
      "runs": runs,
      "num_boot": num_boot,
      "boot_seed": boot_seed,
      "sweeps": {},
      "results": {},
  }
  found = {"grids": {}, "analyses": {}, "dynamics": {}, "variants": {}, "regression": {}}

  def attempt(name, fn):
    try:
      numbers["results"][name] = fn()
      numbers["sweeps"][name] = {"status": "ok"}
    except Exception as err:  # pylint: disable=broad-except
      # One broken sweep must not hide the others' numbers; it is reported.
      logging.error("%s failed:\n%s", name, traceback.format_exc())
      numbers["sweeps"][name] = {"status": "error", "error": f"{type(err).__name__}: {err}"}
      numbers["results"].pop(name, None)
      plt.close("all")

  def merged(workdir):
    return results.exists(os.path.join(workdir, "results"))

  for name in SWEEPS:
    workdir = os.path.join(runs, name)
    if not os.path.isdir(workdir):
      numbers["sweeps"][name] = {"status": "missing"}
    elif not merged(workdir):
      numbers["sweeps"][name] = {"status": "incomplete (no merged results.npz/json)"}
    else:
      attempt(
          name,
          lambda name=name, workdir=workdir: _analyse_sweep(
              name, workdir, out, dpi, num_boot, boot_seed, found
          ),
      )

  for name, sweep in found["variants"].items():
    grid, field = VARIANT_GRIDS[name]
    if grid in found["grids"]:
      numbers["results"][name]["beside"] = _beside(found["grids"][grid], sweep, field)

  for name, source, alpha, x_shown, pairs in ROW_CURVES:
    source_dir = os.path.join(runs, source)
    if not merged(source_dir):
      numbers["sweeps"][name] = {"status": f"missing (needs {source})"}
      continue

    def run_row(name=name, source_dir=source_dir, alpha=alpha, x_shown=x_shown, pairs=pairs):
      a = analysis.row_load_curves(analysis.FinishedSweep.load(source_dir), alpha, x_shown, pairs)
      a["figure"] = os.path.basename(
          figures.row_load_curves(
              a, TITLES.get(name, name), os.path.join(out, f"{name}_load_curves.png"), dpi
          )
      )
      return a

    attempt(name, run_row)

  if "fig1c" in found["grids"]:
    # S10: the same sweep coloured by either metric's curvature.
    try:
      numbers["s10_figure"] = os.path.basename(
          figures.trace_vs_pinv(
              found["grids"]["fig1c"],
              f"S10: {TITLES['fig1c']}, trace vs pinv",
              os.path.join(out, "s10_trace_vs_pinv.png"),
              dpi,
          )
      )
    except Exception:  # pylint: disable=broad-except
      logging.error("s10 figure failed:\n%s", traceback.format_exc())
      plt.close("all")

  numbers["wall_times_s"] = {
      name: results.load(os.path.join(runs, name, "results"))[1].get("wall_time_s")
      for name in SWEEPS
      if merged(os.path.join(runs, name))
  }

  if found["dynamics"]:
    try:
      path = os.path.basename(
          figures.curvature_over_time(
              found["dynamics"], TITLES, os.path.join(out, "fig4_curvature.png"), dpi
          )
      )
      for name in found["dynamics"]:
        if name in numbers["results"]:
          numbers["results"][name]["figure"] = path
    except Exception:  # pylint: disable=broad-except
      logging.error("fig4 figure failed:\n%s", traceback.format_exc())
      plt.close("all")

  central, scatter = analysis.pooled_correlations(
      found["grids"], found["analyses"], num_boot, boot_seed
  )
  numbers["central_check"] = central
  if central:
    central["figure"] = os.path.basename(
        figures.curvature_vs_accuracy(
            scatter, central, os.path.join(out, "curvature_vs_accuracy.png"), dpi
        )
    )

  try:
    numbers["springs"] = analysis.analyse_chain_phases(
        [os.path.join(runs, name) for name in CHAIN_PHASE_GRIDS]
    )
  except Exception as err:  # pylint: disable=broad-except
    logging.error("springs failed:\n%s", traceback.format_exc())
    numbers["springs"] = {"all": {"status": "error", "error": f"{type(err).__name__}: {err}"}}
  damped = [os.path.join(runs, name) for name in DAMPING_PAIR]
  if all(results.exists(os.path.join(w, "results")) for w in damped):
    try:
      numbers["springs_damping"] = chains.damping_comparison(*damped)
    except Exception:  # pylint: disable=broad-except
      logging.error("damping comparison failed:\n%s", traceback.format_exc())
  # Figures the runs draw themselves, copied so the report links stay inside docs/.
  sources = [
      (os.path.join(s["workdir"], "figures", drawn), f"springs_{dynamics}_{kind}.png")
      for dynamics, s in numbers["springs"].items()
      if s.get("status") == "ok"
      for drawn, kind, only in CHAIN_FIGURES
      if only in (None, dynamics)
  ]
  sources += [
      (path, f"fig4_beside_{os.path.basename(path)}")
      for path in sorted(glob.glob(os.path.join(runs, "fig4_beside", "*.png")))
  ]
  swept = [
      (name, os.path.join(runs, name, "figures", drawn), f"{name}_{drawn}")
      for name, drawn_figures in SWEEP_FIGURES.items()
      if numbers["sweeps"].get(name, {}).get("status") == "ok"
      for drawn in drawn_figures
  ]
  sources += [(path, target) for _, path, target in swept]
  copied = []
  for path, target in sources:
    if os.path.exists(path):
      _copy_figure(path, os.path.join(out, target))
      copied.append(target)
  numbers["copied_figures"] = copied
  for name, _, target in swept:
    if target in copied:
      numbers["results"][name].setdefault("figures", []).append(target)
  runtimes_path = os.path.join(runs, "runtimes.tsv")
  if os.path.exists(runtimes_path):
    rows = read_runtimes(runtimes_path)
    numbers["runtimes"] = {"rows": rows, "total_seconds": sum(r["seconds"] for r in rows)}
  else:
    numbers["runtimes"] = None

  try:
    numbers["preregistered"] = preregistered_readings(found)
  except Exception as err:  # pylint: disable=broad-except
    logging.error("pre-registered readings failed:\n%s", traceback.format_exc())
    numbers["preregistered"] = {
        "families": {},
        "pooled": None,
        "missing": [f"the readings ({type(err).__name__}: {err})"],
    }
  numbers["verdicts"] = claim_verdicts(numbers)
  markdown = _markdown(numbers)
  if doc:
    with open(doc, encoding="utf-8") as f:
      docblocks.write_blocks(doc, doc_blocks(f.read(), numbers))
  numbers = to_json(numbers)
  results.write_json(os.path.join(out, "numbers.json"), numbers)
  with open(os.path.join(out, "numbers.md"), "w") as f:
    f.write(markdown)
  total = sum(
      os.path.getsize(os.path.join(out, f))
      for f in os.listdir(out)
      if os.path.isfile(os.path.join(out, f))
  )
  if total > SIZE_BUDGET_BYTES:
    logging.warning(
        "%s holds %.1f MB, over the report's 3 MB budget; lower --dpi", out, total / 2**20
    )
  return numbers


def _define_flags():
  """The command-line flags; defined only when run as a script, so that tests (and other
  scripts) can import this module beside others that define flags of the same names."""
  flags.DEFINE_string("runs", None, "Directory of finished sweep workdirs.")
  flags.DEFINE_string(
      "out", "docs/reproduction", "Where numbers.json, numbers.md and the figures go."
  )
  flags.DEFINE_integer("num_boot", 2000, "Bootstrap resamples per correlation.")
  flags.DEFINE_integer("boot_seed", 0, "NumPy seed of the bootstraps.")
  flags.DEFINE_integer("dpi", 90, "Resolution of the PNGs.")
  flags.DEFINE_string(
      "doc",
      None,
      "A document whose generated blocks (verdicts, one per claim, correlations) are "
      "rewritten (docs/reproduction.md).",
  )


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  numbers = write_report(
      FLAGS.runs, FLAGS.out, FLAGS.num_boot, FLAGS.boot_seed, FLAGS.dpi, FLAGS.doc
  )
  skipped = [f"{n} ({s['status']})" for n, s in numbers["sweeps"].items() if s["status"] != "ok"]
  print(
      f"Wrote {os.path.join(FLAGS.out, 'numbers.md')} and numbers.json; "
      f"skipped: {', '.join(skipped) or 'none'}"
  )


if __name__ == "__main__":
  _define_flags()
  flags.mark_flag_as_required("runs")
  app.run(main)

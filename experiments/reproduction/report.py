r"""Numbers and compact figures of the reproduction report, from finished sweeps.

Reads a directory of merged sweep workdirs (as ``experiments/reproduction/run.sh``
leaves them) and writes, into ``--out``:

* ``numbers.json``: everything measured, machine-readable (NaN as ``null``);
* ``numbers.md``: the same as tables: first a verdict per claim of the
  paper (:data:`claims.CLAIMS`; the one rule and the thresholds of
  :mod:`experiments.reproduction.verdicts`, "best accuracy near linear"
  decided by the pre-registered test of experiments/central_claim/README.md), then one
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
``runtimes.tsv`` (``name<TAB>seconds<TAB>command``, :mod:`experiments.runtimes`).

The measuring is :mod:`featurespring.analysis` (its conventions are printed
in numbers.md): diverged nets are left out of every statistic and counted;
cell statistics are over the cell's valid seeds; a cell's curvature sign
needs ``analysis.SIGN_SE_FACTOR`` standard errors; the central check is
:func:`~featurespring.analysis.curvature_accuracy_correlation`, a bootstrap
over seeds within cells. This script picks the sweeps, titles them and
writes the tables.

Run (seconds; NumPy and matplotlib only, apart from the curvature function);
``--doc`` also rewrites the verdict table of the doc (its generated block):

  python -m experiments.reproduction.report --runs=runs/reproduction --out=experiments/reproduction/results \
      --doc=experiments/reproduction/README.md

``--rejudge`` applies the verdict rule of today's ``verdicts.py`` again to
the numbers an earlier run wrote (``--out``'s ``numbers.json``), without the
runs: the verdicts in numbers.json and numbers.md, and the doc's blocks, are
rewritten; every measured number stays as it was, except that with
``--runs`` the analyses that read only their own sweeps (:data:`STANDALONE`,
SM S6.2's chains) are refreshed from those that have finished.

  python -m experiments.reproduction.report --rejudge --doc=experiments/reproduction/README.md
"""

from __future__ import annotations

import glob
import json
import os
import traceback

from absl import app
from absl import flags
from absl import logging
import numpy as np
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-order

from featurespring import analysis
from featurespring.analysis import chains
from featurespring.analysis import docblocks
from featurespring.sweep import merging
from featurespring.sweep import results

from experiments import runtimes as runtimes_lib
from experiments.reproduction import catalogue
from experiments.reproduction import claims
from experiments.reproduction import figures
from experiments.reproduction import gaussian_drift
from experiments.reproduction import left_friction
from experiments.reproduction import markdown
from experiments.reproduction import pooled

FLAGS = flags.FLAGS


# The figures a report commits; numbers.json is not counted.
SIZE_BUDGET_BYTES = 3 * 2**20


def _titled(name, numbers):
  return {"title": catalogue.TITLES.get(name, name), **numbers}


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


def _analyse_sweep(name, workdir, out, dpi, num_boot, boot_seed, found):
  """One sweep's numbers (and figure); phase grids and Fig. 4 series go into ``found``."""
  sweep = analysis.FinishedSweep.load(workdir)
  path = lambda stem: os.path.join(out, stem)
  if (
      name in catalogue.CLASSIFICATION_GRIDS
      or name in catalogue.REGRESSION_GRIDS
      or name in catalogue.VARIANT_GRIDS
  ):
    regression = name in catalogue.REGRESSION_GRIDS or "accuracy" not in sweep.arrays
    a = _titled(
        name,
        analysis.analyse_phase_grid(
            sweep, "rmse" if regression else "accuracy", not regression, num_boot, boot_seed
        ),
    )
    a["figure"] = os.path.basename(
        figures.phase_beside_score(
            sweep, a, catalogue.TITLES.get(name, name), path(f"phase_{name}.png"), dpi
        )
    )
    if name in catalogue.VARIANT_GRIDS:
      found["variants"][name] = sweep
    elif not regression:
      found["grids"][name], found["analyses"][name] = sweep, a
    else:
      found["regression"][name] = sweep
  elif name.startswith("fig4"):
    a, found["dynamics"][name] = analysis.curvature_over_time(
        sweep, catalogue.CASE_NAMES.get(name, ())
    )
    a = _titled(name, a)
  elif name == "fig5a":
    a, (get, labels) = analysis.final_load_curves(sweep, catalogue.CASE_NAMES.get(name, ()))
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
              f"{catalogue.TITLES[name]}\n{sweep.describe()}",
              path("fig5a_sweeps.png"),
              dpi,
          )
      )
  elif name == "fig2":
    a = _titled(name, analysis.independent_vs_synchronous(sweep))
  elif name == "fig5b":
    a = _titled(name, left_friction.left_friction_only(sweep))
  elif name == "s2":
    a, (series, rates, switch) = analysis.before_and_after_switch(sweep)
    a = _titled(name, a)
    a["figure"] = os.path.basename(
        figures.dropout_switch(series, rates, switch, path("s2_switch.png"), dpi)
    )
  return a


def _gaussian_drift(workdirs, out, dpi):
  drift = gaussian_drift.gaussian_drift(*workdirs)
  path = gaussian_drift.figure(drift, os.path.join(out, "s6_2_drift.png"), dpi)
  return {**drift, "figure": os.path.basename(path)}


# Analyses that read only their own sweeps: numbers key -> (sweeps, analysis(workdirs, out,
# dpi)). A rejudge with --runs refreshes them without the other sweeps.
STANDALONE = {"gaussian_drift": (catalogue.GAUSSIAN_DRIFT_PAIR, _gaussian_drift)}


def _standalone(runs, out, dpi):
  """``{key: numbers}`` of every :data:`STANDALONE` analysis whose sweeps have finished."""
  found = {}
  for key, (names, analyse) in STANDALONE.items():
    workdirs = [os.path.join(runs, name) for name in names]
    if not all(results.exists(os.path.join(w, "results")) for w in workdirs):
      continue
    try:
      found[key] = analyse(workdirs, out, dpi)
    except Exception:  # pylint: disable=broad-except
      logging.error("%s failed:\n%s", key, traceback.format_exc())
      plt.close("all")
  return found


def write_report(runs, out, num_boot=2000, boot_seed=0, dpi=90, doc=None):
  """Analyses every sweep under ``runs``; writes numbers.json, numbers.md, PNGs into ``out``.

  With ``doc``, also rewrites that document's generated blocks (:func:`claims.doc_blocks`):
  the verdict table (between ``claims.VERDICTS_BEGIN`` and ``VERDICTS_END``),
  each claim's verdict and checks (:func:`claims.claim_markers`), and the correlations.

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

  for name in catalogue.SWEEPS:
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
    grid, field = catalogue.VARIANT_GRIDS[name]
    if grid in found["grids"]:
      numbers["results"][name]["beside"] = _beside(found["grids"][grid], sweep, field)

  for name, source, alpha, x_shown, pairs in catalogue.ROW_CURVES:
    source_dir = os.path.join(runs, source)
    if not merged(source_dir):
      numbers["sweeps"][name] = {"status": f"missing (needs {source})"}
      continue

    def run_row(name=name, source_dir=source_dir, alpha=alpha, x_shown=x_shown, pairs=pairs):
      a = analysis.row_load_curves(analysis.FinishedSweep.load(source_dir), alpha, x_shown, pairs)
      a["figure"] = os.path.basename(
          figures.row_load_curves(
              a, catalogue.TITLES.get(name, name), os.path.join(out, f"{name}_load_curves.png"), dpi
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
              f"S10: {catalogue.TITLES['fig1c']}, trace vs pinv",
              os.path.join(out, "s10_trace_vs_pinv.png"),
              dpi,
          )
      )
    except Exception:  # pylint: disable=broad-except
      logging.error("s10 figure failed:\n%s", traceback.format_exc())
      plt.close("all")

  walls = {
      name: merging.total_wall_time(results.load(os.path.join(runs, name, "results"))[1])
      for name in catalogue.SWEEPS
      if merged(os.path.join(runs, name))
  }
  numbers["wall_times_s"] = {name: wall for name, (wall, _) in walls.items()}
  # Chunks resumed from checkpoints that predate the record of earlier time:
  # their sweep's wall time is a lower bound.
  numbers["wall_times_unrecorded"] = {name: u for name, (_, u) in walls.items() if u}

  if found["dynamics"]:
    try:
      path = os.path.basename(
          figures.curvature_over_time(
              found["dynamics"], catalogue.TITLES, os.path.join(out, "fig4_curvature.png"), dpi
          )
      )
      for name in found["dynamics"]:
        if name in numbers["results"]:
          numbers["results"][name]["figure"] = path
    except Exception:  # pylint: disable=broad-except
      logging.error("fig4 figure failed:\n%s", traceback.format_exc())
      plt.close("all")

  central, scatter = pooled.pooled_correlations(
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
        [os.path.join(runs, name) for name in catalogue.CHAIN_PHASE_GRIDS]
    )
  except Exception as err:  # pylint: disable=broad-except
    logging.error("springs failed:\n%s", traceback.format_exc())
    numbers["springs"] = {"all": {"status": "error", "error": f"{type(err).__name__}: {err}"}}
  numbers.update(_standalone(runs, out, dpi))
  damped = [os.path.join(runs, name) for name in catalogue.DAMPING_PAIR]
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
      for drawn, kind, only in catalogue.CHAIN_FIGURES
      if only in (None, dynamics)
  ]
  sources += [
      (path, f"fig4_beside_{os.path.basename(path)}")
      for path in sorted(glob.glob(os.path.join(runs, "fig4_beside", "*.png")))
  ]
  swept = [
      (name, os.path.join(runs, name, "figures", drawn), f"{name}_{drawn}")
      for name, drawn_figures in catalogue.SWEEP_FIGURES.items()
      if numbers["sweeps"].get(name, {}).get("status") == "ok"
      for drawn in drawn_figures
  ]
  sources += [(path, target) for _, path, target in swept]
  copied = []
  for path, target in sources:
    if os.path.exists(path):
      figures.copy_figure(path, os.path.join(out, target))
      copied.append(target)
  numbers["copied_figures"] = copied
  for name, _, target in swept:
    if target in copied:
      numbers["results"][name].setdefault("figures", []).append(target)
  runtimes_path = os.path.join(runs, "runtimes.tsv")
  if os.path.exists(runtimes_path):
    rows = runtimes_lib.read_rows(runtimes_path)
    numbers["runtimes"] = {"rows": rows, "total_seconds": sum(r["seconds"] for r in rows)}
  else:
    numbers["runtimes"] = None

  try:
    numbers["preregistered"] = claims.preregistered_readings(found)
  except Exception as err:  # pylint: disable=broad-except
    logging.error("pre-registered readings failed:\n%s", traceback.format_exc())
    numbers["preregistered"] = {
        "families": {},
        "pooled": None,
        "missing": [f"the readings ({type(err).__name__}: {err})"],
    }
  numbers["verdicts"] = claims.claim_verdicts(numbers)
  text = markdown.numbers_markdown(numbers)
  _write_verdicts(numbers, out, doc)
  numbers = catalogue.to_json(numbers)
  results.write_json(os.path.join(out, "numbers.json"), numbers)
  results.write_text(os.path.join(out, "numbers.md"), text)
  # Figures only: --dpi sets their size, while numbers.json grows with what
  # the sweeps measure (curves over time, per-cell tables).
  figure_bytes = sum(
      os.path.getsize(os.path.join(out, f))
      for f in os.listdir(out)
      if f.endswith((".png", ".pdf")) and os.path.isfile(os.path.join(out, f))
  )
  if figure_bytes > SIZE_BUDGET_BYTES:
    logging.warning(
        "%s's figures hold %.1f MB, over the report's 3 MB budget; lower --dpi",
        out,
        figure_bytes / 2**20,
    )
  return numbers


def _write_verdicts(numbers, out, doc):
  """The doc's generated blocks from ``numbers`` (with its verdicts), if there is a doc."""
  if doc:
    with open(doc, encoding="utf-8") as f:
      link = os.path.relpath(os.path.join(out, "numbers.md"), os.path.dirname(os.path.abspath(doc)))
      docblocks.write_blocks(doc, claims.doc_blocks(f.read(), numbers, link))


def rejudge(out, doc=None, runs=None, dpi=90):
  """The verdicts of today's rule over the numbers in ``out/numbers.json``.

  Nothing is re-measured, except, with ``runs``, the :data:`STANDALONE`
  analyses whose sweeps have finished there. Rewrites the verdicts in
  ``numbers.json``, the verdict section of ``numbers.md`` and ``doc``'s
  blocks; returns the new verdicts.
  """
  path = os.path.join(out, "numbers.json")
  with open(path, encoding="utf-8") as f:
    numbers = json.load(f)
  if runs:
    numbers.update(catalogue.to_json(_standalone(runs, out, dpi)))
  numbers["verdicts"] = catalogue.to_json(claims.claim_verdicts(numbers))
  _write_verdicts(numbers, out, doc)
  with open(os.path.join(out, "numbers.md"), encoding="utf-8") as f:
    text = f.read()
  start = text.index("## Verdicts\n")
  stop = text.index("\n## ", start + 1)
  section = "\n".join(["## Verdicts", ""] + claims.verdicts_markdown(numbers["verdicts"]))
  results.write_text(os.path.join(out, "numbers.md"), text[:start] + section + "\n" + text[stop:])
  results.write_json(path, numbers)
  return numbers["verdicts"]


def _define_flags():
  """The command-line flags; defined only when run as a script, so that tests (and other
  scripts) can import this module beside others that define flags of the same names."""
  flags.DEFINE_string("runs", None, "Directory of finished sweep workdirs.")
  flags.DEFINE_bool(
      "rejudge",
      False,
      "Apply the verdict rule again to --out's numbers.json; with --runs, also refresh the "
      "standalone analyses (STANDALONE) from their finished sweeps.",
  )
  flags.DEFINE_string(
      "out",
      "experiments/reproduction/results",
      "Where numbers.json, numbers.md and the figures go.",
  )
  flags.DEFINE_integer("num_boot", 2000, "Bootstrap resamples per correlation.")
  flags.DEFINE_integer("boot_seed", 0, "NumPy seed of the bootstraps.")
  flags.DEFINE_integer("dpi", 90, "Resolution of the PNGs.")
  flags.DEFINE_string(
      "doc",
      None,
      "A document whose generated blocks (verdicts, one per claim, correlations) are "
      "rewritten (experiments/reproduction/README.md).",
  )


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  if not FLAGS.rejudge and not FLAGS.runs:
    raise app.UsageError("give --runs (analyse the sweeps) or --rejudge (reuse numbers.json)")
  if FLAGS.rejudge:
    changed = rejudge(FLAGS.out, FLAGS.doc, FLAGS.runs, FLAGS.dpi)
    print(
        f"Rewrote the verdicts of {len(changed)} claims in {FLAGS.out}"
        + (f" and {FLAGS.doc}" if FLAGS.doc else "")
    )
    return
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
  app.run(main)

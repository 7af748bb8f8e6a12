r"""The results of experiments/control/README.md, from the finished control sweeps.

Reads, for each setting, a controlled sweep and its fixed-dropout baseline
under ``--runs`` (``control_<setting>`` and ``baseline_<setting>``, as the
configs' docstrings name them), skips a missing pair with a stated line, and
writes the generated results block of ``--doc`` (between its markers; the
hand-written plan above them is kept) and, per setting, three figures (PNG
and PDF) under ``--figures``: the knob and the curvature over training, and
the controlled nets on the fixed-dropout accuracy curve of every row. The
numbers are :mod:`experiments.control.analysis`'s.

  python -m experiments.control.report --runs=runs/control
"""

from __future__ import annotations

import json
import os

from absl import app
from absl import flags
import numpy as np

from featurespring import plotting
from featurespring.analysis import docblocks

from experiments.control import analysis as control

import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-order

FLAGS = flags.FLAGS


# Setting name -> the config argument that makes it (experiments/control/README.md).
SETTINGS = {
    "fig1c": "",
    "fashion_mnist": "dataset=fashion_mnist",
    "depth4": "depth=4",
    "width50": "width=50",
}
# The pre-registered primary controller (experiments/control/README.md).
PRIMARY_GAIN, PRIMARY_TARGET = 1.0, 0.0


def _pct(mean, low=None, high=None):
  if not np.isfinite(mean):
    return "-"
  text = f"{100 * mean:.2f}"
  if low is not None and np.isfinite(low):
    text += f" [{100 * low:.2f}, {100 * high:.2f}]"
  return text


def _describe(pair: control.Pair) -> str:
  dnn = pair.config["dnn"]
  return (
      f"{dnn['dataset']}, {dnn['depth']} hidden layers of {dnn['width']}, "
      f"knob: {dnn['control_knob']}, {pair.epochs} epochs, {pair.num_seeds} seeds"
  )


def setting_section(name, pair: control.Pair, figures_dir, doc_dir) -> tuple[list[str], str]:
  """Markdown lines of one setting and its verdict; writes its figures."""
  result = control.analyse(pair, PRIMARY_GAIN, PRIMARY_TARGET)
  gain, target = result["gain"], result["target"]
  description = _describe(pair)
  dnn = pair.config["dnn"]
  lines = [
      f"### {name}: {description}",
      "",
      f"Primary controller: gain {gain:g}, target {target:g}; updates every "
      f"{dnn['control_every']} epochs after a {dnn['control_warmup']}-epoch warm-up. "
      "Compute per row and seed, in net-epochs: "
      + ", ".join(
          f"{label} {result['compute'][key]}"
          for key, label in (("controller", "controller"),) + tuple(control.BASELINE_LABELS.items())
      )
      + f" (controller / (b): {result['compute_ratio']:.3f}, limit "
      f"{control.MAX_COMPUTE_RATIO:.3f}); in wall time per net-epoch, each sweep's evaluations "
      f"and compiles included: {result['wall_ratio']:.3f}.",
      "",
      "Test accuracy (%), mean [95% CI] over seeds; difference paired by seed:",
      "",
      "| alpha | controller | (a) no noise | (b) best val | (c) nearest linear | (d) oracle "
      "| controller - (b) | row | rate: ctrl / (b) / (c) | saturated | final abs error "
      "| rate spread (logit) |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ]
  methods = result["methods"]
  for i, alpha in enumerate(result["alphas"]):
    cells = [_pct(*(m[i] for m in methods[k][:3])) for k in ("controller",) + control.BASELINES]
    diff = result["difference"]
    rates = " / ".join(
        f"{r:.3f}"
        for r in (
            result["controller_rate"][i],
            result["chosen_rate"]["best_val"][i],
            result["chosen_rate"]["nearest_linear"][i],
        )
    )
    lines.append(
        f"| {alpha:g} | "
        + " | ".join(cells)
        + f" | {_pct(diff[0][i], diff[1][i], diff[2][i])} | {result['verdict']['rows'][i]} "
        f"| {rates} | {result['saturated'][i]:.2f} | {result['final_error'][i]:.3f} "
        f"| {result['rate_spread'][i]:.2f} |"
    )
  verdict = result["verdict"]
  compute = ", ".join(
      f"{control.MATCHED_LABELS[k]} {result['compute'][k]}" for k in control.MATCHED
  )
  most = max(result["compute"][k] for k in control.MATCHED)
  lines += [
      "",
      f"Cheap baselines, using up to {most / result['compute']['best_val']:.3g} of the grid's "
      f"compute (the pass rule's limit: {control.MAX_COMPUTE_RATIO:.3g}) and up to "
      f"{most / result['compute']['controller']:.2g} times the controller's "
      f"{result['compute']['controller']} (added 2026-12-06, after these results "
      f"were first read), net-epochs per row and seed: {compute}; (e) is dropout "
      f"{control.DEFAULT_RATE:g}, (f) the better by validation of "
      f"{' and '.join(f'{r:g}' for r in control.TWO_RATES)}, (g) successive halving over the "
      f"{len(pair.rates)} rates, keeping the best 1/{control.HALVING_ETA} by validation at epochs "
      f"{' and '.join(str(e) for e in control.HALVING_RUNGS)}. Test accuracy (%) and the "
      "controller minus each, paired by seed; the last column reads the pass rule with the "
      f"interval of controller - (b) (pass: all of it above -{control.MARGIN_POINTS:g} points):",
      "",
      "| alpha | "
      + " | ".join(control.MATCHED_LABELS[k] for k in control.MATCHED)
      + " | "
      + " | ".join(f"controller - {control.MATCHED_LABELS[k][:3]}" for k in control.MATCHED)
      + " | row by interval |",
      "|" + " --- |" * (2 + 2 * len(control.MATCHED)),
  ]
  for i, alpha in enumerate(result["alphas"]):
    accuracy = [_pct(*(m[i] for m in methods[k][:3])) for k in control.MATCHED]
    differences = [
        _pct(*(d[i] for d in result["matched_difference"][k][:3])) for k in control.MATCHED
    ]
    lines.append(
        f"| {alpha:g} | "
        + " | ".join(accuracy + differences)
        + f" | {verdict['rows_by_interval'][i]} |"
    )
  lines += [
      "",
      f"**Verdict: {verdict['verdict']}** ({verdict['decided']} decided rows; "
      f"alpha >= {control.UNREACHABLE_ALPHA:g} reported, not decided; compute "
      f"{'within' if verdict['compute_ok'] else 'over'} the limit).",
      "",
      "Sensitivity: controller minus (b), points, mean over decided rows and seeds:",
      "",
      "| gain \\ target | " + " | ".join(f"{t:g}" for t in pair.targets) + " |",
      "| --- |" + " --- |" * len(pair.targets),
  ]
  for g, row in zip(pair.gains, result["sensitivity"]):
    lines.append(f"| {g:g} | " + " | ".join(_pct(v) for v in row) + " |")
  robust = result["robust"]
  lines += [
      "",
      f"**{'Robust' if robust['robust'] else 'Not robust'}** to gain and target: of the "
      f"{robust['cells']} cells with gain <= {gain:g}, the farthest lies "
      f"{100 * robust['worst']:.2f} points from the primary (rule: robust if every one lies "
      f"within {control.MARGIN_POINTS:g}).",
  ]
  title = f"{description}; gain {gain:g}"
  figures = {
      "knob": control.plot_over_training(
          pair,
          gain,
          target,
          "rate",
          f"Dropout rate under the controller\n{title}, target {target:g}",
      ),
      "curvature": control.plot_over_training(
          pair, gain, target, "curvature", f"Train curvature under the controller\n{title}"
      ),
      "phase": control.plot_on_phase_diagram(
          pair, gain, f"Controlled nets (markers) on the fixed-dropout accuracy\n{title}"
      ),
  }
  lines.append("")
  for kind, fig in figures.items():
    path = os.path.join(figures_dir, f"{name}_{kind}")
    plotting.save_figure(fig, path, dpi=90)
    plt.close(fig)
    lines.append(f"![{name} {kind}]({os.path.relpath(path, doc_dir)}.png)")
  return lines + [""], verdict["verdict"]


def overhead_line(benchmark) -> str:
  """The controller's own cost per epoch, from ``benchmarks/train.py``'s JSON
  at ``benchmark`` (a stated line if it has not been run)."""
  if not benchmark or not os.path.exists(benchmark):
    return f"Controller overhead: not measured yet (no {benchmark})."
  with open(benchmark) as f:
    overhead = json.load(f).get("controller_overhead")
  if not overhead:
    return f"Controller overhead: {benchmark} has no `controller_overhead` entry."
  return (
      f"Controller overhead (`{benchmark}`, {overhead['networks']} nets of the Fig. 1(c) grid, "
      f"both evaluating every epoch, best of 3 alternating timings): "
      f"{overhead['seconds_per_epoch_with_controller']:.3f} s per epoch with the controller "
      f"updating after every epoch, {overhead['seconds_per_epoch_without']:.3f} s without: "
      f"ratio {overhead['ratio_with_to_without']:.3f}."
  )


def report(runs, doc, figures_dir, benchmark=None) -> str:
  """Writes the results block of ``doc`` and the figures; returns the block."""
  lines, verdicts = [], {}
  for name, argument in SETTINGS.items():
    verdicts[name] = None
    dirs = [os.path.join(runs, f"{kind}_{name}") for kind in ("control", "baseline")]
    missing = [d for d in dirs if not os.path.exists(os.path.join(d, "results.json"))]
    if missing:
      made_by = f"`:{argument}`" if argument else "no config argument"
      lines += [f"- {name} ({made_by}): not run yet, missing {', '.join(missing)}.", ""]
      continue
    pair = control.load_pair(*dirs)
    section, verdicts[name] = setting_section(
        name, pair, figures_dir, os.path.dirname(os.path.abspath(doc))
    )
    lines += section
  per_setting = ", ".join(f"{name} {verdict or 'not run'}" for name, verdict in verdicts.items())
  claim = control.claim_verdict(verdicts)
  lines = [
      f"**The issue's claim: {claim}** (per setting: {per_setting}; rule: the primary setting "
      "fig1c a success and no variant a failure).",
      "",
      overhead_line(benchmark),
      "",
  ] + lines
  block = "\n".join(lines)
  docblocks.write_block(doc, block, control.BEGIN_MARKER, control.END_MARKER)
  return block


def _define_flags():
  """The command-line flags; defined only when run as a script, so that tests (and other
  scripts) can import this module beside others that define flags of the same names."""
  flags.DEFINE_string("runs", "runs/control", "Directory of the finished control sweeps.")
  flags.DEFINE_string(
      "doc", "experiments/control/README.md", "Markdown file whose results block is written."
  )
  flags.DEFINE_string("figures", "experiments/control/figures", "Where the figures go.")
  flags.DEFINE_string(
      "benchmark",
      "benchmarks/train_controller_result_cpu.json",
      "JSON of `python benchmarks/train.py --nogrids --notorch` (its controller_overhead).",
  )


def main(argv):
  del argv
  print(report(FLAGS.runs, FLAGS.doc, FLAGS.figures, FLAGS.benchmark))


if __name__ == "__main__":
  _define_flags()
  app.run(main)

"""Numbers of the pre-registered test as text: positions in grid steps, intervals, tables."""

from __future__ import annotations

import math
import re


def share(fraction):
  """A percentage that never rounds a few resamples away: ``<1%`` rather than ``0%``."""
  return "<1%" if 0 < fraction < 0.005 else f"{fraction:.0%}"


def g(value, spec=".3g"):
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return "-"
  return format(value, spec)


def p_value(p, num_permutations, spec=".4f"):
  """``p = 0.0330``, or ``p < 1e-4`` when no permutation reached the statistic.

  A p-value of 0 from ``n`` permutations only says ``p < 1/n``; printed as
  0.0000 it would claim a precision the test does not have.
  """
  if p is not None and p == 0 and num_permutations:
    bound = re.sub(r"e-0*", "e-", f"{1 / num_permutations:.0e}")
    return f"p < {bound}"
  return f"p = {g(p, spec)}"


def position(value, last):
  """A position in grid steps; censored ones as ``<0`` / ``>last``."""
  if value is None or math.isnan(value):
    return "-"
  if value == -math.inf:
    return "<0"
  if value == math.inf:
    return f">{last}"
  return f"{value:.2f}"


def interval(ci, last=None, spec="+.2f"):
  lo, hi = ci
  if last is not None:
    return f"[{position(lo, last)}, {position(hi, last)}]"
  return f"[{g(lo, spec)}, {g(hi, spec)}]"


def stat(entry, spec="+.2f"):
  return f"{g(entry['value'], spec)} {interval(entry['ci'], spec=spec)}"


def table(header, rows):
  lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
  return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows] + [""]


def verdict_text(v):
  text = f"**{v['verdict']}**"
  if v["failed"]:
    text += f" (not met for support: {', '.join(f'`{k}`' for k in v['failed'])})"
  return text


def statistics_lines(s, secondary):
  link = s["link"]
  perms = f"{'all' if link['exhaustive'] else 'random'} {link['num_permutations']}"
  v = s["verdict"]
  held = ", ".join(f"`{k}`" for k, ok in v["conditions"].items() if ok) or "none"
  return [
      f"- Uncensored rows: {s['num_uncensored']}.",
      f"- Offset D̄ = mean (p - c): {stat(s['mean_offset'])} grid steps.",
      f"- Tracking slope β (family fixed effects): {stat(s['beta'])}.",
      f"- Link test: T = mean |p - c| = {g(link['T'], '.3f')} over {link['num_rows']} rows; "
      f"{p_value(link['p_value'], link['num_permutations'])} ({perms} permutations of the crossings within "
      f"family); bootstrap CI of T {interval(s['link_T']['ci'], spec='.3f')}.",
      f"- Range-only baseline (leave-one-out median peak of the family): MAE "
      f"{stat(s['mae_baseline'], '.3f')} against {stat(s['mae_crossing'], '.3f')} for the "
      f"row's own crossing, over {s['num_baseline']} rows; difference (baseline - crossing) "
      f"{stat(s['mae_difference'], '+.3f')}.",
      f"- Secondary: row-centred correlation of |curvature| with accuracy over "
      f"{secondary['num_cells']} cells: Pearson {g(secondary['pearson'], '+.2f')} "
      f"{interval(secondary['pearson_ci'])}, Spearman {g(secondary['spearman'], '+.2f')} "
      f"{interval(secondary['spearman_ci'])} (per-cell seed bootstrap, "
      f"{secondary['num_boot']} resamples).",
      f"- Verdict: {verdict_text(v)}. Conditions of the rule that hold: {held}.",
      "",
  ]

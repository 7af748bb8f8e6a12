"""The pre-registered test of ``experiments/central_claim/README.md``: does accuracy peak at the crossing?

Per row of a grid (one nonlinearity, depth or width) and in **grid steps**
(cell indices, least to most noise):

* the crossing ``c`` (:func:`crossing`): the first change of the seed-mean
  curvature from negative to non-negative, linearly interpolated;
  ``-inf`` when the first cell is already non-negative (left-censored),
  ``+inf`` when no cell is (right-censored);
* the peak ``p`` (:func:`peak`): the argmax of the seed-mean test accuracy,
  moved to the vertex of the parabola through it and its neighbours (at most
  half a step); at an end cell it stays there and is flagged censored.

A bootstrap over seeds draws seed indices once per grid and uses them in
every cell of that grid (the seeds are common random numbers of the grid);
``c``, ``p`` and every statistic (:func:`statistics`: the offset ``D̄``, the
tracking slope ``β``, the link statistic ``T``, the range-only baseline) are
recomputed on each resample, all resamples at once. :func:`link_test`
permutes crossings among a family's uncensored rows; :func:`verdict` is the
plan's decision rule. :func:`analyse` does all of it for several grids.

Inputs are plain ``[rows, cells, seeds]`` arrays (:class:`Grid`) or a
:class:`~featurespring.analysis.finished.FinishedSweep`
(:func:`grid_from_sweep`). Diverged nets are left out of their cell's mean
and counted; a cell without a valid net is NaN and neither a crossing nor a
peak can sit on it (see :func:`crossing`, :func:`peak`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from featurespring.analysis import phase
from featurespring.analysis import stats

# The plan's margin of equivalence, in grid steps.
MARGIN = 1.0
# Fewer uncensored rows than this make a verdict "inconclusive".
MIN_ROWS = 12
# Decision thresholds of the plan (experiments/central_claim/README.md, "Decision rule").
ALPHA = 0.05
REFUTE_BETA = 0.5
# The plan's resampling ("Measurements per row", "Statistics"): every reading
# that claims to be the pre-registered one uses these, whatever else it runs.
PLAN_NUM_BOOT = 2000
PLAN_BOOT_SEED = 0
PLAN_NUM_PERM = 10_000


@dataclasses.dataclass
class Grid:
  """One grid (family) as plain arrays, cells ordered from least to most noise.

  Attributes:
    curvature: ``[rows, cells, seeds]`` final train trace-separation curvature.
    accuracy: same shape, final test accuracy.
    diverged: same shape, bool; ``None``: no net diverged.
    rows: the row values (alpha, depth or width), one per row.
    cells: the noise knob's values in cell order.
    x, y: the names of the cell (noise) and row axes.
    name: the family's label (``s5``); it seeds the family's bootstrap.
    config: the sweep's config (plain dict), if there is one.
  """

  curvature: np.ndarray
  accuracy: np.ndarray
  diverged: np.ndarray | None = None
  rows: np.ndarray | None = None
  cells: np.ndarray | None = None
  x: str = "cell"
  y: str = "row"
  name: str = "grid"
  config: dict | None = None

  def __post_init__(self):
    self.curvature = np.asarray(self.curvature, np.float64)
    self.accuracy = np.asarray(self.accuracy, np.float64)
    if self.curvature.ndim != 3 or self.curvature.shape != self.accuracy.shape:
      raise ValueError(
          "curvature and accuracy need one shape [rows, cells, seeds], got "
          f"{self.curvature.shape} and {self.accuracy.shape}"
      )
    if self.diverged is None:
      self.diverged = np.zeros(self.curvature.shape, bool)
    self.diverged = np.asarray(self.diverged, bool)
    if self.diverged.shape != self.curvature.shape:
      raise ValueError(f"diverged needs shape {self.curvature.shape}, got {self.diverged.shape}")
    num_rows, num_cells, _ = self.curvature.shape
    self.rows = np.arange(num_rows) if self.rows is None else np.asarray(self.rows)
    self.cells = np.arange(num_cells) if self.cells is None else np.asarray(self.cells)

  @property
  def num_seeds(self) -> int:
    return self.curvature.shape[2]

  def masked(self, key):
    """``curvature`` or ``accuracy`` with diverged and non-finite nets NaN."""
    values = getattr(self, key)
    return np.where(self.diverged | ~np.isfinite(values), np.nan, values)


def grid_from_sweep(sweep, name=None, score="accuracy", higher_is_better=True) -> Grid:
  """A :class:`FinishedSweep`'s phase diagram as a :class:`Grid`.

  Rows by ascending raw ``y`` (``alpha`` 0 = ReLU first); cells by
  increasing noise: ascending values of the ``x`` knob, descending for a
  batch size (:data:`phase.NOISE_DIRECTION`). The grid's ``accuracy`` is the
  per-net ``score``, negated where lower is better (a regression's
  ``rmse``), so that its peak is the best cell.
  """
  direction = phase.NOISE_DIRECTION.get(sweep.x, 1.0)
  x_values = np.asarray(sweep.values(sweep.x))
  order = np.argsort(direction * x_values.astype(np.float64), kind="stable")
  by_value = sweep.row_order()
  take = lambda key: np.asarray(sweep.cells(key))[by_value][:, order]
  return Grid(
      curvature=take("curvature"),
      accuracy=take(score) if higher_is_better else -take(score),
      diverged=sweep.diverged(by_value=True)[:, order],
      rows=sweep.raw_y_values(by_value=True),
      cells=x_values[order],
      x=sweep.x,
      y=sweep.y,
      name=name or sweep.name,
      config=sweep.config,
  )


def as_grid(source, name=None) -> Grid:
  """A :class:`Grid` from a Grid, a FinishedSweep or ``(curvature, accuracy[, diverged])``."""
  if isinstance(source, Grid):
    if name is not None and name != source.name:
      return dataclasses.replace(source, name=name)
    return source
  if isinstance(source, (tuple, list)):
    return Grid(*source, name=name or "grid")
  return grid_from_sweep(source, name)


# --------------------------------------------------------------------------
# Positions along a row.


def _take(values, index):
  return np.take_along_axis(values, index[..., None], -1)[..., 0]


def _fill_gaps(values):
  """NaN cells filled linearly from their finite neighbours, held constant beyond the ends.

  A crossing between two finite cells with NaN cells between them is then the
  same as if the NaN cells were not there: the line through the neighbours is
  what the filled values lie on. Rows without a finite cell stay NaN.
  """
  finite = np.isfinite(values)
  num = values.shape[-1]
  pos = np.arange(num)
  prev = np.maximum.accumulate(np.where(finite, pos, -1), axis=-1)
  nxt = np.flip(np.minimum.accumulate(np.flip(np.where(finite, pos, num), -1), axis=-1), -1)
  lo = np.where(prev < 0, nxt, prev)
  hi = np.where(nxt >= num, prev, nxt)
  lo, hi = np.clip(lo, 0, num - 1), np.clip(hi, 0, num - 1)
  v_lo, v_hi = np.take_along_axis(values, lo, -1), np.take_along_axis(values, hi, -1)
  with stats.quiet():
    weight = np.where(hi > lo, (pos - lo) / np.where(hi > lo, hi - lo, 1), 0.0)
  return np.where(finite, values, v_lo + weight * (v_hi - v_lo))


def crossing(curvature_mean):
  """The first sign change from negative to non-negative along the last axis.

  Linear interpolation between the two cells: ``j + m_j / (m_j - m_{j+1})``
  for the first ``j`` with ``m_j < 0 <= m_{j+1}``. NaN cells (no valid net)
  are skipped: the interpolation runs between the finite cells around them.

  Args:
    curvature_mean: ``[..., cells]`` seed-mean curvature.

  Returns:
    ``[...]`` positions in grid steps: ``-inf`` where the first (finite) cell
    is already non-negative (left-censored), ``+inf`` where no cell is
    (right-censored), NaN where no cell is finite.
  """
  m = np.asarray(curvature_mean, np.float64)
  filled = _fill_gaps(m)
  nonneg = filled >= 0
  up = ~nonneg[..., :-1] & nonneg[..., 1:]
  j = np.argmax(up, -1)
  a, b = _take(filled, j), _take(filled, np.minimum(j + 1, m.shape[-1] - 1))
  with stats.quiet():
    c = j + a / (a - b)
  c = np.where(up.any(-1), c, np.inf)
  c = np.where(nonneg[..., 0], -np.inf, c)
  return np.where(np.isfinite(m).any(-1), c, np.nan)[()]


def peak(accuracy_mean, max_shift=0.5):
  """The argmax along the last axis, refined by the parabola through it and its neighbours.

  The vertex of the parabola through ``(k-1, a_{k-1}), (k, a_k), (k+1,
  a_{k+1})`` is ``k + (a_{k-1} - a_{k+1}) / (2 (a_{k-1} - 2 a_k + a_{k+1}))``,
  clipped to ``k ± max_shift`` (``k`` where the three are equal). At an end
  cell, or beside a NaN cell (no valid net: the accuracy on that side is
  unknown), the peak is ``k`` itself and censored.

  Args:
    accuracy_mean: ``[..., cells]`` seed-mean accuracy.
    max_shift: the clip, in grid steps.

  Returns:
    ``(p, censored)``: ``[...]`` positions (NaN where no cell is finite, and
    then censored) and bools.
  """
  a = np.asarray(accuracy_mean, np.float64)
  num = a.shape[-1]
  finite = np.isfinite(a)
  k = np.argmax(np.where(finite, a, -np.inf), -1)
  top = _take(a, k)
  left = _take(a, np.maximum(k - 1, 0))
  right = _take(a, np.minimum(k + 1, num - 1))
  censored = (k == 0) | (k == num - 1) | ~np.isfinite(left) | ~np.isfinite(right)
  curvature = left - 2.0 * top + right
  with stats.quiet():
    shift = np.where(curvature < 0, (left - right) / (2.0 * curvature), 0.0)
  shift = np.where(censored, 0.0, np.clip(shift, -max_shift, max_shift))
  p = np.where(finite.any(-1), k + shift, np.nan)
  return p[()], (censored | ~finite.any(-1))[()]


# --------------------------------------------------------------------------
# Cell means and the shared-seed bootstrap.


def draw_seeds(rng, num_seeds, num_boot):
  """``[num_boot, num_seeds]`` seed indices: one draw per resample, for every cell of a grid."""
  return rng.integers(0, num_seeds, size=(num_boot, num_seeds))


def seed_weights(index, num_seeds):
  """How often each seed is drawn: ``[..., num_seeds]`` counts of ``index [..., draws]``."""
  index = np.asarray(index)
  flat = index.reshape(-1, index.shape[-1])
  counts = np.zeros((flat.shape[0], num_seeds))
  np.add.at(counts, (np.arange(flat.shape[0])[:, None], flat), 1.0)
  return counts.reshape(index.shape[:-1] + (num_seeds,))


def cell_means(values, weights=None):
  """Weighted seed means ``[..., rows, cells]`` of ``values [rows, cells, seeds]`` (NaN: invalid).

  ``weights [..., seeds]``: how often each seed counts (a resample's
  :func:`seed_weights`); ``None``: once each. A cell whose drawn seeds are
  all invalid is NaN.
  """
  values = np.asarray(values, np.float64)
  if weights is None:
    weights = np.ones(values.shape[-1])
  valid = np.isfinite(values)
  num = np.einsum("rcs,...s->...rc", np.where(valid, values, 0.0), weights)
  den = np.einsum("rcs,...s->...rc", valid.astype(np.float64), weights)
  with stats.quiet():
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def row_positions(grid, weights=None):
  """``c``, ``p`` and the peak's censoring of every row, ``[..., rows]``."""
  grid = as_grid(grid)
  c = crossing(cell_means(grid.masked("curvature"), weights))
  p, p_censored = peak(cell_means(grid.masked("accuracy"), weights))
  return {"c": c, "p": p, "p_censored": p_censored}


def uncensored(c, p, p_censored):
  """Rows that enter the statistics: crossing and peak both inside the row."""
  return np.isfinite(c) & np.isfinite(p) & ~np.asarray(p_censored, bool)


# --------------------------------------------------------------------------
# Statistics over rows (vectorised over leading resample axes).


def _masked_mean(values, mask):
  count = mask.sum(-1)
  with stats.quiet():
    return np.where(count > 0, np.where(mask, values, 0.0).sum(-1) / np.maximum(count, 1), np.nan)


def _centre_within(values, mask, onehot):
  """``values`` minus their family's mean over ``mask``ed rows; 0 off the mask."""
  sums = np.where(mask, values, 0.0) @ onehot
  counts = mask.astype(np.float64) @ onehot
  with stats.quiet():
    means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
  return np.where(mask, values - means @ onehot.T, 0.0)


def _family_codes(family, num_rows):
  if family is None:
    return np.zeros(num_rows, int)
  _, codes = np.unique(np.asarray(family), return_inverse=True)
  return codes.reshape(-1)


def leave_one_out_median(p, mask, family):
  """Each row's prediction: the median ``p`` of the other ``mask``ed rows of its family.

  ``[..., rows]``; NaN where there is no other such row.
  """
  codes = _family_codes(family, p.shape[-1])
  others = (codes[:, None] == codes[None, :]) & ~np.eye(codes.size, dtype=bool)
  pool = np.where(others & mask[..., None, :], p[..., None, :], np.nan)
  with stats.quiet():
    return np.nanmedian(pool, -1)


def statistics(c, p, p_censored, family=None):
  """The plan's statistics 1, 2, 4 and the link statistic ``T`` over rows.

  Args:
    c, p, p_censored: ``[..., rows]`` (:func:`row_positions`; leading axes
      are resamples).
    family: ``[rows]`` labels; ``β`` is fitted with one intercept per family
      and the baseline predicts from the row's own family.

  Returns:
    ``[...]`` arrays: ``num_uncensored``; ``mean_offset`` (``D̄``, mean of
    ``p - c``); ``beta`` (slope of ``p`` on ``c``, both centred within
    family, over uncensored rows; NaN without spread in ``c``); ``link_T``
    (mean ``|p - c|``); ``mae_baseline`` (mean ``|p - median of the
    family's other p|``), ``mae_crossing`` (mean ``|p - c|`` over the same
    rows) and ``mae_difference`` (baseline minus crossing: positive when the
    crossing predicts better); ``num_baseline`` (rows with a baseline).
  """
  c, p = np.asarray(c, np.float64), np.asarray(p, np.float64)
  mask = uncensored(c, p, p_censored)
  codes = _family_codes(family, c.shape[-1])
  onehot = np.eye(codes.max() + 1)[codes]
  offset = np.where(mask, p - c, 0.0)
  cc = _centre_within(c, mask, onehot)
  pc = _centre_within(p, mask, onehot)
  sxx, sxy = (cc * cc).sum(-1), (cc * pc).sum(-1)
  with stats.quiet():
    beta = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), np.nan)
  predicted = leave_one_out_median(p, mask, codes)
  with_baseline = mask & np.isfinite(predicted)
  mae_baseline = _masked_mean(np.abs(p - np.where(with_baseline, predicted, 0.0)), with_baseline)
  mae_crossing = _masked_mean(np.abs(offset), with_baseline)
  return {
      "num_uncensored": mask.sum(-1),
      "mean_offset": _masked_mean(offset, mask),
      "beta": beta,
      "link_T": _masked_mean(np.abs(offset), mask),
      "mae_baseline": mae_baseline,
      "mae_crossing": mae_crossing,
      "mae_difference": mae_baseline - mae_crossing,
      "num_baseline": with_baseline.sum(-1),
  }


def link_test(c, p, p_censored, family=None, rng=None, num_perm=10_000):
  """``T = mean |p - c|`` against crossings permuted within family among uncensored rows.

  Every joint permutation (the product of each family's) when there are at
  most ``num_perm``, else ``num_perm`` random ones (each family permuted
  independently, from ``rng``); peaks stay where they are.

  Returns:
    ``T``, ``p_value`` (fraction of permutations with ``T_perm <= T``; the
    identity is one of them when all are enumerated), ``num_permutations``,
    ``exhaustive`` and ``num_rows``.
  """
  c, p = np.asarray(c, np.float64), np.asarray(p, np.float64)
  mask = uncensored(c, p, p_censored)
  codes = _family_codes(family, c.size)[mask]
  c, p = c[mask], p[mask]
  groups = [np.flatnonzero(codes == k) for k in np.unique(codes)]
  total = math.prod(math.factorial(g.size) for g in groups)
  exhaustive = total <= num_perm
  if exhaustive:
    per_family = [
        [g[list(order)] for order in itertools.permutations(range(g.size))] for g in groups
    ]
    perms = np.empty((total, c.size), int)
    for i, choice in enumerate(itertools.product(*per_family)):
      for g, permuted in zip(groups, choice):
        perms[i, g] = permuted
  else:
    if rng is None:
      raise ValueError(f"{total} permutations: more than num_perm={num_perm} need an rng")
    perms = np.empty((num_perm, c.size), int)
    for g in groups:
      perms[:, g] = g[np.argsort(rng.random((num_perm, g.size)), axis=-1)]
  t = float(np.mean(np.abs(p - c))) if c.size else math.nan
  t_perm = np.abs(p[None, :] - c[perms]).mean(-1) if c.size else np.full(len(perms), np.nan)
  # A permutation that only swaps equal crossings sums the same terms in
  # another order; a relative 1e-12 keeps that rounding from deciding "<=".
  below = t_perm <= t + 1e-12 * max(abs(t), 1.0)
  return {
      "T": t,
      "p_value": float(np.mean(below)) if c.size else math.nan,
      "num_permutations": int(len(perms)),
      "exhaustive": bool(exhaustive),
      "num_rows": int(c.size),
  }


def verdict(offset_ci, beta_ci, link_p, num_uncensored):
  """The plan's decision rule, read in its order (the first that applies).

  * ``supported``: the ``D̄`` CI inside ``[-1, +1]``, the ``β`` CI above 0
    and the link test's ``p < 0.05``;
  * ``refuted``: the ``D̄`` CI entirely outside ``[-1, +1]``, or the ``β`` CI
    below 0.5 together with ``p >= 0.05``;
  * ``inconclusive``: the ``D̄`` CI wider than 2 steps, or fewer than
    :data:`MIN_ROWS` uncensored rows;
  * ``mixed`` otherwise.

  NaN bounds (too few rows for a statistic) fail every condition on them.

  Returns:
    ``verdict``, ``conditions`` (each named condition's truth) and
    ``failed`` (for ``mixed`` and ``inconclusive``: the conditions of
    support that do not hold).
  """
  d_lo, d_hi = (float(v) for v in offset_ci)
  b_lo, b_hi = (float(v) for v in beta_ci)
  link_p = float(link_p)
  cond = {
      "offset_ci_inside_margin": bool(-MARGIN <= d_lo and d_hi <= MARGIN),
      "beta_ci_above_0": bool(b_lo > 0.0),
      "link_p_below_0.05": bool(link_p < ALPHA),
      "offset_ci_outside_margin": bool(d_hi < -MARGIN or d_lo > MARGIN),
      "beta_ci_below_0.5": bool(b_hi < REFUTE_BETA),
      "link_p_at_least_0.05": bool(link_p >= ALPHA),
      "offset_ci_wider_than_2": bool(not d_hi - d_lo <= 2 * MARGIN),
      f"fewer_than_{MIN_ROWS}_rows": bool(num_uncensored < MIN_ROWS),
  }
  support = ("offset_ci_inside_margin", "beta_ci_above_0", "link_p_below_0.05")
  if all(cond[k] for k in support):
    out = "supported"
  elif cond["offset_ci_outside_margin"] or (
      cond["beta_ci_below_0.5"] and cond["link_p_at_least_0.05"]
  ):
    out = "refuted"
  elif cond["offset_ci_wider_than_2"] or cond[f"fewer_than_{MIN_ROWS}_rows"]:
    out = "inconclusive"
  else:
    out = "mixed"
  failed = [k for k in support if not cond[k]] if out in ("mixed", "inconclusive") else []
  return {"verdict": out, "conditions": cond, "failed": failed}


# --------------------------------------------------------------------------
# Everything, for several grids.


def percentile_ci(values, ci=0.95, axis=0):
  """The percentile interval over ``axis``; NaN resamples left out; ``[nan, nan]`` if all are.

  Infinite values (censored positions) order as they should: an interval
  that reaches into them has an infinite bound.
  """
  values = np.asarray(values, np.float64)
  tail = 100.0 * (1.0 - ci) / 2.0
  # inf - inf would make a bound interpolated next to a censored value NaN.
  # A finite stand-in of 1e300 keeps such a bound above 1e290 (its weight in
  # the interpolation is a multiple of the tail, 0.025, or 0), and the bound
  # becomes inf again.
  clipped = np.clip(values, -1e300, 1e300)
  with stats.quiet():
    bounds = np.nanpercentile(clipped, [tail, 100.0 - tail], axis=axis)
    return np.where(np.abs(bounds) >= 1e290, np.sign(bounds) * np.inf, bounds)


def _summary(point, boots, ci):
  lo, hi = percentile_ci(boots, ci)
  valid = int(np.isfinite(np.asarray(boots, np.float64)).sum())
  return {"value": float(point), "ci": [float(lo), float(hi)], "num_valid_boot": valid}


def _statistics_entry(point, boots, link, ci):
  out = {"num_uncensored": int(point["num_uncensored"]), "num_baseline": int(point["num_baseline"])}
  for key in ("mean_offset", "beta", "link_T", "mae_baseline", "mae_crossing", "mae_difference"):
    out[key] = _summary(point[key], boots[key], ci)
  out["link"] = link
  out["verdict"] = verdict(
      out["mean_offset"]["ci"], out["beta"]["ci"], link["p_value"], out["num_uncensored"]
  )
  return out


def _family_rows(grid, point, boots, ci):
  rows = []
  diverged = grid.diverged.sum(-1)
  for r in range(len(grid.rows)):
    c, p, cens = point["c"][r], point["p"][r], bool(point["p_censored"][r])
    c_boot, p_boot = boots["c"][:, r], boots["p"][:, r]
    ok_boot = uncensored(c_boot, p_boot, boots["p_censored"][:, r])
    rows.append(
        {
            "row": grid.rows[r].item() if hasattr(grid.rows[r], "item") else grid.rows[r],
            "c": float(c),
            "c_censored": "left" if c == -np.inf else "right" if c == np.inf else None,
            "c_ci": [float(v) for v in percentile_ci(c_boot, ci)],
            "p": float(p),
            "p_censored": cens,
            "p_ci": [float(v) for v in percentile_ci(p_boot, ci)],
            "offset": float(p - c) if uncensored(c, p, cens) else math.nan,
            "offset_ci": [
                float(v) for v in percentile_ci(np.where(ok_boot, p_boot - c_boot, np.nan), ci)
            ],
            "uncensored": bool(uncensored(c, p, cens)),
            "fraction_boot_uncensored": float(ok_boot.mean()),
            "diverged": int(diverged[r].sum()),
            "diverged_per_cell": diverged[r],
        }
    )
  return rows


def analyse(
    sources,
    num_boot=PLAN_NUM_BOOT,
    boot_seed=PLAN_BOOT_SEED,
    num_perm=PLAN_NUM_PERM,
    ci=0.95,
    secondary_boot=None,
    draw_groups=None,
):
  """The whole pre-registered analysis of ``experiments/central_claim/README.md`` over several grids.

  Args:
    sources: ``{family: Grid | FinishedSweep | (curvature, accuracy[, diverged])}``.
    num_boot: bootstrap resamples (seed indices drawn once per grid each).
    boot_seed: seeds every generator, with a label per use
      (:func:`stats.bootstrap_rng`: ``central/boot/<family>``,
      ``central/perm/<family or pooled>``, ``central/secondary/...``).
    num_perm: the most permutations enumerated; beyond, this many random ones.
    ci: coverage of the percentile intervals.
    secondary_boot: resamples of the secondary correlation (``num_boot`` if None).
    draw_groups: ``{family: group}``; the families of one group share one seed
      draw per resample (labelled ``central/boot/<group>``, so a group named
      after one of its families takes that family's own draw), for families
      whose seeds index the same nets in some cells. ``None`` (the plan's
      analysis): every family draws its own.

  Returns:
    ``families``: per family its ``grid`` (the :class:`Grid`), ``rows``
    (``c``, ``p``, censoring, CIs, offsets, diverged counts), ``curves``
    (seed mean / std of accuracy and curvature per cell), ``statistics``
    (as ``pooled``, this family alone: the secondary verdict) and
    ``secondary``; ``pooled``: ``statistics`` over all uncensored rows of all
    families (``D̄``, ``β``, ``T``, baseline; each ``{value, ci}``), the
    ``link`` test and ``verdict``, and the ``secondary`` correlation;
    ``settings``.
  """
  grids = {name: as_grid(source, name) for name, source in sources.items()}
  secondary_boot = num_boot if secondary_boot is None else secondary_boot
  draw_groups = dict(draw_groups or {})
  unknown = sorted(set(draw_groups) - set(grids))
  if unknown:
    raise ValueError(f"draw_groups names families that are not analysed: {unknown}")
  draws = {}
  for name, grid in grids.items():
    key = draw_groups.get(name, name)
    if key in draws and draws[key].shape[-1] != grid.num_seeds:
      raise ValueError(
          f"draw_groups: {name} has {grid.num_seeds} seeds, its group {key!r} "
          f"{draws[key].shape[-1]}; a shared draw needs the same number"
      )
    if key not in draws:
      rng = stats.bootstrap_rng(boot_seed, f"central/boot/{key}")
      draws[key] = draw_seeds(rng, grid.num_seeds, num_boot)
  families, points, boots, labels = {}, [], [], []
  for name, grid in grids.items():
    weights = seed_weights(draws[draw_groups.get(name, name)], grid.num_seeds)
    point, boot = row_positions(grid), row_positions(grid, weights)
    family_point = statistics(point["c"], point["p"], point["p_censored"])
    family_boot = statistics(boot["c"], boot["p"], boot["p_censored"])
    link = link_test(
        point["c"],
        point["p"],
        point["p_censored"],
        rng=stats.bootstrap_rng(boot_seed, f"central/perm/{name}"),
        num_perm=num_perm,
    )
    curvature, accuracy = grid.masked("curvature"), grid.masked("accuracy")
    curves = {}
    for key, values in (("curvature", curvature), ("accuracy", accuracy)):
      mean, std, n = stats.cell_stats(values)
      curves[key] = {"mean": mean, "std": std, "n": n}
    families[name] = {
        "grid": grid,
        "rows": _family_rows(grid, point, boot, ci),
        "curves": curves,
        "diverged": {"total": int(grid.diverged.sum()), "num_nets": int(grid.diverged.size)},
        "statistics": _statistics_entry(family_point, family_boot, link, ci),
        "secondary": _secondary(
            {name: grid}, boot_seed, f"central/secondary/{name}", secondary_boot
        ),
    }
    points.append(point)
    boots.append(boot)
    labels.append(np.full(len(grid.rows), len(labels)))
  out = {
      "families": families,
      "settings": {
          "num_boot": int(num_boot),
          "boot_seed": int(boot_seed),
          "num_perm": int(num_perm),
          "ci": ci,
          "secondary_boot": int(secondary_boot),
      },
  }
  if not grids:
    out["pooled"] = None
    return out
  family = np.concatenate(labels)
  joined = lambda parts, key: np.concatenate([part[key] for part in parts], -1)
  point = {k: joined(points, k) for k in ("c", "p", "p_censored")}
  boot = {k: joined(boots, k) for k in ("c", "p", "p_censored")}
  link = link_test(
      point["c"],
      point["p"],
      point["p_censored"],
      family,
      stats.bootstrap_rng(boot_seed, "central/perm/pooled"),
      num_perm,
  )
  out["pooled"] = {
      "families": list(grids),
      "statistics": _statistics_entry(
          statistics(point["c"], point["p"], point["p_censored"], family),
          statistics(boot["c"], boot["p"], boot["p_censored"], family),
          link,
          ci,
      ),
      "secondary": _secondary(grids, boot_seed, "central/secondary/pooled", secondary_boot),
  }
  return out


def _secondary(grids, boot_seed, label, num_boot):
  """Statistic 5: |curvature| against accuracy over cells, centred within each row.

  :func:`stats.curvature_accuracy_correlation` with its per-cell seed
  bootstrap, as ``experiments/reproduction/README.md`` computes it; grids with fewer seeds
  are padded with NaN.
  """
  num_seeds = max(g.num_seeds for g in grids.values())
  pad = lambda a: np.pad(a, [(0, 0), (0, 0), (0, num_seeds - a.shape[-1])], constant_values=np.nan)
  curvature, accuracy, groups = [], [], []
  for k, grid in enumerate(grids.values()):
    curvature.append(pad(grid.masked("curvature")).reshape(-1, num_seeds))
    accuracy.append(pad(grid.masked("accuracy")).reshape(-1, num_seeds))
    num_rows, num_cells, _ = grid.curvature.shape
    groups.append(np.repeat(k * 10_000 + np.arange(num_rows), num_cells))
  return stats.curvature_accuracy_correlation(
      np.concatenate(curvature),
      np.concatenate(accuracy),
      stats.bootstrap_rng(boot_seed, label),
      num_boot,
      groups=np.concatenate(groups),
  )


def jsonable(value):
  """Plain JSON types: NaN is ``None``, a censored ``±inf`` the string ``"inf"`` / ``"-inf"``.

  A :class:`Grid` (the arrays :func:`analyse` kept) is left out.
  """
  if isinstance(value, dict):
    return {str(k): jsonable(v) for k, v in value.items() if not isinstance(v, Grid)}
  if isinstance(value, (list, tuple)):
    return [jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return jsonable(value.tolist())
  if isinstance(value, (bool, np.bool_)):
    return bool(value)
  if isinstance(value, (int, np.integer)):
    return int(value)
  if isinstance(value, (float, np.floating)):
    if math.isnan(value):
      return None
    return float(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
  if isinstance(value, np.str_):
    return str(value)
  return value

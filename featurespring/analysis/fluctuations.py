"""Fluctuations of a chain's load curve once it has settled.

With independent noise each block moves on its own; with synchronous noise
(one draw shared by all blocks) they move together. The final load curves
agree; these statistics tell the two apart, and
:func:`independent_vs_synchronous` puts them beside the final curves of a
merged sweep over ``synchronous``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from featurespring import metrics
from featurespring.analysis import finished
from featurespring.analysis import stats


def stationary_half(trajectory):
  """The snapshots of the run's second half, ``[..., T - T // 2, layers]``.

  A chain run long enough settles within the first half of its run; what
  moves in the second is fluctuation about the final state.
  """
  trajectory = np.asarray(trajectory, np.float64)
  return trajectory[..., trajectory.shape[-2] // 2 :, :]


def increment_correlation(trajectory):
  """Mean correlation across blocks of the load curves' increments, per run.

  The increments ``d_l(t') - d_l(t)`` of blocks ``l = 1..L`` between
  consecutive snapshots of :func:`stationary_half`, correlated over time for
  every pair of blocks, averaged over the pairs. Shared kicks (synchronous
  noise) move the sliding blocks together, so it is near 1; independent
  kicks correlate blocks only through the springs, so it is near 0.

  Args:
    trajectory: ``[..., T, L + 1]`` load curves over time.

  Returns:
    ``[...]``; NaN for a run with a block that did not move, a non-finite
    snapshot, or fewer than two blocks.
  """
  steps = np.diff(stationary_half(trajectory)[..., 1:], axis=-2)  # [..., T', L]
  num_blocks = steps.shape[-1]
  if num_blocks < 2:
    return np.full(steps.shape[:-2], np.nan)
  centred = steps - steps.mean(axis=-2, keepdims=True)
  cov = np.einsum("...tl,...tm->...lm", centred, centred)
  scale = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
  with np.errstate(divide="ignore", invalid="ignore"):
    corr = cov / (scale[..., :, None] * scale[..., None, :])
  return corr[..., ~np.eye(num_blocks, dtype=bool)].mean(axis=-1)


def chain_setting(sweep: finished.FinishedSweep, name):
  """Chain setting ``name`` (``springs`` config field) of the sweep: its first value
  if it is a grid axis (a held axis, or a one-value row),
  else the config's."""
  return sweep.values(name)[0] if name in sweep.names else sweep.config["springs"][name]


def _theory_curvature(sweep: finished.FinishedSweep) -> float:
  """Curvature of the effective-friction theory's equilibrium curve for the sweep's chain."""
  from featurespring import springs  # pylint: disable=g-import-not-at-top

  c = sweep.config["springs"]
  mu = float(chain_setting(sweep, "mu"))
  mu_left = chain_setting(sweep, "mu_left")
  # The engine's rule (springs_engine): an unset mu_left is mu_ratio * mu.
  mu_left = float(chain_setting(sweep, "mu_ratio")) * mu if mu_left is None else float(mu_left)
  # Gaussian noise is unbounded: its theory is the finite-horizon one of the run.
  horizon = int(c["num_steps"]) if c["noise_dist"] == "gaussian" else None
  mu_eff = springs.effective_friction(
      mu,
      mu_left,
      float(chain_setting(sweep, "noise")),
      c["dt"],
      c["noise_dist"],
      c["noise_cut"],
      horizon=horizon,
  )
  curve = springs.equilibrium_load_curve(
      int(c["num_blocks"]), chain_setting(sweep, "target"), chain_setting(sweep, "k"), mu_eff
  )
  return float(np.asarray(metrics.curvature(curve)))


def independent_vs_synchronous(sweep: finished.FinishedSweep) -> dict:
  """Independent against synchronous noise in a merged sweep (one chain, two modes).

  Per noise mode (independent first): the final curvature and load curve
  over seeds, and the seed mean of :func:`increment_correlation` of the
  recorded trajectory. Diverged chains are left out of every statistic.
  The final curves should agree to within their seed spread, the
  correlations should not.

  Args:
    sweep: a springs sweep with a ``synchronous`` axis and a recorded
      ``trajectory`` (``config.springs.record_every > 0``); any other axes
      are held at their first value.

  Returns:
    ``modes`` (per mode: ``synchronous``, ``num_seeds`` (valid),
    ``final_curvature`` and ``_std``, ``final_sign``, ``load_curve`` and
    ``load_curve_std`` ``[L + 1]``, ``increment_correlation`` and ``_std``),
    ``final_curve_max_abs_difference`` (synchronous - independent seed-mean
    curves, largest over layers), ``final_curve_max_seed_std`` (largest seed
    std of a final curve entry, both modes), ``theory_curvature`` (the
    effective-friction theory's equilibrium curve at the chain's friction and
    noise), ``num_steps`` and ``noise``.

  Raises:
    ValueError: not a springs sweep over ``synchronous``, or no trajectory.
  """
  if sweep.engine != "springs" or "synchronous" not in sweep.names:
    raise ValueError(f"{sweep.name or 'the sweep'} is not a springs sweep over `synchronous`")
  if "history/load_curve" not in sweep.arrays:
    raise ValueError(
        f"{sweep.name or 'the sweep'} recorded no trajectory (config.springs.record_every = 0)"
    )
  if sweep.x != "synchronous":  # the modes are the columns, whatever config.plot draws
    sweep = dataclasses.replace(
        sweep, x="synchronous", y=sweep.y if sweep.y != "synchronous" else sweep.x
    )
  curves = sweep.finite_cells("load_curve")[0]  # [mode, seed, L + 1]
  curvature = sweep.finite_cells("curvature")[0]  # [mode, seed]
  correlation = increment_correlation(sweep.finite_cells("history/load_curve")[0])  # [mode, seed]
  modes = []
  for m in np.argsort(sweep.values("synchronous"), kind="stable"):  # False (independent) first
    mean, std, n = stats.cell_stats(curvature[m])
    curve_mean, curve_std, _ = stats.cell_stats(curves[m].T)
    corr_mean, corr_std, _ = stats.cell_stats(correlation[m])
    modes.append(
        {
            "synchronous": bool(sweep.values("synchronous")[m]),
            "num_seeds": int(n),
            "final_curvature": float(mean),
            "final_curvature_std": float(std),
            "final_sign": str(stats.sign_pattern(mean, std, n)),
            "load_curve": curve_mean,
            "load_curve_std": curve_std,
            "increment_correlation": float(corr_mean),
            "increment_correlation_std": float(corr_std),
        }
    )
  with stats.quiet():
    difference = float(np.nanmax(np.abs(modes[-1]["load_curve"] - modes[0]["load_curve"])))
    spread = float(np.nanmax([m["load_curve_std"] for m in modes]))
  return {
      "modes": modes,
      "final_curve_max_abs_difference": difference,
      "final_curve_max_seed_std": spread,
      "theory_curvature": _theory_curvature(sweep),
      "num_steps": int(sweep.config["springs"]["num_steps"]),
      "noise": float(chain_setting(sweep, "noise")),
  }

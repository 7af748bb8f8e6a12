"""Spring-block chain phase diagrams over friction and noise, beside the theory.

Reads merged springs sweeps over friction (``mu``, rows) x noise (columns),
of any of the three dynamics. Per friction row: the curvature
signs over noise, whether the curvature rises with the noise, the measured
zero crossings and, for the first-order chain, the effective-friction
theory's critical noise (:func:`critical_noise`, the line that
``featurespring.analysis.figures`` draws on the phase diagram).
"""

from __future__ import annotations

import os

import numpy as np

from featurespring.analysis import crossings
from featurespring.analysis import finished
from featurespring.analysis import stats
from featurespring.sweep import merging
from featurespring.sweep import results


def theory_applies(sweep: finished.FinishedSweep) -> bool:
  """Whether the effective-friction theory describes the sweep's chains.

  It is derived for first-order chains: inertia moves the second-order
  chain's zero-curvature line to larger noise, and the Langevin chain's
  noise enters the velocity.
  """
  return sweep.engine == "springs" and sweep.config["springs"]["dynamics"] == "first_order"


def critical_noise(sweep: finished.FinishedSweep, mu):
  """The theory's zero-curvature noise ``eps*`` at frictions ``mu``, in the sweep's chain.

  A swept ``mu_ratio`` is taken at its first value, as the phase diagram
  shows it (:meth:`FinishedSweep.cells`).
  """
  from featurespring import springs  # pylint: disable=g-import-not-at-top

  c = sweep.config["springs"]
  mu_ratio = sweep.values("mu_ratio")[0] if "mu_ratio" in sweep.names else c["mu_ratio"]
  # Gaussian noise is unbounded: its line is the finite-horizon one of the run.
  return springs.critical_noise(
      mu,
      c["dt"],
      c["noise_dist"],
      c["noise_cut"],
      horizon=int(c["num_steps"]),
      mu_left=mu_ratio * np.asarray(mu, np.float64),
  )


def _analyse(sweep: finished.FinishedSweep, workdir: str) -> dict:
  """The numbers of one chain phase diagram (see :func:`analyse_chain_phases`)."""
  mu = np.asarray(sweep.y_values(), np.float64)
  noise = np.asarray(sweep.axis("noise"), np.float64)
  mean, std, n = stats.cell_stats(sweep.finite_cells("curvature"))  # [mu, noise]
  wall, _ = merging.total_wall_time(
      results.read_json(os.path.join(workdir, merging.RESULT_STEM + ".json"))
  )
  entry = {
      "status": "ok",
      "workdir": workdir,
      "mu": mu,
      "noise": noise,
      "num_seeds": sweep.num_seeds,
      "curvature_mean": mean,
      "curvature_std": std,
      "sign": ["".join(r) for r in stats.sign_pattern(mean, std, n)],
      "runtime": {
          "chains": int(sweep.arrays["curvature"].size),
          "num_steps": int(sweep.config["springs"]["num_steps"]),
          "seconds": round(float(wall), 2),
      },
  }
  rows = []
  for i, m in enumerate(mu):
    rows.append(
        {
            "mu": m,
            "spearman_curvature_vs_noise": float(stats.spearman(noise, mean[i]))
            if np.isfinite(mean[i]).all()
            else None,
            "crossings_noise": [
                crossings.x_at(c, noise) for c in crossings.zero_crossings(mean[i])
            ],
        }
    )
  if theory_applies(sweep):
    for row, eps in zip(rows, np.atleast_1d(critical_noise(sweep, mu))):
      row["theory_critical_noise"] = float(eps)
  entry["rows"] = rows
  rhos = np.array(
      [
          r["spearman_curvature_vs_noise"]
          for r in rows
          if r["spearman_curvature_vs_noise"] is not None
      ],
      np.float64,
  )
  entry["fraction_rows_increasing"] = (
      float(np.mean(rhos >= stats.MONOTONE_RHO)) if rhos.size else None
  )
  return entry


def analyse_chain_phases(workdirs) -> dict:
  """Per dynamics, the phase diagram among the merged springs sweeps ``workdirs``.

  Args:
    workdirs: sweep workdirs over ``mu`` x ``noise`` (``runs/fig3``,
      ``runs/s13``, ``runs/s14``); those without a merged result are skipped.

  Returns:
    ``{dynamics: numbers}`` for every ``springs.DYNAMICS`` (``status:
    missing`` where no workdir holds it): ``workdir``, ``mu``, ``noise``,
    ``num_seeds``, the mean and std curvature ``[mu, noise]`` over the
    seeds (diverged chains left out), sign strings per row, ``runtime``
    (chains, steps, the sweep's wall seconds), and ``rows`` (Spearman of
    curvature against noise, crossings in noise units, the theory's
    critical noise for first-order chains) with the fraction of rows
    increasing.

  Raises:
    ValueError: a workdir is not a springs sweep over ``mu`` and ``noise``,
      or two hold the same dynamics.
  """
  from featurespring import springs  # pylint: disable=g-import-not-at-top

  out = {}
  for workdir in workdirs:
    if not results.exists(os.path.join(workdir, merging.RESULT_STEM)):
      continue
    sweep = finished.FinishedSweep.load(workdir, x="noise", y="mu")
    if sweep.engine != "springs":
      raise ValueError(f"{workdir} holds a {sweep.engine!r} sweep, not chains")
    dynamics = sweep.config["springs"]["dynamics"]
    if dynamics in out:
      raise ValueError(f"{out[dynamics]['workdir']} and {workdir} both hold {dynamics} chains")
    out[dynamics] = _analyse(sweep, workdir)
  return {d: out.get(d, {"status": "missing"}) for d in springs.DYNAMICS}


def mode_frequencies(num_blocks, k):
  """Angular frequencies of the chain's normal modes (unit masses, both ends fixed).

  ``2 sqrt(k) sin(j pi / (2 (L + 1)))``, ``j = 1..L``: a second-order chain
  with damping ``gamma`` rings in every mode above ``gamma / 2``.
  """
  j = np.arange(1, num_blocks + 1)
  return 2.0 * np.sqrt(k) * np.sin(j * np.pi / (2 * (num_blocks + 1)))


def damping_comparison(reference_workdir, damped_workdir) -> dict:
  """Does a second-order phase diagram depend on its damping?

  Compares two merged second-order sweeps over the same ``mu`` x ``noise``
  grid that differ in ``gamma`` (e.g. the paper's 1, which leaves modes
  ringing, and one that overdamps every mode). Per friction row: the first
  zero crossing of the seed-mean curvature in each, as a fractional column,
  and its shift in grid steps; over the grid, the fraction of cells whose
  sign (:func:`stats.sign_pattern`) agrees.

  Returns:
    ``gamma`` and ``ringing_modes`` (modes above ``gamma / 2``) per sweep,
    ``rows`` (``mu``, both crossings, ``shift_steps``; None where a row
    does not cross), ``max_abs_shift_steps``, ``sign_agreement`` and
    ``num_cells``.

  Raises:
    ValueError: a sweep is not second-order, or the grids differ.
  """
  sweeps = [
      finished.FinishedSweep.load(w, x="noise", y="mu") for w in (reference_workdir, damped_workdir)
  ]
  for workdir, sweep in zip((reference_workdir, damped_workdir), sweeps):
    if sweep.engine != "springs" or sweep.config["springs"]["dynamics"] != "second_order":
      raise ValueError(f"{workdir} does not hold second-order chains")
  a, b = sweeps
  for name in ("mu", "noise"):
    if not np.array_equal(a.values(name), b.values(name)):
      raise ValueError(f"the two sweeps' {name} axes differ")
  out = {"gamma": [], "ringing_modes": []}
  signs, firsts = [], []
  for sweep in sweeps:
    c = sweep.config["springs"]
    out["gamma"].append(float(c["gamma"]))
    out["ringing_modes"].append(
        int((mode_frequencies(c["num_blocks"], c["k"]) > c["gamma"] / 2).sum())
    )
    mean, std, n = stats.cell_stats(sweep.finite_cells("curvature"))
    signs.append(stats.sign_pattern(mean, std, n))
    firsts.append([next(iter(crossings.zero_crossings(row)), None) for row in mean])
  rows = []
  for m, ref, damped in zip(a.y_values(), *firsts):
    shift = None if ref is None or damped is None else damped - ref
    rows.append({"mu": float(m), "crossing": [ref, damped], "shift_steps": shift})
  shifts = [abs(r["shift_steps"]) for r in rows if r["shift_steps"] is not None]
  out.update(
      rows=rows,
      max_abs_shift_steps=max(shifts) if shifts else None,
      sign_agreement=float(np.mean(signs[0] == signs[1])),
      num_cells=int(signs[0].size),
  )
  return out

r"""Spring-block phase diagrams (paper Fig. 3, S13, S14) and chain dynamics (Fig. 4).

For each dynamics, one jitted simulation of the whole grid
friction (y axis; ``mu_left = mu_ratio * mu_right``) x noise (x axis) x seeds,
with the grids and constants of ``experiments/fig3_springs.py``,
``s13_springs_second_order.py`` and ``s14_springs_langevin.py``, then:

* ``<dynamics>_phase.{png,pdf}``: mean final curvature, diverging colours
  centred on zero, with the theory's zero-curvature line
  ``eps* = mu_r sqrt(dt) / b`` (exact for the first-order chain with bounded
  noise; drawn for reference on the second-order panel, whose inertia moves
  the line to larger noise; absent for Langevin, whose noise enters the
  velocity);
* ``<dynamics>_corners.{png,pdf}``: load curves of the lazy (no noise),
  linear (the cell nearest zero curvature) and active (most noise) cells at
  the largest friction, mean +- seed std, with the first-order theory dashed;
* ``<dynamics>_dynamics.{png,pdf}``: load curves over time for three settings
  with synchronous noise (paper Fig. 4, right column) and their curvature.

Run (about a minute on a 2-core CPU; ``--quick`` for a smoke test):

  python experiments/springs_phase_diagram.py --outdir=results/springs
"""

from __future__ import annotations

import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from featurespring import metrics
from featurespring import plotting
from featurespring import springs
from featurespring import sweep

_OUTDIR = flags.DEFINE_string("outdir", "results/springs", "Where figures and arrays go.")
_SEEDS = flags.DEFINE_integer("seeds", None,
                              "Independent chains per grid cell (default: the config's).")
_DYNAMICS = flags.DEFINE_list("dynamics", list(springs.DYNAMICS), "Dynamics to run.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny grid and few steps (smoke test).")

# The grids and chain constants are those of the per-figure sweep configs
# (Fig. 3, S13, S14), so the two routes to these figures cannot drift apart.
CONFIG_FILES = {
    "first_order": "fig3_springs.py",
    "second_order": "s13_springs_second_order.py",
    "langevin": "s14_springs_langevin.py",
}
_CHAIN_FIELDS = ("num_blocks", "k", "target", "dt", "gamma", "noise_decay", "noise_dist",
                 "noise_cut", "synchronous")


def load_setting(dynamics):
  """Chain constants, friction and noise axes, steps of one dynamics' config."""
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), CONFIG_FILES[dynamics])
  config = sweep.load_config(path)
  chain_config = config.springs
  if chain_config.dynamics != dynamics:
    raise ValueError(f"{path} configures {chain_config.dynamics!r}, expected {dynamics!r}")
  return dict(chain={f: chain_config[f] for f in _CHAIN_FIELDS},
              mu=np.asarray(config.grid.mu, np.float64),
              noise=np.asarray(config.grid.noise, np.float64),
              mu_ratio=float(chain_config.mu_ratio), num_steps=int(chain_config.num_steps),
              seeds=int(config.seeds))


def run_phase_diagram(dynamics, setting, num_seeds, key):
  """Final load curves ``[mu, noise, seed, L+1]`` for the whole grid, one call."""
  mu = jnp.asarray(setting["mu"], jnp.float32)[:, None, None]
  noise = jnp.asarray(setting["noise"], jnp.float32)[None, :, None]
  cfg = springs.ChainConfig(dynamics=dynamics, mu_right=mu, mu_left=setting["mu_ratio"] * mu,
                            noise=noise, **setting["chain"])
  keys = jax.random.split(key, num_seeds)
  return springs.simulate(cfg, keys, setting["num_steps"]).load_curve


def theory_line(setting):
  """The first-order zero-curvature line as (noise, mu) arrays."""
  chain = setting["chain"]
  mu = np.linspace(setting["mu"][0], setting["mu"][-1], 200)
  eps = springs.critical_noise(mu, chain["dt"], chain["noise_dist"], chain.get("noise_cut", 2.0),
                               horizon=setting["num_steps"], mu_left=setting["mu_ratio"] * mu)
  return eps, mu


def run_dynamics(dynamics, setting, num_seeds, key):
  """Load-curve trajectories for a lazy, a balanced and an active chain."""
  chain = dict(setting["chain"], synchronous=True)
  mu = float(setting["mu"][-1]) * 2.0 / 3.0
  eps_star = float(springs.critical_noise(mu, chain["dt"], chain["noise_dist"],
                                          chain.get("noise_cut", 2.0),
                                          horizon=setting["num_steps"],
                                          mu_left=setting["mu_ratio"] * mu))
  if dynamics != "first_order":
    eps_star *= 1.75  # inertia shifts the line (see the phase diagram)
  noise = jnp.asarray([0.0, eps_star, 3.0 * eps_star], jnp.float32)[:, None]
  cfg = springs.ChainConfig(dynamics=dynamics, mu_right=mu, mu_left=setting["mu_ratio"] * mu,
                            noise=noise, **chain)
  result = springs.simulate(cfg, jax.random.split(key, num_seeds), setting["num_steps"],
                            record_every=max(1, setting["num_steps"] // 100))
  return result, np.asarray(noise[:, 0]), mu


def corner_cells(curvature):
  """Indices of the lazy, linear and active cells on the top friction row."""
  top = curvature.shape[0] - 1
  linear = int(np.nanargmin(np.abs(curvature[top])))
  return [(top, 0), (top, linear), (top, curvature.shape[1] - 1)]


def make_figures(dynamics, setting, load_curves, traj_result, traj_noise, traj_mu, outdir):
  curvature = np.asarray(metrics.curvature(load_curves)).mean(-1)
  chain = setting["chain"]
  pretty = dynamics.replace("_", "-")
  fig, axes = plotting.new_figure(width=5.0, height=4.0)
  # The effective-friction theory is for the first-order chain; the
  # second-order one shares its parameters, so its line is a reference there.
  # The Langevin chain's noise enters the velocity and has no such line.
  line = None if dynamics == "langevin" else theory_line(setting)
  label = ("theory: zero curvature" if dynamics == "first_order"
           else "first-order theory (reference)")
  plotting.plot_phase_diagram(
      axes[0, 0], setting["noise"], setting["mu"], curvature, theory_line=line,
      theory_label=label,
      x_label=r"noise $\epsilon$",
      y_label=f"friction $\\mu_r$ ($\\mu_l = {setting['mu_ratio']:.3g}\\mu_r$)",
      title=f"{pretty} chain: curvature of the final load curve")
  written = plotting.save_figure(fig, os.path.join(outdir, f"{dynamics}_phase"))

  fig, axes = plotting.new_figure()
  cells = corner_cells(curvature)
  names = ["lazy", "linear", "active"]
  curves = np.stack([np.asarray(load_curves)[i, j] for i, j in cells])
  labels = [f"{n}: $\\epsilon$={setting['noise'][j]:.4g}, curv={curvature[i, j]:.3f}"
            for n, (i, j) in zip(names, cells)]
  lines = plotting.plot_load_curves(axes[0, 0], curves, labels,
                                    title=f"{pretty}: corners at $\\mu_r$={setting['mu'][-1]:.3g}",
                                    ylabel="distance to target $d_l$")
  if dynamics == "first_order":
    for line, (i, j) in zip(lines, cells):
      mu_eff = springs.effective_friction(setting["mu"][i], setting["mu_ratio"] * setting["mu"][i],
                                          setting["noise"][j], chain["dt"], chain["noise_dist"],
                                          chain.get("noise_cut", 2.0))
      axes[0, 0].plot(springs.equilibrium_load_curve(chain["num_blocks"], chain["target"],
                                                      chain["k"], mu_eff),
                      "--", color=line.get_color(), linewidth=1)
  written += plotting.save_figure(fig, os.path.join(outdir, f"{dynamics}_corners"))

  fig, axes = plotting.new_figure(1, 4, width=3.6, height=3.0)
  traj = np.asarray(traj_result.trajectory)  # [3, seeds, T, L+1]
  times = np.asarray(traj_result.times)
  for col, name in enumerate(names):
    plotting.plot_load_curve_dynamics(
        axes[0, col], traj[col, 0], times, ylabel="distance to target $d_l$",
        title=f"{name}: $\\epsilon$={traj_noise[col]:.2g}, $\\mu_r$={traj_mu:.2g}")
    plotting.plot_curvature_over_time(axes[0, 3], traj[col], times, label=name)
  axes[0, 3].legend(fontsize=7)
  axes[0, 3].set_title("curvature over time (mean +- std)", fontsize=9)
  written += plotting.save_figure(fig, os.path.join(outdir, f"{dynamics}_dynamics"))
  return curvature, written


def main(argv):
  del argv
  outdir = _OUTDIR.value
  os.makedirs(outdir, exist_ok=True)
  unknown = set(_DYNAMICS.value) - set(springs.DYNAMICS)
  if unknown:
    raise app.UsageError(f"--dynamics must be among {springs.DYNAMICS}, got {sorted(unknown)}")
  key = jax.random.key(0)
  summary = {}
  for index, dynamics in enumerate(_DYNAMICS.value):
    setting = load_setting(dynamics)
    num_seeds = _SEEDS.value or setting["seeds"]
    if _QUICK.value:
      setting.update(mu=setting["mu"][::4], noise=setting["noise"][::4],
                     num_steps=setting["num_steps"] // 10)
      num_seeds = 2
    start = time.perf_counter()
    phase_key, traj_key = jax.random.split(jax.random.fold_in(key, index))
    load_curves = jax.block_until_ready(run_phase_diagram(dynamics, setting, num_seeds, phase_key))
    traj_result, traj_noise, traj_mu = run_dynamics(dynamics, setting, num_seeds, traj_key)
    seconds = time.perf_counter() - start
    curvature, written = make_figures(dynamics, setting, load_curves, traj_result, traj_noise,
                                      traj_mu, outdir)
    np.savez(os.path.join(outdir, f"{dynamics}_phase.npz"), mu=setting["mu"],
             noise=setting["noise"], load_curves=np.asarray(load_curves), curvature=curvature)
    chains = load_curves.shape[0] * load_curves.shape[1] * load_curves.shape[2]
    summary[dynamics] = dict(chains=int(chains), num_steps=setting["num_steps"],
                             seconds=round(seconds, 2), figures=written)
    logging.info("%s: %d chains x %d steps in %.1f s; wrote %s", dynamics, chains,
                 setting["num_steps"], seconds, ", ".join(written))
  with open(os.path.join(outdir, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
  print(f"Spring phase diagrams written to {os.path.abspath(outdir)}")


if __name__ == "__main__":
  app.run(main)

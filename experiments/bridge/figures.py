"""The bridge report's figures: fitted frictions against nonlinearity, and the collapse on the law."""

from __future__ import annotations

import os
import warnings

import numpy as np
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-order

from featurespring import bridge
from featurespring import plotting

from experiments.bridge import catalogue
from experiments.bridge import markdown


def row_label(entry, value):
  return f"{'1-alpha' if entry['rows_axis'] == 'alpha' else entry['rows_axis']}={markdown.fmt(value, 3)}"


def figure_friction(grids, fig_dir, dpi):
  usable = [g for g in grids.values() if "fits" in g]
  if not usable:
    return None
  fig, axes = plt.subplots(1, len(usable), figsize=(3.6 * len(usable), 3.2), squeeze=False)
  for ax, g in zip(axes[0], usable):
    fit = g["fits"][g["maps"][0]]
    if isinstance(fit, str):
      ax.set_title(f"{g['name']}: no fit")
      continue
    x = g["rows"]
    ax.plot(x, np.asarray(fit.mu_right), "o-", label="mu_r")
    mu_l = np.asarray(fit.mu_left, np.float64)
    ax.plot(x, np.where(np.isfinite(mu_l), mu_l, np.nan), "s--", label="mu_l (finite)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("1 - alpha" if g["rows_axis"] == "alpha" else g["rows_axis"])
    ax.set_ylabel("fitted friction")
    ax.set_title(f"{catalogue.TITLES.get(g['name'], g['name'])}\nmap {g['maps'][0]}", fontsize=9)
    ax.legend(fontsize=7)
  row_axes = sorted(
      {"nonlinearity (1 - alpha)" if g["rows_axis"] == "alpha" else g["rows_axis"] for g in usable}
  )
  fig.suptitle(f"Chain friction fitted per row against {', '.join(row_axes)}", fontsize=10)
  fig.tight_layout()
  return _save(fig, fig_dir, "friction_vs_nonlinearity", dpi)


def collapse_rows(grids, universal):
  """``(source, [(grid, x, y, floored, friction, position)])``: every cell, [rows, levels] each.

  With ``u = b eps / sqrt(dt)`` (the fitted noise in friction units) the law
  says that the noise removes ``mu_r - mu_eff = min(u, c)`` of the friction,
  ``c = (mu_r + mu_l) / 2``, in every row whatever its knob, map or friction.
  In ``x = u / c``, ``y = (mu_r - mu_eff) / c`` every row falls on
  ``y = min(x, 1)``. A row without a floor (``mu_l = inf``, ``floored``
  False) is scaled by its largest ``u`` instead: the law is ``y = x`` there.
  ``friction`` is the measured seed mean and ``position`` the cell's rank
  along its row by noise (0 = least, 1 = most), for the raw panel.
  """
  if isinstance(universal, dict):
    source = "joint fit of " + ", ".join(catalogue.UNIVERSAL)
    pairs = [
        (name, fit, c["friction"])
        for name, fit, c in zip(
            catalogue.UNIVERSAL, universal["joint_fit"].grids, universal["collapse"]
        )
    ]
  else:
    source = "separate fits per grid"
    pairs = []
    for g in grids.values():
      fit = g.get("fits", {}).get(g.get("maps", [None])[0]) if "fits" in g else None
      if fit is None or isinstance(fit, str):
        continue
      with np.errstate(all="ignore"), warnings.catch_warnings():
        # A cell whose every run diverged is NaN, and plotted as nothing.
        warnings.simplefilter("ignore", RuntimeWarning)
        pairs.append((g["name"], fit, np.nanmean(g["friction"], -1)))
  rows = []
  for name, fit, friction in pairs:
    friction = np.asarray(friction, np.float64)
    u = bridge.NOISE_SLOPE * np.asarray(
        bridge.noise_level(fit, grids[name]["knob_values"]), np.float64
    )
    mu_r, mu_l = (np.asarray(v, np.float64)[:, None] for v in (fit.mu_right, fit.mu_left))
    floored = np.isfinite(mu_l) & (mu_r + mu_l > 0)
    with np.errstate(all="ignore"):
      c = np.where(floored, 0.5 * (mu_r + mu_l), np.nanmax(u, -1, keepdims=True))
      x, y = u / c, (mu_r - friction) / c
    # Every row of a grid shares the knob's order of noise (g is increasing).
    rank = np.argsort(np.argsort(np.nan_to_num(u[0], nan=-np.inf)))
    position = np.broadcast_to(rank / max(len(rank) - 1, 1), u.shape)
    rows.append((name, x, y, np.broadcast_to(floored, u.shape), friction, position))
  return source, rows


def figure_collapse(grids, universal, fig_dir, dpi):
  """Raw friction along every row beside the same cells on the law's one coordinate."""
  source, rows = collapse_rows(grids, universal)
  fig, (raw, collapsed) = plt.subplots(1, 2, figsize=(11, 4.2))
  right = 1.0
  for k, (name, x, y, floored, friction, position) in enumerate(rows):
    colour = f"C{k}"
    for i in range(friction.shape[0]):
      order = np.argsort(position[i])
      raw.plot(position[i][order], friction[i][order], "-", color=colour, alpha=0.5, lw=0.8)
    raw.plot([], [], "-", color=colour, label=name)
    for mask, marker, suffix in ((floored, "o", ""), (~floored, "^", ", rows without a floor")):
      keep = mask & np.isfinite(x) & np.isfinite(y)
      if keep.any():
        collapsed.plot(
            x[keep], y[keep], marker, ms=3.5, color=colour, alpha=0.7, label=name + suffix
        )
        right = max(right, float(np.max(x[keep])))
  raw.axhline(0, color="grey", lw=0.5)
  raw.set_xlabel("place along the row by noise (0 = least, 1 = most)")
  raw.set_ylabel("shape-fit friction mu_eff (seed mean)")
  raw.set_title("Raw: every row of every grid", fontsize=9)
  raw.legend(fontsize=7)
  line = np.linspace(0.0, right, 200)
  collapsed.plot(line, np.minimum(line, 1.0), "k-", lw=1, label="law: y = min(x, 1)")
  collapsed.set_xlabel("x = u / c,  u = b eps / sqrt(dt) (fitted noise in friction units)")
  collapsed.set_ylabel("y = (mu_r - mu_eff) / c: share of the floor reached")
  collapsed.set_title(
      f"Collapse ({source}); c = (mu_r + mu_l) / 2,\nrows without a floor: c = their largest u",
      fontsize=9,
  )
  collapsed.legend(fontsize=7)
  fig.tight_layout()
  return _save(fig, fig_dir, "collapse", dpi)


def _save(fig, fig_dir, stem, dpi):
  plotting.save_figure(fig, os.path.join(fig_dir, stem), dpi=dpi)
  plt.close(fig)
  return stem

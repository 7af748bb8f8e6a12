"""What the reproduction reads: its sweeps, their titles and figures, and the run records."""

from __future__ import annotations

import math

import numpy as np

# Classification phase diagrams: the central check pools these.
CLASSIFICATION_GRIDS = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6", "s7a", "s7b")


REGRESSION_GRIDS = ("s12",)


# Variants of a classification grid that change one thing: analysed like it,
# set beside it (columns matched by a field), never pooled in the central
# check (their nets are not an independent grid). name -> (grid, field).
VARIANT_GRIDS = {
    "fig1d_fixed_steps": ("fig1d", "batch_size"),
    "fig1c_no_batch_norm": ("fig1c", "dropout"),
    "fig1c_no_batch_norm_lecun": ("fig1c", "dropout"),
}


SWEEPS = (
    "fig1a",
    "fig1b",
    "fig1c",
    "fig1d",
    "fig1d_fixed_steps",
    "fig1c_no_batch_norm",
    "fig1c_no_batch_norm_lecun",
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
    "fig1c_no_batch_norm": "Fig. 1(c) without BatchNorm (a scaling constant instead)",
    "fig1c_no_batch_norm_lecun": (
        "Fig. 1(c) without BatchNorm, LeCun-normal init (each layer's variance kept)"
    ),
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


# SM S6.2: chains under Gaussian noise and their truncated-noise twins.
GAUSSIAN_DRIFT_PAIR = ("s6_2", "s6_2_truncated")


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


# The pre-registered test's six families (experiments/central_claim/README.md): its pooled
# reading needs all of them. Every other phase grid gets the test's reading
# on its own rows (S7 at 3 seeds, S12 with -RMSE as the score).
PREREGISTERED = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6")


CHAIN_DYNAMICS = {"fig3": "first_order", "s13": "second_order", "s14": "langevin"}


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

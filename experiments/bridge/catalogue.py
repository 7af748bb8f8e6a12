"""The grids the bridge report reads, and their titles."""

from __future__ import annotations

SWEEPS = ("fig1a", "fig1b", "fig1c", "fig1d", "s5", "s6")


UNIVERSAL = ("fig1a", "fig1b", "fig1c", "fig1d")


TITLES = {
    "fig1a": "Fig. 1(a) label + data noise",
    "fig1b": "Fig. 1(b) learning rate",
    "fig1c": "Fig. 1(c) dropout",
    "fig1d": "Fig. 1(d) batch size",
    "s5": "S5 depth x dropout",
    "s6": "S6 width x dropout",
}


# The load curve the friction is fit to: train-set trace separation.
CURVE_KEY = "load_curve"

"""A chain fitted to every network: held-out tests of the noise law, universality, dynamics report."""

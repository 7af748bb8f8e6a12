"""Test-session setup shared by all test modules."""

from featurespring import runtime

# Before any test touches JAX: see featurespring.runtime for the hang it avoids.
runtime.configure_xla_cpu()

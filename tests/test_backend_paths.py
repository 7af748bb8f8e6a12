"""The portable and the library implementations agree (``impl``), on CPU.

Three operations have a hand-written pure-JAX ("portable") version beside
the library one: the eigensolver of the pinv separation
(`metrics._jacobi_eigh` vs ``jnp.linalg.eigh``), the orthogonal initialiser
(`models.orthogonal_init` vs ``nn.initializers.orthogonal``) and the CNN's
convolution (`models.conv_same` vs ``nn.Conv``). ``impl='auto'`` picks the
portable ones on CPU and the library ones on GPU/TPU
(`metrics.resolve_impl`); here both are forced on the same inputs.

Design note: the library paths run on XLA:CPU here, whose LAPACK custom
calls (eigh, QR) were seen to hang when batched over a vmapped population
inside a training scan. Every library call below is therefore unbatched
(no vmap, no scan) and small (6 x 6 eigenproblems; QR of at most 40 x 36
or 144 x 3 matrices), the setting in which they are ordinary LAPACK calls;
no test here relies on a timeout to catch a hang.
"""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import metrics
from featurespring import models

EPS = float(jnp.finfo(jnp.float32).eps)


def _primitives(fun, *args) -> str:
  """The printed jaxpr of ``fun(*args)``, nested jaxprs included."""
  return str(jax.make_jaxpr(fun)(*args))


def _uses(jaxpr_text: str, primitive: str) -> bool:
  return re.search(rf"= {primitive}\[", jaxpr_text) is not None


def _relative_error(got, expected) -> float:
  """``|got - expected| / |expected|`` in the Frobenius norm, in float64."""
  got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
  scale = np.linalg.norm(expected)
  if scale == 0:  # e.g. initial running means: must then be zero too
    return 0.0 if not np.any(got) else np.inf
  return float(np.linalg.norm(got - expected) / scale)


# --- The switch --------------------------------------------------------------


def _skip_unless_cpu():
  if jax.default_backend() != "cpu":
    pytest.skip("checks what 'auto' does on the CPU backend")


def test_auto_is_portable_on_cpu_and_library_elsewhere(monkeypatch):
  _skip_unless_cpu()
  assert metrics.resolve_impl("auto") == "portable"
  assert metrics.resolve_impl() == "portable"
  assert models.resolve_impl is metrics.resolve_impl
  assert models.MLP().impl == models.CNN().impl == "auto"
  for backend, auto in (("cpu", "portable"), ("gpu", "library"), ("tpu", "library")):
    monkeypatch.setattr(jax, "default_backend", lambda backend=backend: backend)
    assert metrics.resolve_impl("auto") == auto
    for forced in ("library", "portable"):
      assert metrics.resolve_impl(forced) == forced


def test_unknown_impl_is_rejected():
  with pytest.raises(ValueError, match="impl must be one of"):
    metrics.resolve_impl("lapack")
  with pytest.raises(ValueError, match="impl must be one of"):
    models.MLP(depth=1, width=3, impl="gpu").init(jax.random.key(0), jnp.ones((2, 3)), 0.1)


def test_auto_traces_the_portable_code_on_cpu():
  # Each path is what it says: library primitives only on the library path,
  # and on CPU ``auto`` traces to the very program of ``portable`` (so its
  # results are those of the code before the switch, to the bit).
  _skip_unless_cpu()
  features = jax.random.normal(jax.random.key(0), (12, 5))
  labels = jnp.arange(12) % 3
  pinv = lambda impl: _primitives(
      lambda f: metrics.separation_pinv(f, labels, 3, impl=impl), features
  )
  assert _uses(pinv("library"), "eigh")
  assert not _uses(pinv("portable"), "eigh")
  assert pinv("auto") == pinv("portable")

  cnn = lambda impl: models.CNN(
      image_shape=(4, 4, 1), depth=1, channels=2, init_scheme="orthogonal", impl=impl
  )
  x = jnp.ones((2, 16))
  variables = jax.eval_shape(lambda k: cnn("portable").init(k, x, 0.1), jax.random.key(0))
  init = lambda impl: _primitives(lambda k: cnn(impl).init(k, x, 0.1), jax.random.key(0))
  apply = lambda impl: _primitives(lambda v: cnn(impl).apply(v, x, 0.1), variables)
  assert _uses(init("library"), "qr")
  assert not _uses(init("portable"), "qr")
  assert _uses(apply("library"), "conv_general_dilated")
  assert not _uses(apply("portable"), "conv_general_dilated")
  assert init("auto") == init("portable")
  assert apply("auto") == apply("portable")


# --- Convolution: conv_same vs nn.Conv ---------------------------------------

_CNN = dict(image_shape=(6, 6, 2), depth=1, channels=4, num_outputs=3)


def test_cnn_outputs_and_gradients_agree_on_both_paths():
  # Without BatchNorm every parameter has a gradient that is not pure
  # round-off (with it, the convolutions' biases have an exact gradient of
  # 0, see `models.stop_normalised_away`); BatchNorm does not touch the
  # convolutions, which are what differs between the paths.
  x = jax.random.normal(jax.random.key(2), (5, 72))
  library = models.CNN(**_CNN, batch_norm=False, impl="library")
  portable = models.CNN(**_CNN, batch_norm=False, impl="portable")
  variables = jax.jit(library.init)(jax.random.key(3), x, 0.1)
  # One layout, one draw: the same names give the same init keys. Made on
  # one path, the parameters run on both.
  jax.tree.map(
      np.testing.assert_array_equal, variables, jax.jit(portable.init)(jax.random.key(3), x, 0.1)
  )
  got = jax.jit(library.apply)(variables, x, 0.1)
  expected = jax.jit(portable.apply)(variables, x, 0.1)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
    assert _relative_error(a, b) <= 1e-5

  def loss(model):
    def scalar(params, x):
      logits, features = model.apply({"params": params}, x, 0.1)
      return jnp.sum(jnp.sin(logits)) + sum(jnp.sum(jnp.cos(f)) for f in features)

    return jax.jit(jax.grad(scalar, (0, 1)))

  got = jax.tree_util.tree_flatten_with_path(loss(library)(variables["params"], x))[0]
  expected = jax.tree.leaves(loss(portable)(variables["params"], x))
  for (path, a), b in zip(got, expected, strict=True):
    assert _relative_error(a, b) <= 1e-5, jax.tree_util.keystr(path)


# --- Orthogonal initialisation -----------------------------------------------


def _assert_orthonormal(matrix):
  """Orthonormal columns (rows, if wide) of the ``[prod(shape[:-1]), O]`` matrix."""
  matrix = np.asarray(matrix, np.float64).reshape(-1, matrix.shape[-1])
  if matrix.shape[0] < matrix.shape[1]:
    matrix = matrix.T
  np.testing.assert_allclose(matrix.T @ matrix, np.eye(matrix.shape[1]), atol=1e-5)


@pytest.mark.parametrize("shape", [(30, 10), (10, 30), (3, 3, 4, 40)])
def test_both_orthogonal_initialisers_are_orthonormal(shape):
  key = jax.random.key(6)
  draws = {
      "library": jax.jit(nn.initializers.orthogonal(), static_argnums=1)(key, shape),
      "portable": jax.jit(models.orthogonal_init, static_argnums=1)(key, shape),
  }
  for draw in draws.values():
    assert draw.shape == shape and draw.dtype == jnp.float32
    _assert_orthonormal(draw)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_orthogonal_models_are_orthonormal_with_one_layout_on_both_paths(model):
  if model == "mlp":
    # A wide (8 x 12) and a tall (12 x 10) kernel.
    make = lambda impl: models.MLP(depth=1, width=12, init_scheme="orthogonal", impl=impl)
    x = jnp.ones((2, 8))
  else:
    make = lambda impl: models.CNN(**_CNN, init_scheme="orthogonal", impl=impl)
    x = jnp.ones((2, 72))
  made = {
      impl: jax.jit(make(impl).init)(jax.random.key(7), x, 0.1) for impl in ("library", "portable")
  }
  assert jax.tree.structure(made["library"]) == jax.tree.structure(made["portable"])
  for impl, variables in made.items():
    kernels = [
        leaf
        for path, leaf in jax.tree_util.tree_flatten_with_path(variables["params"])[0]
        if path[-1].key == "kernel"
    ]
    assert len(kernels) == 2
    for kernel in kernels:
      assert kernel.dtype == jnp.float32
      _assert_orthonormal(kernel)
  shapes = lambda variables: jax.tree.map(lambda a: (a.shape, a.dtype), variables)
  assert shapes(made["library"]) == shapes(made["portable"])


# --- Eigensolver: _jacobi_eigh vs jnp.linalg.eigh ----------------------------

# Tolerance on the pinv separation. It is a log, so the difference of the
# two paths is the relative difference of tr(S_w S_b^+) = sum_k
# |Z M^T u_k|^2 / (N lambda_k^2). Both eigensolvers are backward stable:
# eigenvalues to ~eps lambda_max absolute, eigenvectors to ~eps lambda_max /
# gap, so a term moves by a relative ~c eps kappa, kappa = lambda_max /
# lambda_k over the kept eigenvalues (<= KAPPA_MAX, asserted for these
# inputs); c ~ 10 allows for the Jacobi rotations' and the C x C / D x C
# products' round-off, the only parts that differ between the paths. That
# is 10 eps KAPPA_MAX = 1.2e-5; measured differences are ~7e-7. Near the
# rcond cut-off or with kappa ~ 1 / rcond the paths may legitimately differ
# by up to ~eps / rcond (see `metrics._eigh`), so such inputs are not used.
KAPPA_MAX = 10.0
PINV_TOLERANCE = 10 * EPS * KAPPA_MAX
_PINV = jax.jit(metrics.separation_pinv, static_argnums=2, static_argnames="impl")
_SEPARATIONS = jax.jit(metrics.separations, static_argnums=2, static_argnames="impl")


def _separated_features(seed, num_classes=6, num_examples=120, dim=20):
  """Well-separated class clusters; the last class has no examples."""
  noise_key, means_key = jax.random.split(jax.random.key(seed))
  labels = jnp.arange(num_examples) % (num_classes - 1)
  means = 2.0 * jax.random.normal(means_key, (num_classes, dim))
  return jax.random.normal(noise_key, (num_examples, dim)) + means[labels], labels


def _kappa(features, labels, num_classes):
  """``lambda_max / lambda_min`` over the kept eigenvalues of ``S_b``, in float64."""
  features = np.asarray(features, np.float64)
  one_hot = np.eye(num_classes)[np.asarray(labels)]
  counts = one_hot.sum(0)
  centred = features - features.mean(0)
  means = one_hot.T @ centred / np.maximum(counts, 1)[:, None]
  between = np.sqrt(counts / len(features))[:, None] * means
  eigen = np.linalg.eigvalsh(between @ between.T)
  kept = eigen[eigen > metrics.PINV_RCOND * eigen.max()]
  return kept.max() / kept.min()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pinv_separation_agrees_on_both_eigensolvers(seed):
  features, labels = _separated_features(seed)
  assert _kappa(features, labels, 6) <= KAPPA_MAX
  library = float(_PINV(features, labels, 6, impl="library"))
  portable = float(_PINV(features, labels, 6, impl="portable"))
  assert np.isfinite(library)
  assert abs(library - portable) <= PINV_TOLERANCE
  # `separations` passes the choice on (the portable default is what
  # tests/test_metrics.py checks); its trace separation has no eigensolver.
  trace, pinv_library = _SEPARATIONS(features, labels, 6, impl="library")
  assert abs(float(pinv_library) - library) <= PINV_TOLERANCE
  assert float(trace) == pytest.approx(float(metrics.separation(features, labels, 6)), abs=1e-6)


def test_non_finite_features_give_nan_on_both_eigensolvers():
  # The finite guard sits before either eigensolver (LAPACK may hang on NaN).
  features, labels = _separated_features(3)
  features = features.at[0, 0].set(jnp.inf)
  for impl in ("library", "portable"):
    assert np.isnan(float(_PINV(features, labels, 6, impl=impl)))

"""Models: array-rate dropout, per-layer features, initialisation options."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from featurespring import models


def test_dropout_rate_zero_is_exactly_the_identity():
  x = jax.random.normal(jax.random.key(0), (64, 100))
  np.testing.assert_array_equal(models.dropout(x, 0.0, jax.random.key(1)), x)


@pytest.mark.parametrize("rate", [0.02, 0.3, 0.7])
def test_dropout_drops_the_rate_and_preserves_the_mean(rate):
  x = jnp.ones((400, 1000))
  y = models.dropout(x, rate, jax.random.key(2))
  # 400k Bernoulli draws: the dropped fraction is within ~5 std errors.
  np.testing.assert_allclose(jnp.mean(y == 0), rate, atol=0.004)
  np.testing.assert_allclose(jnp.mean(y), 1.0, atol=0.01)
  np.testing.assert_allclose(jnp.max(y), 1.0 / (1.0 - rate), rtol=1e-5)


def test_dropout_masks_differ_between_keys_and_are_uncorrelated():
  shape = (200, 500)
  a = np.asarray(models.hash_bits(jax.random.key(3), shape)) < 2**31
  b = np.asarray(models.hash_bits(jax.random.key(4), shape)) < 2**31
  assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.01
  assert abs(np.corrcoef(a.ravel()[1:], a.ravel()[:-1])[0, 1]) < 0.01


def test_dropout_with_traced_rate_under_vmap_matches_single_calls():
  x = jnp.ones((300, 100))
  rates = jnp.array([0.0, 0.1, 0.5])
  keys = jax.random.split(jax.random.key(5), 3)

  @jax.jit
  @chex.assert_max_traces(n=1)
  def batched(rates, keys):
    return jax.vmap(models.dropout, in_axes=(None, 0, 0))(x, rates, keys)

  out = batched(rates, keys)
  batched(rates + 0.1, keys)  # new values, no retrace
  for i in range(3):
    np.testing.assert_array_equal(out[i], models.dropout(x, rates[i], keys[i]))
  np.testing.assert_allclose(jnp.mean(out == 0, axis=(1, 2)), rates, atol=0.01)


@pytest.mark.parametrize(
    "module, dim",
    [
        (models.MLP(depth=3, width=16), 12),
        (models.MLP(depth=2, width=8, batch_norm=False), 12),
        (models.CNN(image_shape=(4, 6, 1), depth=2, channels=3), 24),
    ],
)
def test_models_return_logits_and_depth_plus_one_features(module, dim):
  x = jax.random.uniform(jax.random.key(6), (5, dim))
  variables = module.init(jax.random.key(7), x, 0.1)
  (logits, features), _ = module.apply(
      variables, x, 0.1, 0.2, jax.random.key(8), train=True, mutable=["batch_stats"]
  )
  assert logits.shape == (5, 10)
  assert len(features) == module.depth + 1
  assert all(f.ndim == 2 and f.shape[0] == 5 for f in features)
  logits_eval, features_eval = module.apply(variables, x, 0.1)
  assert len(features_eval) == module.depth + 1
  if module.batch_norm:
    assert "batch_stats" in variables
  else:
    # No input BatchNorm: layer 0 is the input itself.
    np.testing.assert_array_equal(features_eval[0], x)


def test_linear_mlp_without_batchnorm_uses_variance_preserving_gain():
  module = models.MLP(depth=1, width=4, batch_norm=False, use_bias=False)
  x = jax.random.normal(jax.random.key(9), (3, 5))
  variables = module.init(jax.random.key(10), x, 0.5)
  _, (_, hidden) = module.apply(variables, x, 0.5)
  pre = x @ variables["params"]["Dense_0"]["kernel"]
  gain = np.sqrt(2.0 / 1.25)
  expected = np.where(pre >= 0, gain * pre, 0.5 * gain * pre)
  np.testing.assert_allclose(hidden, expected, rtol=1e-5)


def test_torch_init_bounds_and_kernel_scaling():
  module = models.MLP(depth=1, width=50)
  x = jnp.ones((2, 40))
  params = module.init(jax.random.key(11), x, 0.0)["params"]
  kernel = params["Dense_0"]["kernel"]
  bound = 1.0 / np.sqrt(40)
  assert float(jnp.max(jnp.abs(kernel))) <= bound
  assert float(jnp.std(kernel)) == pytest.approx(bound / np.sqrt(3), rel=0.1)
  assert float(jnp.max(jnp.abs(params["Dense_0"]["bias"]))) <= bound
  scaled = models.scale_kernels(params, 2.0)
  np.testing.assert_allclose(scaled["Dense_0"]["kernel"], 2.0 * kernel)
  np.testing.assert_array_equal(scaled["Dense_0"]["bias"], params["Dense_0"]["bias"])


def test_orthogonal_init_gives_orthogonal_square_kernels():
  module = models.MLP(depth=2, width=20, init_scheme="orthogonal")
  params = module.init(jax.random.key(12), jnp.ones((2, 20)), 1.0)["params"]
  kernel = params["Dense_1"]["kernel"]
  np.testing.assert_allclose(kernel.T @ kernel, np.eye(20), atol=1e-5)


@pytest.mark.parametrize("shape", [(100, 100), (30, 10), (10, 30)])
def test_orthogonal_init_is_orthogonal_and_haar_like(shape):
  # Vmapped over keys, as a population initialises (no LAPACK involved).
  draws = jax.vmap(lambda k: models.orthogonal_init(k, shape))(
      jax.random.split(jax.random.key(3), 64)
  )
  small = min(shape)
  gram = (
      np.einsum("kij,kil->kjl", draws, draws)
      if shape[0] >= shape[1]
      else np.einsum("kji,kli->kjl", draws, draws)
  )
  np.testing.assert_allclose(gram, np.broadcast_to(np.eye(small), gram.shape), atol=2e-5)
  # Haar: every entry has mean 0 and variance 1 / max(shape).
  entries = np.asarray(draws).ravel()
  assert abs(entries.mean()) < 3 * np.sqrt(1 / max(shape) / entries.size)
  np.testing.assert_allclose(entries.var(), 1 / max(shape), rtol=0.05)
  # A fixed draw does not depend on the others in the batch.
  np.testing.assert_allclose(
      draws[5], models.orthogonal_init(jax.random.split(jax.random.key(3), 64)[5], shape), atol=1e-6
  )


@pytest.mark.parametrize("kernel_shape", [(3, 3, 2, 5), (5, 3, 4, 1), (1, 1, 3, 2)])
def test_conv_same_is_xla_same_convolution_with_its_gradients(kernel_shape):
  x = jax.random.normal(jax.random.key(0), (3, 6, 8, kernel_shape[2]))
  kernel = jax.random.normal(jax.random.key(1), kernel_shape)

  def reference(x, kernel):
    return jax.lax.conv_general_dilated(
        x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )

  np.testing.assert_allclose(models.conv_same(x, kernel), reference(x, kernel), atol=1e-5)
  loss = lambda conv: lambda x, k: jnp.sum(jnp.sin(conv(x, k)))
  for got, expected in zip(
      jax.grad(loss(models.conv_same), (0, 1))(x, kernel),
      jax.grad(loss(reference), (0, 1))(x, kernel),
  ):
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_conv_same_rejects_even_kernels():
  with pytest.raises(ValueError, match="odd kernel"):
    models.conv_same(jnp.ones((1, 4, 4, 1)), jnp.ones((2, 2, 1, 1)))


def test_cnn_parameters_are_those_of_flax_conv_layers():
  cnn = models.CNN(image_shape=(4, 4, 2), depth=2, channels=3)
  params = cnn.init(jax.random.key(0), jnp.ones((2, 32)), 0.0)["params"]
  flax_conv = models.nn.Conv(3, (3, 3), padding="SAME").init(
      jax.random.key(0), jnp.ones((2, 4, 4, 3))
  )["params"]
  chex.assert_trees_all_equal_shapes(params["Conv_1"], flax_conv)

"""experiments/reproduction/init_scale.py: the features' scale at initialisation without BatchNorm."""

import numpy as np

from experiments.reproduction import init_scale


def test_the_constant_keeps_the_scale_with_lecun_weights_and_not_with_torch_ones():
  rows = init_scale.measure(dataset="mnist_embedded", num_train=500)
  assert [(r[0], r[1]) for r in rows] == [
      (init, alpha) for init in ("torch", "lecun") for alpha in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
  ]
  for init_scheme, alpha, values in rows:
    ratios = np.asarray(values[1:]) / values[0]
    assert ratios.shape == (7,) and np.all(np.isfinite(ratios)), (init_scheme, alpha)
    if init_scheme == "torch":
      # Weights of variance 1 / (3 fan_in): each layer keeps about a third, down to the
      # floor the biases hold.
      assert ratios[-1] < 0.2 and np.all(np.diff(ratios[:3]) < 0), (alpha, ratios)
    else:
      assert np.all((ratios > 0.5) & (ratios < 2.0)), (alpha, ratios)
  text = init_scale.table(rows)
  assert text.count("\n| torch |") == 6 and text.count("\n| lecun |") == 6

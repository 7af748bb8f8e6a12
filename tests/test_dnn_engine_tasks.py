"""The DNN engine's side experiments: dropout raised mid-training (S2),
regression (S12), orthogonal binary data (Fig. 5a). Tiny nets, few epochs."""

import os

import numpy as np
import pytest

from featurespring import sweep
from featurespring.sweep import engine as engine_lib
from featurespring import train
from featurespring.sweep import checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config(**dnn):
  config = sweep.base_config("dnn")
  d = config.dnn
  d.dataset, d.num_train, d.num_test, d.batch_size = "synthetic", 64, 32, 32
  d.depth, d.width, d.num_epochs = 2, 8, 4
  d.update(dnn)
  return config


def make_engine(config):
  """The engine and initial state of the sweep's one chunk, as the runner builds them."""
  plan = sweep.plan(config)
  (chunk,) = plan.chunks
  engine = plan.engine_cls(config, chunk.static, plan.grid)
  points = engine_lib.member_points(plan.engine_cls, config, plan.grid, chunk.members)
  return engine, engine.init(points)


def test_dropout_switch_applies_at_its_epoch_and_resumes_exactly(tmp_path):
  config = tiny_config(dropout_switch_epoch=2)
  config.grid.dropout_switch_rate = (0.0, 0.3)
  engine, start = make_engine(config)
  assert engine.train_config.use_dropout  # decided from the raised rates
  # Epochs 1, 2 | checkpoint at the switch | 3, 4: the switch lands between calls.
  state = engine.advance(start, 2)
  np.testing.assert_array_equal(state["nets"].hparams.dropout, [0.0, 0.0])
  path = str(tmp_path / "ckpt.npz")
  checkpoint.save(path, state, 2)
  state, unit, _ = checkpoint.restore(path, start)
  assert unit == 2
  state = engine.advance(engine.advance(state, 1), 1)
  np.testing.assert_allclose(state["nets"].hparams.dropout, [0.0, 0.3])
  # One call across the switch gives the same run.
  straight = engine.advance(start, 4)
  resumed, uninterrupted = engine.finalize(state), engine.finalize(straight)
  for key in uninterrupted:
    np.testing.assert_allclose(resumed[key], uninterrupted[key], rtol=2e-4, atol=2e-5, err_msg=key)
  # Same seed: both nets are one run until the switch, then dropout changes it.
  loss = uninterrupted["history/loss"]
  np.testing.assert_array_equal(loss[0, :2], loss[1, :2])
  assert np.all(loss[0, 2:] != loss[1, 2:])


def test_step_metrics_fill_the_history_across_calls():
  config = tiny_config(eval_every_steps=1, num_epochs=2)  # 2 steps per epoch
  engine, state = make_engine(config)
  out = engine.finalize(engine.advance(engine.advance(state, 1), 1))
  steps = out["history/steps/load_curve"]
  assert steps.shape == (1, 2, 2, 3)  # member, epoch, evaluation, layer
  np.testing.assert_array_equal(out["history/steps/step"], [[[1, 2], [3, 4]]])
  # The last evaluation of an epoch is taken at its end.
  np.testing.assert_allclose(steps[:, :, -1], out["history/load_curve"], rtol=1e-6)
  assert np.all(np.isfinite(steps))
  # runlocal keeps it within the steps of an epoch of its smaller data.
  config.dnn.eval_every_steps = 50
  assert sweep.runlocal(config).dnn.eval_every_steps == 256 // 32
  sweep.plan(config)
  with pytest.raises(ValueError, match="eval_every_steps"):
    sweep.plan(tiny_config(eval_every_steps=3))


def test_regression_sweep_reports_load_curves_and_rmse():
  config = tiny_config(regression="teacher", loss="mse", num_epochs=2)
  config.grid.alpha = (0.0, 1.0)
  engine, state = make_engine(config)
  assert engine.train_config.regression and engine.dataset.regression
  # Trained inside the scan: regression_load is pure JAX (no LAPACK call that
  # could deadlock there), see featurespring.metrics.
  out = engine.finalize(engine.advance(state, 2))
  assert out["load_curve"].shape == out["load_curve_test"].shape == (2, 3)
  assert out["history/load_curve"].shape == (2, 2, 3) and out["curvature"].shape == (2,)
  assert "accuracy" not in out and "load_curve_pinv" not in out and "rmse" in out
  assert np.all(np.isfinite(out["load_curve"])) and np.all(np.isfinite(out["rmse"]))
  load = np.asarray(
      train.evaluate(state["nets"], engine.dataset.x_train, engine.dataset.y_train)["load_curve"]
  )
  # The input layer's load is the affine fit of the standardised target: in (0, 1).
  assert load.shape == (2, 3) and np.all((load[:, 0] > 0) & (load[:, 0] < 1))
  bad = tiny_config(regression="teacher")  # cross-entropy on real targets
  try:
    sweep.plan(bad)
  except ValueError as err:
    assert "loss must be 'mse'" in str(err)
  else:
    raise AssertionError("regression with cross_entropy was accepted")


def test_fig5a_runlocal_trains_two_class_linear_nets_on_orthogonal_data():
  config = sweep.load_config(os.path.join(REPO, "experiments/fig5a_linear_dnn.py:runlocal"))
  assert config.dnn.dataset == "orthogonal_binary" and config.dnn.num_train == 100
  engine, state = make_engine(config)
  assert engine.train_config.num_classes == 2
  out = engine.finalize(engine.advance(state, 2))
  assert out["load_curve"].shape == (10, 4)  # ten cases, input + 3 hidden layers
  assert np.all(np.isfinite(out["load_curve"])) and not np.any(out["diverged"])

"""Chunk sizing from device memory: footprint estimates against XLA's own count."""

import types

import jax
import numpy as np
import pytest

from featurespring import sweep
from featurespring import train
from featurespring.sweep import dnn_engine
from featurespring.sweep import memory
from featurespring.train import loop


def small_dnn_config(model="mlp", width=32, batch_size=512):
  config = sweep.base_config("dnn")
  config.dnn.update(
      dataset="mnist_embedded",
      model=model,
      num_train=512,
      num_test=256,
      depth=3,
      width=width,
      batch_size=batch_size,
      num_epochs=2,
  )
  config.grid.dropout = (0.0, 0.1)
  config.seeds = 3
  return config


def fake_device(limit, in_use):
  stats = {"bytes_limit": limit, "bytes_in_use": in_use}
  return types.SimpleNamespace(platform="gpu", memory_stats=lambda: stats)


# A CNN's working set is not an MLP's (memory module docstring): the MLP's
# factors had put it at a fifth of what XLA allocates. Its training step
# decides the estimate for full batches, its evaluation for small ones.
@pytest.mark.parametrize(
    "model, width, batch_size, decided_by",
    [("mlp", 32, 512, "eval"), ("cnn", 8, 512, "train"), ("cnn", 16, 128, "eval")],
)
def test_dnn_estimate_bounds_the_compiled_epoch_program(model, width, batch_size, decided_by):
  config = small_dnn_config(model, width, batch_size)
  engine = dnn_engine.DnnEngine(config, {}, sweep.Grid.from_config(config))
  num_nets = 4
  state = train.init(
      engine.train_config, train.HParams.create(seed=np.arange(num_nets), dropout=0.1), engine.data
  )
  train_epochs = loop._train_epochs_jit  # pylint: disable=protected-access
  compiled = train_epochs.lower(state, engine.data, 1).compile()
  analysis = compiled.memory_analysis()
  if analysis is None:
    pytest.skip("this backend reports no memory analysis")
  measured = (
      analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes
  )
  estimated = num_nets * memory.estimate_member_bytes(config) + memory.shared_bytes(config)
  factors = memory.ACTIVATION_FACTORS[model]
  _, features = jax.eval_shape(
      lambda x: loop._forward_eval(  # pylint: disable=protected-access
          jax.tree.map(lambda leaf: leaf[0], state), x, engine.data.y_train
      ),
      engine.data.x_train[:1],
  )
  example_bytes = memory.tree_bytes(features)
  widest = max(memory.tree_bytes(f) for f in features)
  evaluated = (
      factors.eval_factor * 768 * (example_bytes if factors.eval_keeps_all_layers else widest)
  )
  trained = factors.train_factor * batch_size * example_bytes
  assert (evaluated >= trained) == (decided_by == "eval"), (evaluated, trained)
  # An upper bound that is not wasteful: 1.09x (MLP), 1.07x and 1.04x (CNNs) measured here.
  assert measured <= estimated <= 1.5 * measured, (measured, estimated)


def test_member_bytes_grow_with_the_evaluated_examples_and_trajectory():
  config = small_dnn_config()
  small = memory.estimate_member_bytes(config)
  config.dnn.num_train = 1024  # 1024 + 256 examples evaluated, not 512 + 256
  assert memory.estimate_member_bytes(config) > 1.5 * small
  chains = sweep.base_config("springs")
  chains.springs.num_steps = 1000
  plain = memory.estimate_member_bytes(chains)
  chains.springs.record_every = 10  # 101 snapshots of 8 float32
  assert memory.estimate_member_bytes(chains) >= plain + 2 * 101 * 8 * 4


def test_auto_chunk_size_fills_the_tightest_device_in_balanced_chunks():
  config = small_dnn_config()
  config.seeds = 10_000  # 20_000 members: several chunks below
  member, shared = memory.estimate_member_bytes(config), memory.shared_bytes(config)
  gib = 1024**3
  devices = [fake_device(16 * gib, 1 * gib), fake_device(16 * gib, 6 * gib)]
  for safety in (memory.SAFETY_FRACTION, 0.35):
    fit = 2 * int((safety * 10 * gib - shared) // member)
    chunk = memory.auto_chunk_size(config, devices, safety=safety)
    # As few chunks as the memory allows, equal up to a member per device.
    assert chunk <= fit and chunk % 2 == 0
    assert -(-20_000 // chunk) == -(-20_000 // fit)
    assert chunk * -(-20_000 // chunk) - 20_000 < 2 * -(-20_000 // chunk)
  # Too little memory still runs one member per device.
  assert memory.auto_chunk_size(config, [fake_device(gib, gib)] * 3) == 3


def test_auto_chunk_size_is_capped_by_the_grid_and_works_on_cpu():
  config = small_dnn_config()  # 2 x 3 = 6 members
  assert memory.auto_chunk_size(config, [fake_device(64 * 1024**3, 0)]) == 6
  # CPU devices report no memory statistics: the host's available RAM.
  chunk = memory.auto_chunk_size(config)
  assert 1 <= chunk <= 6
  assert memory.device_free_bytes(jax.devices()[0]) > 0
  with pytest.raises(ValueError, match="safety"):
    memory.auto_chunk_size(config, safety=0.0)


def test_a_chunk_too_large_for_the_free_memory_is_warned_of_before_it_compiles(
    tmp_path, monkeypatch, caplog
):
  config = small_dnn_config()  # 6 members, one chunk
  member, shared = memory.estimate_member_bytes(config), memory.shared_bytes(config)
  free = shared + 2 * member  # two members fit, not six
  monkeypatch.setattr(memory, "device_free_bytes", lambda device: free)

  def no_compile(*args, **kwargs):
    raise AssertionError("compiled before warning")

  monkeypatch.setattr(dnn_engine.DnnEngine, "init", no_compile)
  with pytest.raises(AssertionError, match="compiled before warning"):
    sweep.run(config, str(tmp_path))
  warnings = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
  assert "a chunk of 6 members" in warnings and "config.chunk_size" in warnings
  # auto_chunk_size plans for a safety fraction of the free memory: 1 member here.
  assert "(1 would fit)" in warnings

  caplog.clear()
  fits = int((shared + 6 * member) / memory.SAFETY_FRACTION) + 1
  monkeypatch.setattr(memory, "device_free_bytes", lambda device: fits)
  with pytest.raises(AssertionError, match="compiled before warning"):
    sweep.run(config, str(tmp_path / "fits"))
  assert not [r for r in caplog.records if r.levelname == "WARNING"]

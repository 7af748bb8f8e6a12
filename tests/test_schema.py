"""Each setting is defined once: sweep configs derive from the engines' dataclasses."""

import dataclasses
import inspect
import pathlib

import ml_collections
import pytest

from featurespring import data
from featurespring import schema
from featurespring import springs
from featurespring import sweep
from featurespring import train
from featurespring.sweep import config as config_lib
from featurespring.sweep import dnn_engine
from featurespring.sweep import springs_engine

REPO = pathlib.Path(__file__).resolve().parents[1]


def _defaults(cls, exclude=()):
  return {f.name: f.default for f in dataclasses.fields(cls) if f.name not in exclude}


def test_springs_config_fields_and_defaults_are_the_dataclasses():
  expected = {
      **_defaults(springs.ChainConfig, ("mu_right", "mu_left")),
      **_defaults(springs_engine.ChainRun),
  }
  assert sweep.base_config("springs").springs.to_dict() == expected


def test_dnn_config_fields_and_defaults_are_the_dataclasses_and_load():
  load = inspect.signature(data.load).parameters
  expected = {
      "dataset": dnn_engine.DataChoice.dataset,
      **{
          ("data_seed" if a == "seed" else a): load[a].default
          for a in (
              "data_dir",
              "source",
              "tfds_data_dir",
              "verify",
              "resize",
              "num_train",
              "num_test",
              "seed",
              "grayscale",
              "regression",
              "num_val",
          )
      },
      **_defaults(
          train.Config, ("image_shape", "regression", "num_classes", "use_dropout", "use_noise")
      ),
      **_defaults(train.HParams, ("seed",)),
      **_defaults(train.Schedule),
  }
  assert sweep.base_config("dnn").dnn.to_dict() == expected


def test_a_new_dataclass_field_reaches_the_sweep_config_and_its_overrides(monkeypatch):
  @dataclasses.dataclass(frozen=True)
  class Extended(train.Schedule):
    """Attributes:
    warmup_epochs: epochs before the first controller move.
    """

    warmup_epochs: int = 3

  monkeypatch.setattr(train, "Schedule", Extended)
  config = sweep.base_config("dnn")
  assert config.dnn.warmup_epochs == 3
  config.dnn.warmup_epochs = 5  # an override of the derived field type-checks
  with pytest.raises(TypeError):
    config.dnn.warmup_epochs = "five"
  assert "| `warmup_epochs` | `3` |" in schema.markdown_table(dnn_engine.settings())


def test_a_setting_defined_twice_is_refused():
  twice = schema.dataclass_settings(springs_engine.ChainRun) * 2
  with pytest.raises(ValueError, match="'mu' is defined twice"):
    schema.to_config(twice)


def test_none_defaults_are_typed_placeholders_that_take_overrides():
  config = sweep.base_config("dnn")
  assert config.dnn.num_test is None and config.dnn.test_eval_size is None
  config.dnn.num_test = 100
  config.dnn.regression = "teacher"
  with pytest.raises(TypeError):
    config.dnn.num_test = "all"
  assert isinstance(config.dnn, ml_collections.ConfigDict)


def test_config_reference_doc_is_current():
  current = (REPO / "docs" / "config.md").read_text()
  assert (
      current == config_lib.reference_markdown()
  ), "docs/config.md is stale: regenerate it with `python -m launch.docs`"

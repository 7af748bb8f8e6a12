"""One name per quantity, in every result: ``train_grid``, ``springs.simulate``, sweeps.

A quantity's name is the same wherever it appears: a key of
``train.train_epochs``' metrics and of ``train_grid(...).history``, an array of a
merged sweep (``results.npz``), a variable of ``sweep.load(workdir)`` and of the
``to_xarray()`` views of grid and simulation results. A value at the end of a
run has the bare name (``load_curve``, ``accuracy``); its course over training
is ``history/<name>``, with the snapshot times as a coordinate (``epoch`` for
networks, ``time`` and ``step`` for chains).

Each quantity has a default example set, the one the theory is about: load
curves on the training set, accuracy on the test set, the loss on the training
set (the epoch's mean over its steps). Another set is a suffix: ``_test``,
``_train``, ``_val``.
"""

from __future__ import annotations

# name -> (dimensions after the run's own axes, meaning). The README's table.
QUANTITIES = {
    "load_curve": (
        ("layer",),
        "separation D_l = log(tr S_w / tr S_b) per layer l = 0..L on the training set "
        "(networks; regression: the RMSE of the best affine fit per layer), or the "
        "chain's d_l = y - x_l",
    ),
    "load_curve_test": (("layer",), "the load curve on the test set"),
    "load_curve_pinv": (("layer",), "pinv separation log tr(S_w S_b^+) per layer, training set"),
    "load_curve_pinv_test": (("layer",), "pinv separation on the test set"),
    "curvature": ((), "curvature of the load curve (> 0 convex / active, < 0 concave / lazy)"),
    "spread": ((), "std of the load curve's layer-to-layer drops"),
    "accuracy": ((), "test accuracy"),
    "accuracy_train": ((), "training-set accuracy (eval mode)"),
    "accuracy_val": ((), "validation accuracy (a split held out of the training pool)"),
    "loss": ((), "training loss, mean over the epoch's steps"),
    "loss_test": ((), "test loss (eval mode)"),
    "loss_val": ((), "validation loss"),
    "diverged": ((), "the run went non-finite (or its loss blew up) and was frozen"),
    "stopped": ((), "the run met its stopping rule and was frozen"),
    "stop_epoch": ((), "epoch at which a network stopped (-1: never)"),
    "diverge_epoch": ((), "epoch at which a network diverged (-1: never)"),
    "stop_step": ((), "step at which a chain's stopping rule froze it"),
}
# Snapshot coordinates of histories.
SNAPSHOT_COORDS = {"dnn": ("epoch",), "springs": ("time", "step")}

HISTORY = "history/"

# Default example set of each measured quantity; another set is a suffix.
_DEFAULT_SET = {
    "load_curve": "train",
    "load_curve_pinv": "train",
    "accuracy": "test",
    "loss": "train",
}


def metric_name(quantity: str, example_set: str) -> str:
  """``load_curve`` on ``"test"`` -> ``load_curve_test``; on its default set, bare."""
  if quantity not in _DEFAULT_SET:
    raise ValueError(f"unknown measured quantity {quantity!r}; known: {sorted(_DEFAULT_SET)}")
  return quantity if example_set == _DEFAULT_SET[quantity] else f"{quantity}_{example_set}"


def history(name: str) -> str:
  """The name of ``name``'s course over training: ``history/<name>``."""
  return HISTORY + name


# Names before this vocabulary (results merged before 2026-12-05): read back
# under the current names by `featurespring.sweep.load_result` and `load`.
_LEGACY_METRICS = {
    "sep/train": "load_curve",
    "sep/test": "load_curve_test",
    "sep_pinv/train": "load_curve_pinv",
    "sep_pinv/test": "load_curve_pinv_test",
    "load/train": "load_curve",
    "load/test": "load_curve_test",
    "acc/train": "accuracy_train",
    "acc/test": "accuracy",
    "acc/val": "accuracy_val",
    "loss/train": "loss",
    "loss/test": "loss_test",
    "loss/val": "loss_val",
}
_LEGACY_ARRAYS = {
    "trajectory": "history/load_curve",
    "trajectory_test": "history/load_curve_test",
    "trajectory_time": "history/time",
}


def current_name(key: str) -> str:
  """A result array's current name, given its name in any earlier release."""
  if key in _LEGACY_ARRAYS:
    return _LEGACY_ARRAYS[key]
  for prefix in ("history/steps/", "history/"):
    if key.startswith(prefix) and key[len(prefix) :] in _LEGACY_METRICS:
      return prefix + _LEGACY_METRICS[key[len(prefix) :]]
  return key


def rename_legacy(mapping: dict) -> dict:
  """``mapping`` with legacy keys renamed; where old and new both exist
  (``trajectory`` beside ``history/sep/train``) the first one found is kept."""
  out = {}
  for key, value in mapping.items():
    out.setdefault(current_name(key), value)
  return out

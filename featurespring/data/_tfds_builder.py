"""A TFDS builder preparing the raw dataset files offline, without TensorFlow.

The stock TFDS builders of these datasets download their files and need
TensorFlow to prepare them. This builder takes the same raw files from a local
folder (TFDS's "manual dir"), stores the images as plain uint8 tensors (TFDS's
``Image`` feature would need TensorFlow to PNG-encode them) in ArrayRecord
files, and is read back with `tfds.data_source`, which needs no TensorFlow
either. Importing this module imports tensorflow_datasets and registers the
builder under the name ``featurespring_raw``; only `featurespring.data._tfds`
imports it, on first use.
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from featurespring.data import _cifar
from featurespring.data import _idx

_IMAGE_SHAPES = {
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
    "cifar10": (32, 32, 3),
}


class FeaturespringRaw(tfds.core.GeneratorBasedBuilder):
  """MNIST, Fashion-MNIST or CIFAR-10 from their official raw files.

  One config per dataset. Each example is ``{"image": uint8 [H, W, C],
  "label": class, "index": position in the raw file}``; TFDS shuffles records
  when it writes them, and ``index`` lets a reader restore the raw order.
  """

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=name) for name in _IMAGE_SHAPES]
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put the official raw files in the manual dir: for mnist and "
      f"fashion_mnist the IDX files {list(_idx.IDX_FILES.values())}; for "
      f"cifar10 the python batches {list(_cifar.TRAIN_BATCHES)} and "
      f"{_cifar.TEST_BATCH}."
  )

  def _info(self) -> tfds.core.DatasetInfo:
    # DatasetInfo is built directly: dataset_info_from_configs would look for
    # metadata files (README, citations) beside this module.
    return tfds.core.DatasetInfo(
        builder=self,
        description=(f"{self.builder_config.name}, prepared from local raw files."),
        features=tfds.features.FeaturesDict(
            {
                "image": tfds.features.Tensor(
                    shape=_IMAGE_SHAPES[self.builder_config.name],
                    dtype=np.uint8,
                ),
                "label": tfds.features.ClassLabel(num_classes=10),
                "index": tfds.features.Scalar(dtype=np.int64),
            }
        ),
        supervised_keys=("image", "label"),
    )

  def _split_generators(self, dl_manager):
    name = self.builder_config.name
    # Checksums, if wanted, are verified by the caller before preparing.
    if name == "cifar10":
      raw = _cifar.read_cifar10(dl_manager.manual_dir)
    else:
      raw = _idx.read_idx_dataset(dl_manager.manual_dir, dataset=name, verify=False)
    return {
        "train": self._generate_examples(raw.x_train, raw.y_train),
        "test": self._generate_examples(raw.x_test, raw.y_test),
    }

  def _generate_examples(self, images, labels):
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {"image": image, "label": int(label), "index": index}

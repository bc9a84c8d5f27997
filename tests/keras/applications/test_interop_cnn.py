"""VGG, ResNet (v1, v2), DenseNet, ConvNeXt (a small configuration of its generic builder) and
InceptionResNetV2 (in CI or with NDFLOW_SLOW_TESTS=1) against real Keras 3, live (see
interop.py): layer names, order, classes, weight shapes, parameter counts, and outputs with
each side's weights files loaded by the other (and Keras's legacy .h5 layout through
``weights=PATH``). The other variants share these blocks; test_structure.py checks their
structure."""

from __future__ import annotations

import pytest

from tests.keras.applications.interop import Spec, check, needs_keras, run
from tests.keras.applications.test_structure import RUN_HEAVY

pytestmark = needs_keras
S32 = {"input_shape": (32, 32, 3), "classes": 7}
SPECS = [
    Spec("vgg16", "vgg16", "VGG16", S32, legacy=True),
    Spec("vgg19_notop", "vgg19", "VGG19", {"include_top": False, "input_shape": (32, 32, 3),
                                           "pooling": "max"}),
    Spec("resnet50", "resnet", "ResNet50", S32, legacy=True),
    Spec("resnet50v2", "resnet_v2", "ResNet50V2", {"include_top": False,
                                                   "input_shape": (32, 32, 3),
                                                   "pooling": "avg"}),
    Spec("densenet121", "densenet", "DenseNet121", S32, legacy=True),
    # ConvNeXt's blocks, nested Sequential stem/downsampling and head at a small width
    Spec("convnext_small_cfg", "src:convnext", "ConvNeXt",
         {"depths": [1, 2, 1, 1], "projection_dims": [8, 16, 24, 32], "drop_path_rate": 0.1,
          "name": "convnext_mini", "input_shape": (32, 32, 3), "classes": 7}, legacy=True),
]
if RUN_HEAVY:
    SPECS.append(Spec("inception_resnet_v2", "inception_resnet_v2", "InceptionResNetV2",
                      {"input_shape": (75, 75, 3), "include_top": False}, batch=1))


@pytest.fixture(scope="module")
def keras_run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("apps_vgg_resnet"))
    return folder, run(SPECS, folder)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_same_as_keras(spec, keras_run):
    folder, nd_out = keras_run
    check(spec, folder, nd_out)

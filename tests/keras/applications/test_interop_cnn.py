"""VGG, ResNet (v1, v2) and DenseNet against real Keras 3, live (see interop.py): layer names,
order, classes, weight shapes, parameter counts, and outputs with each side's weights files
loaded by the other (and Keras's legacy .h5 layout through ``weights=PATH``). The deeper
variants share these blocks; test_structure.py checks their structure."""

from __future__ import annotations

import pytest

from tests.keras.applications.interop import Spec, check, needs_keras, run

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
]


@pytest.fixture(scope="module")
def keras_run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("apps_vgg_resnet"))
    return folder, run(SPECS, folder)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_same_as_keras(spec, keras_run):
    folder, nd_out = keras_run
    check(spec, folder, nd_out)

"""MobileNet (v1-v3), EfficientNet (v1, v2), Xception and InceptionV3 against real Keras 3,
live (see interop.py): layer names, order, classes, weight shapes, parameter counts, and
outputs with each side's weights files loaded by the other (and Keras's legacy .h5 layout
through ``weights=PATH``). Other variants share these blocks; test_structure.py checks their
structure."""

from __future__ import annotations

import pytest

from tests.keras.applications.interop import Spec, check, needs_keras, run
from tests.keras.applications.test_structure import RUN_HEAVY

pytestmark = needs_keras
SPECS = [
    Spec("mobilenet", "mobilenet", "MobileNet",
         {"input_shape": (32, 32, 3), "classes": 7, "alpha": 0.5}, legacy=True),
    Spec("mobilenetv2", "mobilenet_v2", "MobileNetV2",
         {"input_shape": (32, 32, 3), "classes": 7, "alpha": 0.35}, legacy=True),
    Spec("efficientnetb0", "efficientnet", "EfficientNetB0",
         {"input_shape": (32, 32, 3), "classes": 7}, legacy=True),
    Spec("efficientnetv2b0", "efficientnet_v2", "EfficientNetV2B0",
         {"input_shape": (32, 32, 3), "classes": 7, "classifier_activation": None},
         legacy=True),
    Spec("mobilenetv3small", "", "MobileNetV3Small",
         {"input_shape": (32, 32, 3), "classes": 7, "alpha": 0.75}, legacy=True),
    Spec("mobilenetv3large", "", "MobileNetV3Large",
         {"input_shape": (32, 32, 3), "include_top": False, "alpha": 0.75, "pooling": "avg"}),
    Spec("mobilenetv3small_min", "", "MobileNetV3Small",
         {"input_shape": (32, 32, 3), "classes": 5, "minimalistic": True}),
    Spec("xception", "xception", "Xception",
         {"input_shape": (71, 71, 3), "include_top": False, "pooling": "avg"}, batch=1),
    Spec("inceptionv3", "inception_v3", "InceptionV3",
         {"input_shape": (75, 75, 3), "classes": 7}, legacy=True, batch=1),
]
if RUN_HEAVY:  # the S/M/L stage tables and their preprocessing branch
    SPECS.append(Spec("efficientnetv2s", "efficientnet_v2", "EfficientNetV2S",
                      {"input_shape": (32, 32, 3), "include_top": False}, batch=1))


@pytest.fixture(scope="module")
def keras_run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("apps_mobile"))
    return folder, run(SPECS, folder)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_same_as_keras(spec, keras_run):
    folder, nd_out = keras_run
    check(spec, folder, nd_out)

"""Every application family against real Keras 3, live (see interop.py): layer names, order,
classes, weight shapes, parameter counts, and outputs with each side's weights files loaded by
the other (and Keras's legacy .h5 layout through ``weights=PATH``). Deep variants of a family
share the blocks checked here; test_structure.py checks their structure.

One test runs every model through one Keras subprocess: starting Keras costs seconds, and a
parametrized test would let pytest-xdist split the models over its workers, each starting its
own Keras run. A failure names every model that differs.
"""

from __future__ import annotations

from tests.keras.applications.interop import Spec, check, needs_keras, run
from tests.keras.applications.test_structure import RUN_HEAVY

S32 = {"input_shape": (32, 32, 3), "classes": 7}
N32 = {"input_shape": (32, 32, 3), "include_top": False}
SPECS = [
    Spec("vgg16", "vgg16", "VGG16", S32, legacy=True),
    Spec("vgg19_notop", "vgg19", "VGG19", {**N32, "pooling": "max"}),
    Spec("resnet50", "resnet", "ResNet50", S32, legacy=True),
    Spec("resnet50v2", "resnet_v2", "ResNet50V2", {**N32, "pooling": "avg"}),
    Spec("densenet121", "densenet", "DenseNet121", S32, legacy=True),
    # ConvNeXt's blocks, nested Sequential stem/downsampling and head at a small width
    Spec("convnext_small_cfg", "src:convnext", "ConvNeXt",
         {"depths": [1, 2, 1, 1], "projection_dims": [8, 16, 24, 32], "drop_path_rate": 0.1,
          "name": "convnext_mini", **S32}, legacy=True),
    Spec("mobilenet", "mobilenet", "MobileNet", {**S32, "alpha": 0.5}, legacy=True),
    Spec("mobilenetv2", "mobilenet_v2", "MobileNetV2", {**S32, "alpha": 0.35}, legacy=True),
    Spec("efficientnetb0", "efficientnet", "EfficientNetB0", S32, legacy=True),
    Spec("efficientnetv2b0", "efficientnet_v2", "EfficientNetV2B0",
         {**S32, "classifier_activation": None}, legacy=True),
    # hard-swish and squeeze-excite blocks (Large), then the minimalistic ones with the top
    Spec("mobilenetv3large", "", "MobileNetV3Large", {**N32, "alpha": 0.75, "pooling": "avg"}),
    Spec("mobilenetv3small_min", "", "MobileNetV3Small",
         {**S32, "classes": 5, "minimalistic": True, "alpha": 0.75}, legacy=True),
    Spec("xception", "xception", "Xception", {"input_shape": (71, 71, 3),
                                               "include_top": False, "pooling": "avg"},
         batch=1),
    Spec("inceptionv3", "inception_v3", "InceptionV3", {"input_shape": (75, 75, 3),
                                                        "classes": 7}, legacy=True, batch=1),
    # NASNet's cells at a small width and depth through its generic builder (Keras 3.15
    # refuses NASNetMobile on its torch backend; test_structure checks both full models):
    # NASNetMobile's path (skip_reduction=False) with the top, NASNetLarge's without
    Spec("nasnet_mobile_cfg", "src:nasnet", "NASNet",
         {"penultimate_filters": 192, "num_blocks": 2, "stem_block_filters": 8,
          "skip_reduction": False, "default_size": 224, "name": "nasnet_mini", **S32},
         legacy=True),
    Spec("nasnet_large_cfg", "src:nasnet", "NASNet",
         {"penultimate_filters": 192, "num_blocks": 1, "stem_block_filters": 16,
          "skip_reduction": True, "name": "nasnet_mini_large", **N32, "pooling": "avg"}),
]
if RUN_HEAVY:
    SPECS += [
        Spec("inception_resnet_v2", "inception_resnet_v2", "InceptionResNetV2",
             {"input_shape": (75, 75, 3), "include_top": False}, batch=1),
        # the S/M/L stage tables and their preprocessing branch
        Spec("efficientnetv2s", "efficientnet_v2", "EfficientNetV2S", N32, batch=1),
    ]


@needs_keras
def test_every_family_same_as_keras(tmp_path):
    folder = str(tmp_path)
    nd_out = run(SPECS, folder)
    failures = []
    for spec in SPECS:
        try:
            check(spec, folder, nd_out)
        except AssertionError as e:
            failures.append(f"{spec.key}: {e}")
    assert not failures, "differences from Keras:\n" + "\n".join(failures)

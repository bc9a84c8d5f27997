"""Every application variant the structure test compares with Keras: key -> (module, function,
keyword arguments besides weights=None); module "" means `keras.applications` itself (Keras
exports MobileNetV3 only there). Small inputs and class counts keep builds quick; the layer
names, classes and weight shapes of the body do not depend on them."""

T32 = {"input_shape": (32, 32, 3), "classes": 10}
N32 = {"include_top": False, "input_shape": (32, 32, 3)}

VARIANTS = {
    "VGG16": ("vgg16", "VGG16", T32),
    "VGG19": ("vgg19", "VGG19", T32),
    "ResNet50": ("resnet", "ResNet50", T32),
    "ResNet101": ("resnet", "ResNet101", N32),
    "ResNet152": ("resnet", "ResNet152", N32),
    "ResNet50V2": ("resnet_v2", "ResNet50V2", T32),
    "ResNet101V2": ("resnet_v2", "ResNet101V2", N32),
    "ResNet152V2": ("resnet_v2", "ResNet152V2", N32),
    "MobileNet": ("mobilenet", "MobileNet", T32),
    "MobileNet_a025": ("mobilenet", "MobileNet", {**N32, "alpha": 0.25, "depth_multiplier": 2}),
    "MobileNetV2": ("mobilenet_v2", "MobileNetV2", T32),
    "MobileNetV2_a035": ("mobilenet_v2", "MobileNetV2", {**N32, "alpha": 0.35}),
    "MobileNetV2_a14": ("mobilenet_v2", "MobileNetV2", {**N32, "alpha": 1.4}),
    "DenseNet121": ("densenet", "DenseNet121", T32),
    "DenseNet169": ("densenet", "DenseNet169", N32),
    "DenseNet201": ("densenet", "DenseNet201", N32),
    **{f"EfficientNetB{i}": ("efficientnet", f"EfficientNetB{i}", T32 if i == 0 else N32)
       for i in range(8)},
    "MobileNetV3Small": ("", "MobileNetV3Small", T32),
    "MobileNetV3Small_min": ("", "MobileNetV3Small",
                             {**N32, "minimalistic": True, "alpha": 0.75}),
    "MobileNetV3Large": ("", "MobileNetV3Large", T32),
    "MobileNetV3Large_min": ("", "MobileNetV3Large",
                             {**N32, "minimalistic": True, "include_preprocessing": False}),
    "NASNetMobile": ("nasnet", "NASNetMobile", T32),
    "NASNetMobile_notop": ("nasnet", "NASNetMobile", {**N32, "pooling": "max"}),
    "NASNetLarge": ("nasnet", "NASNetLarge", N32),
    "Xception": ("xception", "Xception", {"input_shape": (71, 71, 3), "classes": 10}),
    "InceptionV3": ("inception_v3", "InceptionV3", {"input_shape": (75, 75, 3), "classes": 10}),
    "InceptionResNetV2": ("inception_resnet_v2", "InceptionResNetV2",
                          {"input_shape": (75, 75, 3), "classes": 10}),
    "ConvNeXtTiny": ("convnext", "ConvNeXtTiny", T32),
    "ConvNeXtSmall": ("convnext", "ConvNeXtSmall", {**N32, "pooling": "avg"}),
    "ConvNeXtBase": ("convnext", "ConvNeXtBase", N32),
    "ConvNeXtLarge": ("convnext", "ConvNeXtLarge", {**N32, "include_preprocessing": False}),
    "ConvNeXtXLarge": ("convnext", "ConvNeXtXLarge", N32),
    **{f"EfficientNetV2{s}": ("efficientnet_v2", f"EfficientNetV2{s}",
                              T32 if s == "B0" else N32)
       for s in ("B0", "B1", "B2", "B3", "S", "M", "L")},
}

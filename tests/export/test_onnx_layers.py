"""Every exportable Keras layer, exported to ONNX and run in onnxruntime: same outputs as
ndflow's predict for several batch sizes from one file (issue 14)."""

from __future__ import annotations

import pytest

from ndflow import keras
from ndflow.keras import layers as L
from ndflow.keras.layers.layer import Layer
from tests.export.onnx_harness import assert_matches

F = "float32"

# name -> (factory, [(input shape without batch, dtype)], optional wrapper around the layer)
CASES: dict = {
    "Activation": (lambda: L.Activation("swish"), [((6,), F)]),
    "ActivityRegularization": (lambda: L.ActivityRegularization(0.1), [((6,), F)]),
    "Add": (lambda: L.Add(), [((6,), F), ((6,), F)]),
    "AdditiveAttention": (lambda: L.AdditiveAttention(), [((3, 4), F), ((5, 4), F)]),
    "Attention": (lambda: L.Attention(), [((3, 4), F), ((5, 4), F)]),
    "Average": (lambda: L.Average(), [((6,), F), ((6,), F)]),
    "AveragePooling1D": (lambda: L.AveragePooling1D(2, padding="same"), [((7, 3), F)]),
    "AveragePooling2D": (lambda: L.AveragePooling2D(2, padding="same"), [((5, 5, 2), F)]),
    "AveragePooling3D": (lambda: L.AveragePooling3D(2), [((4, 4, 4, 2), F)]),
    "BatchNormalization": (lambda: L.BatchNormalization(), [((4, 3), F)]),
    "Bidirectional": (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True)),
                      [((4, 5), F)]),
    "CenterCrop": (lambda: L.CenterCrop(3, 4), [((6, 6, 2), F)]),
    "Concatenate": (lambda: L.Concatenate(), [((3,), F), ((4,), F)]),
    "Conv1D": (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2), [((9, 3), F)]),
    "Conv1DTranspose": (lambda: L.Conv1DTranspose(3, 3, strides=2), [((5, 2), F)]),
    "Conv2D": (lambda: L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
               [((7, 7, 3), F)]),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"),
                        [((4, 4, 2), F)]),
    "Conv3D": (lambda: L.Conv3D(2, 2), [((4, 4, 4, 2), F)]),
    "Conv3DTranspose": (lambda: L.Conv3DTranspose(2, 2, strides=2), [((3, 3, 3, 2), F)]),
    "ConvLSTM1D": (lambda: L.ConvLSTM1D(2, 3, padding="same"), [((3, 5, 2), F)]),
    "ConvLSTM2D": (lambda: L.ConvLSTM2D(2, 3), [((2, 5, 5, 1), F)]),
    "ConvLSTM3D": (lambda: L.ConvLSTM3D(1, 2), [((2, 3, 3, 3, 1), F)]),
    "Cropping1D": (lambda: L.Cropping1D((1, 2)), [((7, 3), F)]),
    "Cropping2D": (lambda: L.Cropping2D(((1, 0), (2, 1))), [((6, 6, 2), F)]),
    "Cropping3D": (lambda: L.Cropping3D(1), [((4, 4, 4, 1), F)]),
    "Dense": (lambda: L.Dense(5, activation="relu"), [((6,), F)]),
    "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, depth_multiplier=2), [((8, 3), F)]),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, padding="same"), [((6, 6, 3), F)]),
    "Dot": (lambda: L.Dot(axes=1, normalize=True), [((6,), F), ((6,), F)]),
    "Dropout": (lambda: L.Dropout(0.5), [((6,), F)]),
    "ELU": (lambda: L.ELU(0.7), [((6,), F)]),
    "EinsumDense": (lambda: L.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d"),
                    [((3, 5), F)]),
    "Embedding": (lambda: L.Embedding(10, 4), [((6,), "int32")]),
    "Flatten": (lambda: L.Flatten(), [((3, 4, 2), F)]),
    "GRU": (lambda: L.GRU(4, return_sequences=True), [((5, 3), F)]),
    "GaussianDropout": (lambda: L.GaussianDropout(0.3), [((6,), F)]),
    "GaussianNoise": (lambda: L.GaussianNoise(0.3), [((6,), F)]),
    "GlobalAveragePooling1D": (lambda: L.GlobalAveragePooling1D(), [((5, 3), F)]),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(keepdims=True),
                               [((4, 4, 3), F)]),
    "GlobalAveragePooling3D": (lambda: L.GlobalAveragePooling3D(), [((3, 3, 3, 2), F)]),
    "GlobalMaxPooling1D": (lambda: L.GlobalMaxPooling1D(), [((5, 3), F)]),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), [((4, 4, 3), F)]),
    "GlobalMaxPooling3D": (lambda: L.GlobalMaxPooling3D(), [((3, 3, 3, 2), F)]),
    "GroupQueryAttention": (lambda: L.GroupQueryAttention(4, 4, 2), [((3, 8), F), ((3, 8), F)]),
    "Identity": (lambda: L.Identity(), [((6,), F)]),
    "LSTM": (lambda: L.LSTM(4), [((5, 3), F)]),
    "LayerNormalization": (lambda: L.LayerNormalization(), [((4, 6), F)]),
    "LeakyReLU": (lambda: L.LeakyReLU(0.1), [((6,), F)]),
    "Masking": (lambda: L.Masking(0.0), [((4, 3), F)]),
    "MaxPooling1D": (lambda: L.MaxPooling1D(2), [((7, 3), F)]),
    "MaxPooling2D": (lambda: L.MaxPooling2D(3, strides=2, padding="same"), [((7, 7, 2), F)]),
    "MaxPooling3D": (lambda: L.MaxPooling3D(2), [((4, 4, 4, 1), F)]),
    "Maximum": (lambda: L.Maximum(), [((6,), F), ((6,), F)]),
    "Minimum": (lambda: L.Minimum(), [((6,), F), ((6,), F)]),
    "MultiHeadAttention": (lambda: L.MultiHeadAttention(2, 3), [((4, 6), F), ((5, 6), F)]),
    "Multiply": (lambda: L.Multiply(), [((6,), F), ((6,), F)]),
    "Normalization": (lambda: L.Normalization(mean=0.5, variance=2.0), [((6,), F)]),
    "PReLU": (lambda: L.PReLU(alpha_initializer="random_normal"), [((6,), F)]),
    "Permute": (lambda: L.Permute((2, 1)), [((3, 4), F)]),
    "RNN": (lambda: L.RNN(L.SimpleRNNCell(3)), [((4, 2), F)]),
    "RandomBrightness": (lambda: L.RandomBrightness(0.2), [((4, 4, 3), F)]),
    "RandomContrast": (lambda: L.RandomContrast(0.2), [((4, 4, 3), F)]),
    "RandomCrop": (lambda: L.RandomCrop(3, 3), [((5, 5, 2), F)]),
    "RandomFlip": (lambda: L.RandomFlip(), [((4, 4, 3), F)]),
    "RandomRotation": (lambda: L.RandomRotation(0.2), [((4, 4, 3), F)]),
    "RandomTranslation": (lambda: L.RandomTranslation(0.2, 0.2), [((4, 4, 3), F)]),
    "RandomZoom": (lambda: L.RandomZoom(0.2), [((4, 4, 3), F)]),
    "ReLU": (lambda: L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), [((6,), F)]),
    "RepeatVector": (lambda: L.RepeatVector(3), [((4,), F)]),
    "Rescaling": (lambda: L.Rescaling(1 / 255, offset=-1), [((6,), F)]),
    "Reshape": (lambda: L.Reshape((2, -1)), [((6,), F)]),
    "Resizing": (lambda: L.Resizing(3, 3, interpolation="nearest"), [((6, 6, 2), F)]),
    "SeparableConv1D": (lambda: L.SeparableConv1D(4, 3), [((7, 3), F)]),
    "SeparableConv2D": (lambda: L.SeparableConv2D(4, 3, padding="same"), [((5, 5, 2), F)]),
    "SimpleRNN": (lambda: L.SimpleRNN(4, return_sequences=True, go_backwards=True),
                  [((5, 3), F)]),
    "Softmax": (lambda: L.Softmax(), [((6,), F)]),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.5), [((4, 3), F)]),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.5), [((4, 4, 3), F)]),
    "SpatialDropout3D": (lambda: L.SpatialDropout3D(0.5), [((3, 3, 3, 2), F)]),
    "Subtract": (lambda: L.Subtract(), [((6,), F), ((6,), F)]),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(3)), [((4, 5), F)]),
    "UnitNormalization": (lambda: L.UnitNormalization(), [((6,), F)]),
    "UpSampling1D": (lambda: L.UpSampling1D(2), [((4, 3), F)]),
    "UpSampling2D": (lambda: L.UpSampling2D(2), [((3, 3, 2), F)]),
    "UpSampling3D": (lambda: L.UpSampling3D(2), [((2, 2, 2, 1), F)]),
    "ZeroPadding1D": (lambda: L.ZeroPadding1D(2), [((4, 3), F)]),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 2), (0, 1))), [((3, 3, 2), F)]),
    "ZeroPadding3D": (lambda: L.ZeroPadding3D(1), [((2, 2, 2, 1), F)]),
}

# Layers that are not part of an exportable inference graph, and why.
NOT_EXPORTED = {
    "Layer": "the abstract base class",
    "InputLayer": "an input placeholder (covered by every case)",
    "Lambda": "runs arbitrary Python code; exports when its ops do (see the function tests)",
    "GRUCell": "a cell, exported through RNN/GRU", "LSTMCell": "a cell, exported through RNN",
    "SimpleRNNCell": "a cell, exported through RNN",
    "StackedRNNCells": "cells, exported through RNN",
    "StringLookup": "string tensors: ONNX runtimes in scope have no string ops here",
    "TextVectorization": "string tensors", "Hashing": "string hashing has no ONNX op",
    "HashedCrossing": "string hashing has no ONNX op",
    "IntegerLookup": "a hash-table lookup (preprocessing, runs before the model)",
    "CategoryEncoding": "preprocessing (counts per example), runs before the model",
    "Discretization": "preprocessing (bucketize), runs before the model",
    # #16's augmentation layers run their kernels on the host (numpy_function); the random ones
    # are the identity at inference, the others (AutoContrast, CLAHE, MaxNumBoundingBoxes) have
    # no ONNX lowering yet
    **dict.fromkeys([
        "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix",
        "Equalization", "MaxNumBoundingBoxes", "MixUp", "RandAugment",
        "RandomColorDegeneration", "RandomColorJitter", "RandomElasticTransform",
        "RandomErasing", "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
        "RandomPerspective", "RandomPosterization", "RandomSaturation", "RandomSharpness",
        "RandomShear", "Solarization"], "image augmentation on the host (numpy_function)"),
}
ALIASES = {"AvgPool1D", "AvgPool2D", "AvgPool3D", "Convolution1D", "Convolution2D",
           "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
           "GlobalMaxPool2D", "GlobalMaxPool3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "SeparableConvolution1D", "SeparableConvolution2D"}


def test_every_layer_is_classified():
    public = {n for n in dir(L) if isinstance(getattr(L, n), type)
              and issubclass(getattr(L, n), Layer)}
    missing = public - set(CASES) - set(NOT_EXPORTED) - ALIASES
    assert not missing, f"layers neither tested for ONNX export nor listed as not exported: " \
                        f"{sorted(missing)}"


def _model(name: str):
    factory, inputs = CASES[name]
    ins = [keras.Input(s, dtype=dt) for s, dt in inputs]
    layer = factory()
    if name in ("MultiHeadAttention", "GroupQueryAttention"):
        out = layer(ins[0], ins[1])
    else:
        out = layer(ins if len(ins) > 1 else ins[0])
    return keras.Model(ins, out), inputs


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_exports(name, tmp_path):
    model, inputs = _model(name)
    assert_matches(model, tmp_path / f"{name}.onnx", inputs, high=10)

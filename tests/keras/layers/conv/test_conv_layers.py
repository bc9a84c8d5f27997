"""Convolution layers: the shared harness, Keras weight layouts and parameter counts, values
against PyTorch, causal padding, errors that name the layer."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from ndflow.keras.layers.layer import clear_session
from tests.keras.layers.harness import run_layer_test

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(11)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,weights", [
    (layers.Conv1D, {"filters": 4, "kernel_size": 3}, (2, 9, 3), (2, 7, 4),
     [("kernel", (3, 3, 4)), ("bias", (4,))]),
    (layers.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
     (2, 9, 3), (2, 9, 4), [("kernel", (3, 3, 4)), ("bias", (4,))]),
    (layers.Conv2D, {"filters": 6, "kernel_size": (3, 2), "strides": 2, "padding": "same",
                     "groups": 3, "activation": "relu"}, (2, 7, 8, 3), (2, 4, 4, 6),
     [("kernel", (3, 2, 1, 6)), ("bias", (6,))]),
    (layers.Conv2D, {"filters": 4, "kernel_size": 3, "data_format": "channels_first",
                     "use_bias": False}, (2, 3, 6, 6), (2, 4, 4, 4), [("kernel", (3, 3, 3, 4))]),
    (layers.Conv3D, {"filters": 2, "kernel_size": 2, "activation": "tanh"}, (1, 4, 4, 4, 3),
     (1, 3, 3, 3, 2), [("kernel", (2, 2, 2, 3, 2)), ("bias", (2,))]),
    (layers.Conv1DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2}, (2, 5, 3),
     (2, 11, 4), [("kernel", (3, 4, 3)), ("bias", (4,))]),
    (layers.Conv2DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 4, 5, 3), (2, 8, 10, 4), [("kernel", (3, 3, 4, 3)), ("bias", (4,))]),
    (layers.Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                              "output_padding": 0}, (1, 4, 4, 3), (1, 7, 7, 2),
     [("kernel", (3, 3, 2, 3)), ("bias", (2,))]),
    (layers.Conv3DTranspose, {"filters": 2, "kernel_size": 2, "strides": 2,
                              "data_format": "channels_first"}, (1, 3, 2, 2, 2),
     (1, 2, 4, 4, 4), [("kernel", (2, 2, 2, 2, 3)), ("bias", (2,))]),
    (layers.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 7, 3), (2, 5, 6),
     [("kernel", (3, 3, 2)), ("bias", (6,))]),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "padding": "same", "activation": "relu"},
     (2, 5, 5, 4), (2, 5, 5, 4), [("kernel", (3, 3, 4, 1)), ("bias", (4,))]),
    (layers.SeparableConv1D, {"filters": 5, "kernel_size": 3}, (2, 8, 3), (2, 6, 5),
     [("depthwise_kernel", (3, 3, 1)), ("pointwise_kernel", (1, 3, 5)), ("bias", (5,))]),
    (layers.SeparableConv2D, {"filters": 5, "kernel_size": 3, "depth_multiplier": 2,
                              "strides": 2}, (2, 7, 7, 3), (2, 3, 3, 5),
     [("depthwise_kernel", (3, 3, 3, 2)), ("pointwise_kernel", (1, 1, 6, 5)), ("bias", (5,))]),
])
def test_harness(cls, kwargs, in_shape, out_shape, weights):
    cf = kwargs.get("data_format") == "channels_first"
    wrong = list(in_shape)
    wrong[1 if cf else -1] += 1
    run_layer_test(cls, kwargs, in_shape, out_shape,
                   expected_num_trainable_weights=len(weights), expected_weights=weights,
                   wrong_input_shape=tuple(wrong))


def test_parameter_counts_match_keras():
    clear_session()
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.SeparableConv2D(16, 3, padding="same"),
        layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.Conv2DTranspose(8, 3, strides=2),
        layers.GlobalAveragePooling2D(),
    ])
    counts = [int(sum(np.prod(w.shape) for w in lyr.weights)) for lyr in model.layers]
    # Keras: 320, 0, 18496, 3*3*64 + 64*16 + 16, 3*3*16*2 + 32, 3*3*8*32 + 8, 0
    assert counts == [320, 0, 18496, 1616, 320, 2312, 0]
    assert [lyr.name for lyr in model.layers[:3]] == ["conv2d", "max_pooling2d", "conv2d_1"]


def _torch_weight(k):  # (*ks, ci, co) -> (co, ci, *ks)
    return torch.tensor(np.moveaxis(np.moveaxis(k, -1, 0), -1, 1).copy())


def test_conv2d_layer_matches_torch_forward_and_grads():
    layer = layers.Conv2D(5, 3, strides=(1, 2), padding="same", activation="relu",
                          dtype="float64")
    x = RNG.standard_normal((2, 6, 7, 3))
    layer.build(x.shape)
    layer.bias.assign(RNG.standard_normal(5))
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_sum(y * y)
    gk, gb = tape.gradient(loss, [layer.kernel, layer.bias])
    wt = _torch_weight(layer.kernel.numpy()).requires_grad_()
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    xt = F.pad(torch.tensor(x).permute(0, 3, 1, 2), (1, 1, 1, 1))  # TF SAME pads here
    yt = F.relu(F.conv2d(xt, wt, bt, stride=(1, 2)))
    (yt * yt).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().permute(0, 2, 3, 1).numpy(), atol=1e-10)
    np.testing.assert_allclose(gk.numpy(), np.moveaxis(np.moveaxis(wt.grad.numpy(), 0, -1), 0,
                                                       -2), atol=1e-9)
    np.testing.assert_allclose(gb.numpy(), bt.grad.numpy(), atol=1e-9)


def test_conv1d_causal_sees_no_future():
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = RNG.standard_normal((1, 10, 2)).astype("float32")
    y1 = layer(x).numpy()
    x2 = x.copy()
    x2[0, 6:] += 5.0
    y2 = layer(x2).numpy()
    np.testing.assert_allclose(y1[0, :6], y2[0, :6], atol=1e-6)
    assert not np.allclose(y1[0, 6:], y2[0, 6:])


def test_conv_transpose_layer_matches_torch():
    layer = layers.Conv2DTranspose(3, (3, 2), strides=(2, 3), padding="valid", dtype="float64")
    x = RNG.standard_normal((2, 4, 3, 5))
    y = layer(x).numpy()
    wt = torch.tensor(layer.kernel.numpy().transpose(3, 2, 0, 1).copy())  # (in, out, kh, kw)
    yt = F.conv_transpose2d(torch.tensor(x).permute(0, 3, 1, 2), wt,
                            torch.tensor(layer.bias.numpy()), stride=(2, 3))
    # Keras's "valid" length is in * stride + max(k - stride, 0): 9 columns here, torch's 8;
    # the extra column sees no input (bias only)
    assert y.shape == (2, 9, 9, 3)
    np.testing.assert_allclose(y[:, :, :8], yt.permute(0, 2, 3, 1).numpy(), atol=1e-10)
    np.testing.assert_allclose(y[:, :, 8], np.broadcast_to(layer.bias.numpy(), (2, 9, 3)))
    # output_padding follows torch's (padding = kernel // 2 for "same")
    layer = layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1,
                                   dtype="float64")
    y = layer(x).numpy()
    yt = F.conv_transpose2d(torch.tensor(x).permute(0, 3, 1, 2),
                            torch.tensor(layer.kernel.numpy().transpose(3, 2, 0, 1).copy()),
                            torch.tensor(layer.bias.numpy()), stride=2, padding=1,
                            output_padding=1)
    np.testing.assert_allclose(y, yt.permute(0, 2, 3, 1).numpy(), atol=1e-10)


def test_separable_equals_depthwise_then_pointwise():
    sep = layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same", dtype="float64")
    x = RNG.standard_normal((2, 5, 6, 3))
    y = sep(x).numpy()
    d = tf.nn.depthwise_conv2d(x, sep.depthwise_kernel, [1, 1, 1, 1], "SAME")
    ref = tf.nn.conv2d(d, sep.pointwise_kernel, 1, "VALID").numpy() + sep.bias.numpy()
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_errors_name_the_layer():
    layer = layers.Conv2D(4, 5, name="my_conv")
    with pytest.raises(ValueError, match=r"my_conv.*kernel extent 5.*\[3, 3\]"):
        layer(np.zeros((1, 3, 3, 2), "float32"))
    layer = layers.Conv2D(4, 3, name="conv_c")
    layer(np.zeros((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match=r"conv_c.*axis -1.*value 2.*\(1, 5, 5, 3\)"):
        layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"conv_c.*expected ndim=4, found ndim=3"):
        layer(np.zeros((5, 5, 2), "float32"))
    with pytest.raises(ValueError, match="Conv2D: expected filters divisible by groups"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(5, 3, padding="causal")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(5, (3, 3, 3))
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_g.*divisible by groups=2.*3"):
        layers.Conv2D(4, 3, groups=2, name="conv_g")(np.zeros((1, 5, 5, 3), "float32"))


def test_symbolic_functional_model_and_summary():
    inp = keras.Input((None, 4))
    y = layers.Conv1D(8, 3, padding="same")(inp)
    y = layers.GlobalMaxPooling1D()(y)
    assert tuple(y.shape) == (None, 8)
    model = keras.Model(inp, y)
    out = model(np.ones((2, 11, 4), "float32"))
    assert tuple(out.shape) == (2, 8)

"""Dense, Embedding, Identity, Lambda: the harness plus value and gradient checks against
PyTorch / NumPy, and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test


# --- Dense ---------------------------------------------------------------------------------------
def test_dense_harness():
    run_layer_test(layers.Dense, {"units": 4, "activation": "relu"}, (3, 5), (3, 4),
                   expected_num_trainable_weights=2,
                   expected_weights=[("kernel", (5, 4)), ("bias", (4,))],
                   supports_masking=True, input_mask=np.array([True, False, True]),
                   expected_output_mask=np.array([True, False, True]),
                   wrong_input_shape=(3, 6))


@pytest.mark.parametrize("kwargs", [
    {"units": 3},
    {"units": 3, "use_bias": False},
    {"units": 3, "activation": "tanh"},
    {"units": 3, "use_bias": False, "activation": "relu"},
    {"units": 3, "activation": "softmax", "kernel_regularizer": "l2",
     "bias_regularizer": {"class_name": "L1", "config": {"l1": 0.1}},
     "kernel_constraint": "max_norm", "activity_regularizer": "l1"},
])
def test_dense_variants_harness(kwargs):
    nw = 1 if kwargs.get("use_bias") is False else 2
    nloss = 2 if "kernel_regularizer" in kwargs else 0
    run_layer_test(layers.Dense, kwargs, (8, 4), (8, 3), expected_num_trainable_weights=nw,
                   expected_num_losses=nloss + (1 if "activity_regularizer" in kwargs else 0),
                   supports_masking=True)


def test_dense_rank3_harness():
    run_layer_test(layers.Dense, {"units": 2}, (2, 3, 4), (2, 3, 2),
                   expected_num_trainable_weights=2,
                   expected_weights=[("kernel", (4, 2)), ("bias", (2,))], supports_masking=True)


@pytest.mark.parametrize("activation,torch_fn", [
    (None, lambda z: z), ("relu", torch.relu), ("sigmoid", torch.sigmoid),
    ("tanh", torch.tanh), ("softmax", lambda z: torch.softmax(z, -1)),
])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)])
def test_dense_matches_torch(activation, torch_fn, shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype("float32")
    layer = layers.Dense(4, activation=activation)
    layer.build(shape)
    w = rng.standard_normal((5, 4)).astype("float32")
    b = rng.standard_normal(4).astype("float32")
    layer.set_weights([w, b])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        loss = tf.reduce_sum(y * tf.constant(rng.standard_normal(y.shape).astype("float32")))
    gx, gw, gb = tape.gradient(loss, [xt, layer.kernel, layer.bias])

    rng = np.random.default_rng(1)
    rng.standard_normal(shape), rng.standard_normal((5, 4)), rng.standard_normal(4)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ty = torch_fn(tx @ tw + tb)
    coef = torch.tensor(rng.standard_normal(tuple(ty.shape)).astype("float32"))
    (ty * coef).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gw.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gb.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_dense_second_order_gradient():
    # d/dx of the gradient of sum(relu(x @ w + b)^2) flows through the fused op's grad rule
    x = tf.Variable(np.array([[0.5, -1.0]], "float32"))
    layer = layers.Dense(1, kernel_initializer="ones", bias_initializer="ones")
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(tf.square(layer(x)))
        g = inner.gradient(y, x)
        s = tf.reduce_sum(g)
    gg = outer.gradient(s, x)
    # y = (x0 + x1 + 1)^2 -> dy/dxi = 2(x0+x1+1); sum = 4(x0+x1+1); d/dxi = 4
    np.testing.assert_allclose(gg.numpy(), [[4.0, 4.0]])


def test_dense_int_and_float64_inputs_are_cast():
    layer = layers.Dense(2, kernel_initializer="ones")
    assert layer(np.array([[1, 2]])).dtype == tf.float32
    assert layer(np.array([[1.0, 2.0]], "float64")).dtype == tf.float32


def test_dense_bad_arguments_and_input():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(2.5)
    with pytest.raises(ValueError, match="Could not interpret|unknown activation"):
        layers.Dense(2, activation="relux")
    layer = layers.Dense(2, name="my_dense")
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError) as e:
        layer(np.ones((1, 4), "float32"))
    msg = str(e.value)
    assert "my_dense" in msg and "3" in msg and "(1, 4)" in msg


def test_dense_regularizer_and_constraint_values():
    layer = layers.Dense(2, kernel_initializer="ones",
                         kernel_regularizer=keras.regularizers.L2(0.5),
                         kernel_constraint=keras.constraints.NonNeg())
    layer(np.ones((1, 3), "float32"))
    assert float(layer.losses[0]) == pytest.approx(0.5 * 6)
    assert layer.kernel.constraint is not None
    np.testing.assert_array_equal(layer.kernel.constraint(tf.constant([-1.0, 2.0])).numpy(),
                                  [0.0, 2.0])


# --- Embedding -----------------------------------------------------------------------------------
def test_embedding_harness():
    run_layer_test(layers.Embedding, {"input_dim": 10, "output_dim": 3}, (2, 4), (2, 4, 3),
                   expected_num_trainable_weights=1, expected_weights=[("embeddings", (10, 3))],
                   input_dtype="int32")


def test_embedding_mask_zero_harness():
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], "int32")
    layer = run_layer_test(layers.Embedding, {"input_dim": 5, "output_dim": 2, "mask_zero": True},
                           (2, 4), (2, 4, 2), expected_num_trainable_weights=1,
                           input_dtype="int32", input_data=x, supports_masking=True)
    out = layer(x)
    from ndflow.keras.layers.layer import get_keras_mask

    np.testing.assert_array_equal(get_keras_mask(out).numpy(), x != 0)
    # a downstream layer receives the mask
    seen = {}

    class Probe(layers.Layer):
        def call(self, inputs, mask=None):
            seen["mask"] = mask
            return inputs

    Probe()(out)
    np.testing.assert_array_equal(seen["mask"].numpy(), x != 0)


def test_embedding_matches_torch():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((7, 3)).astype("float32")
    ids = np.array([[1, 6, 1], [0, 2, 1]])
    layer = layers.Embedding(7, 3, weights=[table])
    with tf.GradientTape() as tape:
        y = layer(ids)
        loss = tf.reduce_sum(y * y)
    g = tape.gradient(loss, layer.embeddings)
    emb = torch.nn.Embedding(7, 3)
    emb.weight.data = torch.tensor(table)
    ty = emb(torch.tensor(ids))
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g), emb.weight.grad.numpy(), rtol=1e-5)


def test_embedding_bad_ids():
    layer = layers.Embedding(4, 2, name="emb")
    with pytest.raises(ValueError, match=r"emb.*\[0, 4\).*got an id of 4"):
        layer(np.array([[1, 4]]))
    with pytest.raises(ValueError, match="emb.*id of -1"):
        layer(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match="integer ids"):
        layer(np.array([[0.5, 1.0]], "float32"))
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 2)


# --- Identity and Lambda -------------------------------------------------------------------------
def test_identity_harness():
    run_layer_test(layers.Identity, {}, (2, 3), (2, 3), supports_masking=True,
                   input_mask=np.array([True, False]),
                   expected_output_mask=np.array([True, False]))


@keras.saving.register_keras_serializable(package="tests")
def _double(x):  # registered: a file may only name registered or built-in functions
    return x * 2.0


def test_lambda_harness_named_function():
    run_layer_test(layers.Lambda, {"function": _double}, (2, 3), (2, 3))
    layer = layers.Lambda(_double)
    np.testing.assert_allclose(layer(np.ones((1, 2), "float32")).numpy(), [[2.0, 2.0]])


def test_lambda_output_shape_and_arguments():
    layer = layers.Lambda(lambda x, k: tf.concat([x, x * k], axis=-1), arguments={"k": 3.0},
                          output_shape=(4,))
    x = keras.Input(shape=(2,))
    assert tuple(layer(x).shape) == (None, 4)
    np.testing.assert_allclose(layer(np.ones((1, 2), "float32")).numpy(), [[1, 1, 3, 3]])


def test_lambda_safe_mode():
    layer = layers.Lambda(lambda x: x + 1.0)
    config = layer.get_config()
    assert config["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    clone = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(clone(np.zeros((1,), "float32")).numpy(), [1.0])
    # a registered function is stored by its registered name and loads in safe mode
    cfg = layers.Lambda(_double).get_config()
    assert cfg["function"]["config"] == "tests>_double"
    assert layers.Lambda.from_config(cfg).function is _double
    # an unregistered named function is found only with safe_mode=False (never imported from
    # the module a file names in safe mode)
    cfg = layers.Lambda(_triple).get_config()
    assert cfg["function"]["module"] == __name__ and cfg["function"]["config"] == "_triple"
    with pytest.raises(ValueError, match="outside keras/ndflow"):
        layers.Lambda.from_config(cfg)
    assert layers.Lambda.from_config(cfg, safe_mode=False).function is _triple
    assert layers.Lambda.from_config(cfg, custom_objects={"_triple": _triple}).function \
        is _triple


def _triple(x):
    return x * 3.0


def test_lambda_passes_training_and_mask():
    seen = {}

    def fn(x, training=None):
        seen["training"] = training
        return x

    layers.Lambda(fn)(np.ones((1, 1), "float32"), training=True)
    assert seen["training"] is True


def test_configs_written_by_keras_load():
    # keys Keras 3 writes when LoRA / quantization are unset are accepted
    cfg = layers.Dense(3).get_config()
    cfg.update({"lora_rank": None, "lora_alpha": None, "quantization_config": None})
    assert layers.Dense.from_config(cfg).units == 3
    with pytest.raises(ValueError, match="lora_rank=4 is not supported"):
        layers.Dense(3, lora_rank=4)
    ecfg = layers.Embedding(5, 2).get_config()
    ecfg.update({"lora_rank": None, "input_length": None})
    assert layers.Embedding.from_config(ecfg).output_dim == 2
    bcfg = layers.BatchNormalization().get_config()
    bcfg.update({"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99})
    assert layers.BatchNormalization.from_config(bcfg).momentum == 0.99


def test_masking():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]],
                  [[0.0, 0.0], [5.0, 5.0], [0.0, 0.0]]], "float32")
    expect = np.array([[True, False, True], [False, True, False]])
    layer = run_layer_test(layers.Masking, {}, (2, 3, 2), (2, 3, 2), input_data=x,
                           supports_masking=True)
    from ndflow.keras.layers.layer import get_keras_mask

    y = layer(x)
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), expect)
    np.testing.assert_array_equal(y.numpy(), x * expect[..., None])
    m2 = layers.Masking(mask_value=5.0)(x)
    np.testing.assert_array_equal(get_keras_mask(m2).numpy(), [[True, True, True],
                                                              [True, False, True]])

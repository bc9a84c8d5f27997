"""The `Layer` base class: weights, build, call context, tracking, losses, config, errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.core.tensor import SymbolicTensor
from ndflow.keras import layers
from ndflow.keras.layers.layer import clear_session, get_keras_mask


class SimpleDense(keras.layers.Layer):
    """The book's chapter 3 layer."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.W = self.add_weight(shape=(input_dim, self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        y = tf.matmul(inputs, self.W) + self.b
        if self.activation is not None:
            y = self.activation(y)
        return y


def test_simple_dense_builds_on_first_call_and_computes_matmul():
    layer = SimpleDense(units=32, activation=tf.nn.relu)
    assert not layer.built and layer.weights == []
    x = np.random.default_rng(0).standard_normal((2, 784)).astype("float32")
    out = layer(x)
    assert layer.built
    assert out.shape == (2, 32)
    w, b = layer.get_weights()
    assert w.shape == (784, 32) and b.shape == (32,)
    np.testing.assert_allclose(out.numpy(), np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-5)
    assert layer.count_params() == 784 * 32 + 32


def test_unique_auto_names_and_paths():
    clear_session()
    a, b, c = SimpleDense(2), SimpleDense(2), layers.Dense(3)
    assert (a.name, b.name, c.name) == ("simple_dense", "simple_dense_1", "dense")
    a(np.ones((1, 4), "float32"))
    assert all(v.path.startswith("simple_dense/") for v in a.weights)
    named = SimpleDense(2, name="mine")
    assert named.name == "mine"


def test_add_weight_defaults_and_trainable_split():
    layer = keras.layers.Layer()
    w = layer.add_weight(shape=(3, 4), name="w")  # glorot_uniform by default for floats
    lim = np.sqrt(6 / (3 + 4))
    assert np.all(np.abs(w.numpy()) <= lim) and np.any(w.numpy() != 0)
    n = layer.add_weight(shape=(2,), initializer="ones", trainable=False, name="n")
    i = layer.add_weight(shape=(2,), dtype="int32", trainable=False, name="count")
    assert i.numpy().tolist() == [0, 0] and i.dtype == tf.int32
    assert layer.trainable_weights == [w]
    assert layer.non_trainable_weights == [n, i]
    assert [v.name for v in layer.weights] == ["w", "n", "count"]
    with pytest.raises(ValueError, match="fully"):
        layer.add_weight(shape=(None, 3), name="bad")


def test_unknown_kwargs_is_type_error_naming_the_layer():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to SimpleDense"):
        SimpleDense(3, unitz=4)


def test_input_spec_error_names_layer_axis_expected_and_got():
    layer = layers.Dense(4)
    layer(np.ones((2, 784), "float32"))
    with pytest.raises(ValueError) as e:
        layer(np.ones((2, 10), "float32"))
    msg = str(e.value)
    assert f"Input 0 of layer '{layer.name}' is incompatible with the layer" in msg
    assert "expected axis -1 of input shape to have value 784" in msg
    assert "(2, 10)" in msg


def test_call_errors_are_annotated_with_layer_and_arguments():
    class Broken(keras.layers.Layer):
        def call(self, x):
            return tf.matmul(x, tf.ones((3, 3)))

    with pytest.raises(Exception) as e:
        Broken(name="broken")(np.ones((2, 5), "float32"))
    assert "layer 'broken'" in str(e.value)
    assert "inputs=" in str(e.value) or "x=" in str(e.value)


def test_training_argument_propagates_to_nested_layers():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class NoTrainingArg(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x):
            return self.probe(x)

    outer = NoTrainingArg()
    x = np.ones((1, 2), "float32")
    outer(x, training=True)
    outer(x, training=False)
    outer(x)
    assert seen == [True, False, None]
    # an explicit value on the inner call wins over the context
    class Explicit(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x, training=None):
            return self.probe(x, training=False)

    seen.clear()
    Explicit()(x, training=True)
    assert seen == [False]


def test_training_default_from_call_signature():
    seen = []

    class DefaultTrue(keras.layers.Layer):
        def call(self, x, training=True):
            seen.append(training)
            return x

    DefaultTrue()(np.ones((1,), "float32"))
    assert seen == [True]


def test_nested_tracking_attributes_lists_dicts_and_freezing():
    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.first = layers.Dense(3)
            self.stack = [layers.Dense(3), layers.Dense(3)]
            self.named = {"head": layers.Dense(2)}
            self.scale = tf.Variable(2.0)

        def call(self, x):
            x = self.first(x)
            for layer in self.stack:
                x = layer(x)
            return self.named["head"](x) * self.scale

    block = Block()
    block(np.ones((4, 5), "float32"))
    assert len(block._layers) == 4
    assert len(block.weights) == 1 + 4 * 2
    assert len(block.trainable_weights) == 9
    block.stack[0].trainable = False
    assert len(block.trainable_weights) == 7
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 9
    assert not block.first.trainable
    block.trainable = True
    assert len(block.trainable_weights) == 9


def test_frozen_layer_is_not_updated_by_fit():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(1)])
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3)), np.zeros((8, 1)), verbose=0, epochs=2)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_add_loss_activity_and_weight_regularization():
    class WithLoss(keras.layers.Layer):
        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return x

    layer = WithLoss()
    layer(np.ones((2, 3), "float32"))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == 6.0
    layer(np.ones((1, 3), "float32"))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == 3.0  # cleared per call

    dense = layers.Dense(2, kernel_initializer="ones",
                         kernel_regularizer=keras.regularizers.L2(0.1),
                         activity_regularizer=keras.regularizers.L1(0.5))
    out = dense(np.ones((4, 3), "float32"))
    losses = sorted(float(v) for v in dense.losses)
    # weight: 0.1 * sum(1^2 over 3x2) = 0.6; activity: 0.5 * sum(|out|) / batch = 0.5*24/4 = 3
    np.testing.assert_allclose(losses, [0.6, 0.5 * float(np.abs(out.numpy()).sum()) / 4],
                               rtol=1e-6)


def test_get_set_weights_round_trip_and_errors():
    layer = layers.Dense(3)
    layer(np.ones((1, 2), "float32"))
    new = [np.full((2, 3), 0.5, "float32"), np.arange(3, dtype="float32")]
    layer.set_weights(new)
    np.testing.assert_array_equal(layer.get_weights()[1], new[1])
    with pytest.raises(ValueError, match="expected a list of 2 arrays"):
        layer.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"has shape \(2, 3\).*\(3, 3\)"):
        layer.set_weights([np.ones((3, 3)), np.ones(3)])


def test_count_params_unbuilt_is_clear_error():
    with pytest.raises(ValueError, match="isn't built"):
        layers.Dense(3).count_params()


def test_default_get_config_captures_plain_init_args_and_round_trips():
    class Scaled(keras.layers.Layer):
        def __init__(self, factor=2.0, sizes=(1, 2), **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    layer = Scaled(factor=3.0, name="scaled_x")
    config = layer.get_config()
    assert config["factor"] == 3.0 and config["name"] == "scaled_x"
    clone = Scaled.from_config(config)
    assert clone.factor == 3.0 and clone.name == "scaled_x"
    dense = layers.Dense(5, activation="relu")
    again = layers.Dense.from_config(dense.get_config())
    assert again.units == 5


def test_compute_output_shape_by_tracing_call_and_symbolic_call():
    layer = SimpleDense(7)
    assert layer.compute_output_shape((None, 3)) == (None, 7)
    x = keras.Input((3,))
    y = layer(x)
    assert isinstance(y, SymbolicTensor) and tuple(y.shape) == (None, 7)
    assert y._keras_history.operation is layer


def test_symbolic_call_does_not_compute():
    class Count(keras.layers.Layer):
        calls = 0

        def call(self, x):
            return tf.nn.relu(x) * 2.0

    layer = Count()
    out = layer(keras.Input((4,)))
    assert tuple(out.shape) == (None, 4)
    with pytest.raises(TypeError, match="no value"):
        out.numpy()


def test_masks_propagate_through_supporting_layers():
    class MakeMask(keras.layers.Layer):
        def call(self, x):
            return x

        def compute_mask(self, inputs, previous_mask=None):
            return tf.not_equal(inputs, 0.0)

    class UseMask(keras.layers.Layer):
        def call(self, x, mask=None):
            self.got = mask
            return x

    passthrough = layers.Dense(1)
    passthrough.supports_masking = True
    x = np.array([[1.0, 0.0, 2.0]], "float32")
    m = MakeMask()(x)
    assert get_keras_mask(m).numpy().tolist() == [[True, False, True]]
    user = UseMask()
    user(m)
    assert user.got.numpy().tolist() == [[True, False, True]]


def test_dtype_policy_and_autocast():
    layer = SimpleDense(2, dtype="float64")
    out = layer(np.ones((1, 3), "float32"))
    assert out.dtype == tf.float64 and layer.weights[0].dtype == tf.float64
    assert layer.compute_dtype == "float64"


def test_build_with_shape_only_for_subclass_without_build_creates_sublayers():
    class Wrapper(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = layers.Dense(4)

        def call(self, x):
            return self.inner(x)

    w = Wrapper()
    w.build((None, 6))
    assert w.built and w.inner.built and w.count_params() == 6 * 4 + 4


def test_super_build_call_in_subclass_is_fine():
    class Old(keras.layers.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            super().build(input_shape)

        def call(self, x):
            return x * self.k

    out = Old()(np.full((1, 2), 3.0, "float32"))
    assert out.numpy().tolist() == [[3.0, 3.0]]


def test_training_passed_positionally():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x, training=None):
            return self.probe(x, False)

    Outer()(np.ones((1,), "float32"), True)
    assert seen == [False]


@pytest.mark.skipif(not hasattr(tf, "function"), reason="ndflow.function not available")
def test_models_and_add_loss_inside_ndflow_function():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    traced = tf.function(lambda t: model(t, training=False))
    np.testing.assert_allclose(traced(tf.constant(x)).numpy(), model(x).numpy(), rtol=1e-6)
    a, b = keras.Input((4,)), keras.Input((4,))
    fmodel = keras.Model([a, b], layers.Add()([layers.Dense(4)(a), b]) * 2.0)
    traced2 = tf.function(lambda p, q: fmodel([p, q]))
    np.testing.assert_allclose(traced2(tf.constant(x), tf.constant(x)).numpy(),
                               fmodel([x, x]).numpy(), rtol=1e-6)

    class WithLoss(keras.layers.Layer):
        def call(self, t):
            self.add_loss(tf.reduce_sum(t))
            return t * 2.0

    layer = WithLoss()
    traced3 = tf.function(lambda t: (layer(t), layer.losses[0]))
    np.testing.assert_allclose(float(traced3(tf.constant(x))[1]), x.sum(), rtol=1e-5)

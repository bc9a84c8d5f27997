"""Sequential, Functional and subclassed models (book chapter 7's three styles)."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers

RNG = np.random.default_rng(0)


def _np_mlp(x, weights):
    w1, b1, w2, b2 = weights
    return np.maximum(x @ w1 + b1, 0) @ w2 + b2


def test_sequential_list_add_pop_and_deferred_build():
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10)])
    assert not model.built and model.weights == []
    x = RNG.standard_normal((3, 5)).astype("float32")
    out = model(x)
    assert model.built and out.shape == (3, 10)
    assert model.output_shape == (None, 10) and model.input_shape == (None, 5)
    np.testing.assert_allclose(out.numpy(), _np_mlp(x, model.get_weights()), rtol=1e-4,
                               atol=1e-5)

    m2 = keras.Sequential(name="my_example_model")
    m2.add(keras.Input(shape=(3,)))
    m2.add(layers.Dense(64, activation="relu", name="my_first_layer"))
    m2.add(layers.Dense(10, activation="softmax", name="my_last_layer"))
    assert m2.built and m2.output_shape == (None, 10)
    assert [layer.name for layer in m2.layers] == ["my_first_layer", "my_last_layer"]
    assert m2.count_params() == 3 * 64 + 64 + 64 * 10 + 10
    popped = m2.pop()
    assert popped.name == "my_last_layer" and m2.output_shape == (None, 64)
    m3 = keras.Sequential([layers.Dense(4, input_shape=(6,))])
    assert m3.built and m3.input_shape == (None, 6)


def test_sequential_rejects_non_layers_and_bad_input_shape():
    with pytest.raises(TypeError, match="only instances of keras.layers.Layer"):
        keras.Sequential([layers.Dense(2), "dense"])
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10)])
    with pytest.raises(ValueError) as e:
        model(np.ones((32, 10), "float32"))
    assert f"layer '{model.name}'" in str(e.value)
    assert "expected shape=(None, 784), found shape=(32, 10)" in str(e.value)


def test_functional_multi_input_multi_output_lists_and_dicts():
    title = keras.Input(shape=(20,), name="title")
    body = keras.Input(shape=(20,), name="text_body")
    tags = keras.Input(shape=(5,), name="tags")
    features = layers.Concatenate()([title, body, tags])
    features = layers.Dense(16, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(3, activation="softmax", name="department")(features)
    model = keras.Model(inputs=[title, body, tags], outputs=[priority, department])
    assert model.output_names == ["priority", "department"]
    assert model.input_names == ["title", "text_body", "tags"]
    data = [RNG.random((4, 20)).astype("float32"), RNG.random((4, 20)).astype("float32"),
            RNG.random((4, 5)).astype("float32")]
    p, d = model(data)
    assert p.shape == (4, 1) and d.shape == (4, 3)
    # dict inputs by Input name give the same result
    p2, d2 = model({"title": data[0], "text_body": data[1], "tags": data[2]})
    np.testing.assert_allclose(p.numpy(), p2.numpy())
    # check the numbers against NumPy
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    dense_name = [n for n in w if n not in ("priority", "department")][0]
    h = np.maximum(np.concatenate(data, 1) @ w[dense_name][0] + w[dense_name][1], 0)
    np.testing.assert_allclose(p.numpy(), 1 / (1 + np.exp(-(h @ w["priority"][0] +
                                                             w["priority"][1]))), rtol=1e-5)
    # dict outputs
    dmodel = keras.Model({"t": title, "b": body, "g": tags}, {"p": priority, "d": department})
    out = dmodel({"t": data[0], "b": data[1], "g": data[2]})
    assert set(out) == {"p", "d"}
    np.testing.assert_allclose(out["d"].numpy(), d.numpy(), rtol=1e-6)
    # reuse intermediate outputs to extend the model
    difficulty = layers.Dense(3, activation="softmax", name="difficulty")(model.layers[4].output)
    new_model = keras.Model([title, body, tags], [priority, department, difficulty])
    assert new_model.output_shape == [(None, 1), (None, 3), (None, 3)]
    assert new_model.get_layer("difficulty").name == "difficulty"
    assert new_model.get_layer(index=0).name == "title"
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        new_model.get_layer("nope")


def test_shared_layers_and_nested_models():
    shared = layers.Dense(4, name="shared")
    a = keras.Input((3,))
    b = keras.Input((3,))
    model = keras.Model([a, b], layers.Add()([shared(a), shared(b)]))
    assert len(model.weights) == 2 and len(shared._inbound_nodes) == 2
    xa, xb = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    k, bias = shared.get_weights()
    np.testing.assert_allclose(model([xa, xb]).numpy(), xa @ k + xb @ k + 2 * bias, rtol=1e-5)

    inner = keras.Sequential([keras.Input((3,)), layers.Dense(5), layers.Dense(2)])
    x = keras.Input((3,))
    outer = keras.Model(x, layers.Dense(1)(inner(x)))
    assert outer.output_shape == (None, 1)
    assert len(outer.weights) == 6 and inner in outer.layers
    out = outer(np.ones((2, 3), "float32"))
    assert out.shape == (2, 1)


def test_raw_ops_on_symbolic_tensors_are_replayed():
    x = keras.Input((3,))
    y = layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")(x)
    z = tf.nn.relu(y * 2.0 - 1.0)
    model = keras.Model(x, z)
    data = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]], "float32")
    np.testing.assert_allclose(model(data).numpy(), [[1.0, 1.0], [0.0, 0.0]])


def test_graph_disconnected_error():
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_functional_wrong_number_of_inputs():
    a, b = keras.Input((2,)), keras.Input((2,))
    model = keras.Model([a, b], layers.Add()([a, b]))
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model([np.ones((1, 2))])


def test_subclassed_model_tracks_layers_and_runs():
    class CustomerTicketModel(keras.Model):
        def __init__(self, num_departments):
            super().__init__()
            self.concat_layer = layers.Concatenate()
            self.mixing_layer = layers.Dense(8, activation="relu")
            self.priority_scorer = layers.Dense(1, activation="sigmoid")
            self.department_classifier = layers.Dense(num_departments, activation="softmax")

        def call(self, inputs):
            features = self.concat_layer([inputs["title"], inputs["tags"]])
            features = self.mixing_layer(features)
            return self.priority_scorer(features), self.department_classifier(features)

    model = CustomerTicketModel(num_departments=4)
    assert model.name.startswith("customer_ticket_model")
    p, d = model({"title": np.ones((2, 6), "float32"), "tags": np.ones((2, 2), "float32")})
    assert p.shape == (2, 1) and d.shape == (2, 4)
    assert len(model.layers) == 4 and len(model.weights) == 6


def test_model_build_with_shape_then_summary(capsys):
    class MLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8)
            self.out = layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    m = MLP()
    m.build((None, 3))
    assert m.count_params() == 3 * 8 + 8 + 8 * 2 + 2
    m.summary()
    text = capsys.readouterr().out
    assert "Total params: 50" in text


def test_summary_table(capsys):
    model = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax", name="probs")])
    model.layers[1].trainable = False
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "' in text and "Layer (type)" in text and "Output Shape" in text
    assert "Param #" in text
    assert "(None, 512)" in text and "401,920" in text and "probs (Dense)" in text
    assert "Total params: 407,050" in text
    assert "Trainable params: 401,920" in text
    assert "Non-trainable params: 5,130" in text
    lines = []
    model.summary(print_fn=lines.append)
    assert any("Total params" in line for line in lines)
    assert not any("Connected to" in line for line in lines)
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    merged = keras.Model([a, b], layers.Dense(1)(layers.Concatenate(name="cat")([a, b])))
    merged.summary()
    text = capsys.readouterr().out
    assert "Connected to" in text and "a[0][0], b[0][0]" in text and "cat[0][0]" in text


def test_layer_input_output_properties():
    x = keras.Input((3,))
    dense = layers.Dense(2)
    y = dense(x)
    assert dense.input is x and dense.output is y
    with pytest.raises(AttributeError, match="never been called on a symbolic input"):
        _ = layers.Dense(2).output


def test_subclass_passing_inputs_outputs_to_super_becomes_functional():
    steps = []

    class WithStep(keras.Model):
        def __init__(self):
            inputs = keras.Input((3,))
            outputs = layers.Dense(1)(inputs)
            super().__init__(inputs, outputs, name="with_step")

        def train_step(self, data):
            steps.append(1)
            return super().train_step(data)

    model = WithStep()
    assert model.name == "with_step" and model.output_shape == (None, 1)
    assert isinstance(model, WithStep) and type(model).__name__ == "WithStep"
    # Python side effects in a step run on every step only when running eagerly (a compiled
    # step runs them once, while tracing, as with tf.function)
    model.compile("sgd", "mse", run_eagerly=True)
    model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=4, verbose=0)
    assert len(steps) == 2

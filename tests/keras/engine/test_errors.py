"""Bad input gives clear errors naming the layer or argument, what was expected and got."""

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import layers


def _compiled(loss="sparse_categorical_crossentropy", metrics=None):
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    model.compile("rmsprop", loss, metrics=metrics)
    return model


def test_fit_before_compile():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    for call in (lambda: model.fit(np.ones((2, 4)), np.ones((2, 1))),
                 lambda: model.evaluate(np.ones((2, 4)), np.ones((2, 1))),
                 lambda: model.train_on_batch(np.ones((2, 4)), np.ones((2, 1)))):
        with pytest.raises(RuntimeError, match=r"must call model.compile\(.*\) before using"):
            call()
    # predict does not need compile
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 1)


def test_mismatched_x_y_lengths():
    model = _compiled()
    with pytest.raises(ValueError) as e:
        model.fit(np.ones((100, 784)), np.zeros(90), verbose=0)
    msg = str(e.value)
    assert "Data cardinality is ambiguous" in msg and "'x' sizes: 100" in msg
    assert "'y' sizes: 90" in msg
    with pytest.raises(ValueError, match="'sample_weight' sizes: 3"):
        model.fit(np.ones((4, 784)), np.zeros(4), sample_weight=np.ones(3), verbose=0)


def test_wrong_input_shape_for_built_model_and_layer():
    model = _compiled()
    with pytest.raises(ValueError) as e:
        model.fit(np.ones((8, 10)), np.zeros(8), verbose=0)
    assert "expected shape=(None, 784), found shape=(8, 10)" in str(e.value)
    dense = layers.Dense(3)
    dense(np.ones((1, 5), "float32"))
    with pytest.raises(ValueError,
                       match="expected axis -1 of input shape to have value 5, but received "
                             r"input with shape \(2, 4\)"):
        dense(np.ones((2, 4), "float32"))


@pytest.mark.parametrize("kwargs,name", [
    ({"optimizer": "rmsprp", "loss": "mse"}, "rmsprp"),
    ({"optimizer": "rmsprop", "loss": "mean_squared_eror"}, "mean_squared_eror"),
    ({"optimizer": "rmsprop", "loss": "mse", "metrics": ["acuracy"]}, "acuracy"),
])
def test_unknown_string_names_fail_at_compile(kwargs, name):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    with pytest.raises(ValueError, match=name):
        model.compile(**kwargs)


def test_unknown_fit_argument_and_bad_verbose():
    model = _compiled()
    with pytest.raises(TypeError, match="epoch"):
        model.fit(np.ones((2, 784)), np.zeros(2), epoch=3)
    with pytest.raises(ValueError, match="verbose"):
        model.fit(np.ones((2, 784)), np.zeros(2), verbose=5)


def test_one_hot_labels_with_sparse_loss_is_clear():
    model = _compiled()
    y = np.eye(10)[np.arange(8) % 10]
    with pytest.raises(ValueError) as e:
        model.fit(np.ones((8, 784)), y, verbose=0)
    assert "sparse" in str(e.value).lower()


def test_y_with_generator_and_validation_split_with_generator():
    model = _compiled()
    gen = ((np.ones((2, 784)), np.zeros(2)) for _ in range(3))
    with pytest.raises(ValueError, match="y must not be given"):
        model.fit(gen, np.zeros(2), verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported"):
        model.fit(((np.ones((2, 784)), np.zeros(2)) for _ in range(3)), validation_split=0.2,
                  verbose=0)


def test_missing_targets_for_compiled_loss():
    model = _compiled()
    with pytest.raises(ValueError, match=r"no targets \(y\)"):
        model.fit(np.ones((4, 784)), verbose=0)


def test_multi_output_loss_dict_with_unknown_key():
    a = keras.Input((3,))
    model = keras.Model(a, [layers.Dense(1, name="p")(a), layers.Dense(2, name="q")(a)])
    model.compile("sgd", loss={"p": "mse", "z": "mse"})
    with pytest.raises(ValueError, match=r"keys \['z'\] do not match any model output"):
        model.fit(np.ones((2, 3)), [np.ones((2, 1)), np.ones((2, 2))], verbose=0)


def test_symbolic_input_must_come_from_keras_input():
    with pytest.raises(TypeError, match="symbolic tensors"):
        keras.Model(np.ones((2, 3)), np.ones((2, 3)))

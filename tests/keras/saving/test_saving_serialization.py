"""serialize_keras_object / deserialize_keras_object, registration, custom objects, safe mode."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import saving
from ndflow.keras.saving import serialization_lib

KEYS = {"module", "class_name", "config", "registered_name"}

# Constructor arguments for classes without usable defaults.
ARGS = {
    "Constant": {"value": 2.0},
    "PiecewiseConstantDecay": {"boundaries": [2, 5], "values": [0.1, 0.01, 0.001]},
    "ExponentialDecay": {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5},
    "InverseTimeDecay": {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5},
    "PolynomialDecay": {"initial_learning_rate": 0.1, "decay_steps": 3},
    "CosineDecay": {"initial_learning_rate": 0.1, "decay_steps": 3},
    "CosineDecayRestarts": {"initial_learning_rate": 0.1, "first_decay_steps": 3},
    "IoU": {"num_classes": 3, "target_class_ids": [0, 1]},
    "MeanIoU": {"num_classes": 3},
    "OneHotIoU": {"num_classes": 3, "target_class_ids": [0, 1]},
    "OneHotMeanIoU": {"num_classes": 3},
    "PrecisionAtRecall": {"recall": 0.5},
    "RecallAtPrecision": {"precision": 0.5},
    "SensitivityAtSpecificity": {"specificity": 0.5},
    "SpecificityAtSensitivity": {"sensitivity": 0.5},
    "MeanMetricWrapper": None, "LossFunctionWrapper": None,  # need a function
    "LossScaleOptimizer": {"inner_optimizer": keras.optimizers.Adam(0.01)},
    "MultiOptimizer": {"optimizer_map": keras.optimizers.OptimizerMap(
        keras.optimizers.SGD(0.1), {"enc/.*": keras.optimizers.Adam(0.01)})},
    "OptimizerMap": {"default_optimizer": keras.optimizers.SGD(0.1)},
}
ABSTRACT = {"Initializer", "Regularizer", "Constraint", "Loss", "Metric", "Optimizer",
            "LearningRateSchedule", "RandomInitializer", "Any", "Tensor"}


def _public_classes(module, base_name):
    out = []
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if (inspect.isclass(obj) and name[0].isupper() and name not in ABSTRACT
                and obj.__module__.startswith("ndflow.") and ARGS.get(name, {}) is not None
                and obj.__name__ == name):
            out.append(obj)
    return out


FAMILIES = {
    "initializers": keras.initializers, "regularizers": keras.regularizers,
    "constraints": keras.constraints, "losses": keras.losses, "metrics": keras.metrics,
    "optimizers": keras.optimizers, "schedules": keras.optimizers.schedules,
}
CASES = [(fam, cls) for fam, mod in FAMILIES.items() for cls in _public_classes(mod, fam)]


@pytest.mark.parametrize("family,cls", CASES, ids=[f"{f}.{c.__name__}" for f, c in CASES])
def test_every_object_round_trips(family, cls):
    obj = cls(**ARGS.get(cls.__name__, {}))
    cfg = saving.serialize_keras_object(obj)
    assert set(cfg) >= KEYS
    assert cfg["class_name"] == cls.__name__
    assert cfg["module"].startswith("keras.")  # Keras's public module names
    assert cfg["registered_name"] is None
    cfg = json.loads(json.dumps(cfg))  # survives JSON
    back = saving.deserialize_keras_object(cfg)
    assert type(back) is cls
    assert back.get_config() == obj.get_config()


def test_layers_round_trip_with_build_config():
    layer = keras.layers.Dense(3, activation="relu", kernel_regularizer="l2")
    layer(np.ones((2, 4), "float32"))
    cfg = json.loads(json.dumps(saving.serialize_keras_object(layer)))
    assert cfg["build_config"] == {"input_shape": [2, 4]}
    back = saving.deserialize_keras_object(cfg)
    assert back.built and [tuple(w.shape) for w in back.weights] == [(4, 3), (3,)]
    assert back.get_config() == layer.get_config()


def test_plain_values_and_special_types():
    s = saving.serialize_keras_object
    d = saving.deserialize_keras_object
    assert s((1, 2)) == {"class_name": "__tuple__", "config": {"value": [1, 2]}}
    assert d(s((1, (2, 3)))) == (1, (2, 3))
    arr = np.arange(6, dtype="int16").reshape(2, 3)
    back = d(json.loads(json.dumps(s(arr))))
    assert back.dtype == np.int16 and np.array_equal(back, arr)
    assert d(s(b"abc")) == b"abc"
    assert d(s({"a": [1, None, "x"]})) == {"a": [1, None, "x"]}
    assert s(np.float32(1.5)) == 1.5
    with pytest.raises(ValueError, match="dtype"):
        d({"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}})
    with pytest.raises(ValueError, match="nested"):
        cfg: dict = {}
        node = cfg
        for _ in range(500):
            node["a"] = {}
            node = node["a"]
        d(cfg)


def test_functions_serialize_by_name():
    s = saving.serialize_keras_object(keras.activations.relu)
    assert s["class_name"] == "function" and s["config"] == "relu"
    assert s["module"] == "keras.activations"
    assert saving.deserialize_keras_object(s) is keras.activations.relu


@saving.register_keras_serializable(package="SerTest")
def my_activation(x):
    return x * 0.5


@saving.register_keras_serializable(package="SerTest", name="Scaler")
class Scaler(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_registration():
    assert saving.get_registered_name(Scaler) == "SerTest>Scaler"
    assert saving.get_registered_object("SerTest>Scaler") is Scaler
    assert saving.get_registered_object("SerTest>nope") is None
    assert saving.get_custom_objects()["SerTest>my_activation"] is my_activation
    cfg = saving.serialize_keras_object(Scaler(3.0))
    assert cfg["registered_name"] == "SerTest>Scaler"
    assert saving.deserialize_keras_object(cfg).factor == 3.0
    fcfg = saving.serialize_keras_object(my_activation)
    assert fcfg["registered_name"] == "SerTest>my_activation"
    assert saving.deserialize_keras_object(fcfg) is my_activation
    layer = keras.layers.Dense(2, activation=my_activation)
    back = saving.deserialize_keras_object(saving.serialize_keras_object(layer))
    assert back.activation is my_activation
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))
    with pytest.raises(ValueError):
        saving.register_keras_serializable(package="a>b")


def test_custom_objects_and_scope():
    class Local(keras.layers.Layer):
        def call(self, x):
            return x

    cfg = saving.serialize_keras_object(Local(name="loc"))
    with pytest.raises(ValueError, match="register_keras_serializable"):
        saving.deserialize_keras_object(cfg)
    assert type(saving.deserialize_keras_object(cfg, custom_objects={"Local": Local})) is Local
    with saving.custom_object_scope({"Local": Local}):
        assert saving.get_registered_object("Local") is Local
        assert type(saving.deserialize_keras_object(cfg)) is Local
    assert saving.get_registered_object("Local") is None


def test_safe_mode_refuses_code():
    lam = keras.layers.Lambda(lambda x: x + 1.0)
    cfg = json.loads(json.dumps(saving.serialize_keras_object(lam)))
    with pytest.raises(ValueError, match="safe mode"):
        saving.deserialize_keras_object(cfg)
    back = saving.deserialize_keras_object(cfg, safe_mode=False)
    assert float(back(np.ones((1,), "float32")).numpy()[0]) == 2.0
    # a function from an arbitrary module is an import: refused in safe mode
    evil = {"module": "os", "class_name": "function", "config": "getcwd",
            "registered_name": "getcwd"}
    with pytest.raises(ValueError, match="safe mode"):
        saving.deserialize_keras_object(evil)
    import os

    assert saving.deserialize_keras_object(evil, safe_mode=False) is os.getcwd
    # nested calls inherit the outer safe_mode (Keras semantics)
    with serialization_lib.SafeModeScope(False):
        assert saving.deserialize_keras_object(cfg, safe_mode=True) is not None


def test_classes_only_resolve_inside_their_family():
    # a name that exists in ndflow but is not a layer class cannot be instantiated
    for bad in ("Any", "importlib", "inspect", "np", "__builtins__"):
        with pytest.raises(ValueError):
            saving.deserialize_keras_object({"module": "keras.layers", "class_name": bad,
                                             "config": {}, "registered_name": None})


def test_builtin_classes_win_over_same_named_registered_ones():
    from ndflow.keras.saving import object_registration as reg

    class Dense(keras.layers.Dense):  # a user's class that shares a built-in's name
        pass

    saving.register_keras_serializable(package="Shadow")(Dense)
    try:
        cfg = saving.serialize_keras_object(keras.layers.Dense(2))
        assert type(saving.deserialize_keras_object(cfg)) is keras.layers.Dense
        mine = saving.serialize_keras_object(Dense(2))
        assert mine["registered_name"] == "Shadow>Dense"
        assert type(saving.deserialize_keras_object(mine)) is Dense
    finally:
        reg.GLOBAL_CUSTOM_OBJECTS.pop("Shadow>Dense", None)
        reg.GLOBAL_CUSTOM_NAMES.pop(Dense, None)

"""keras.mixed_precision / keras.config.set_dtype_policy: the global policy reaches layers
created afterwards, compile adds a LossScaleOptimizer under mixed_float16, and training on the
bundled digits matches float32."""

from __future__ import annotations

import numpy as np
import pytest

from ndflow import keras


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    keras.config.set_dtype_policy(None)


def _digits_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10),
                             keras.layers.Activation("softmax", dtype="float32")])


def test_global_policy_reaches_new_layers_only():
    before = keras.layers.Dense(2)
    keras.mixed_precision.set_global_policy("mixed_float16")
    after = keras.layers.Dense(2)
    assert before.dtype_policy.name == "float32"
    assert after.compute_dtype == "float16" and after.variable_dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert keras.config.dtype_policy().name == "mixed_float16"
    assert keras.mixed_precision.Policy is keras.mixed_precision.DTypePolicy
    keras.config.set_dtype_policy(keras.mixed_precision.DTypePolicy("float64"))
    assert keras.layers.Dense(2).compute_dtype == "float64"
    keras.config.set_dtype_policy(None)
    assert keras.layers.Dense(2).compute_dtype == keras.config.floatx()
    with pytest.raises(ValueError, match="bfloat16"):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")


def test_mixed_float16_training_matches_float32_on_digits():
    (xt, yt), (xs, ys) = keras.datasets.digits.load_data()
    xt, xs = xt.astype("float32") / 16, xs.astype("float32") / 16
    results = {}
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        model = _digits_model()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(xt, yt, epochs=10, batch_size=32, verbose=0)
        results[policy] = model.evaluate(xs, ys, verbose=0)
        dense = model.layers[1]
        assert dense.kernel.dtype == "float32"
        assert dense.compute_dtype == ("float16" if policy != "float32" else "float32")
        wrapped = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert wrapped == (policy == "mixed_float16")
        assert model.predict(xs[:2], verbose=0).dtype == np.float32
    assert results["mixed_float16"][1] >= 0.93
    assert abs(results["mixed_float16"][1] - results["float32"][1]) <= 0.02

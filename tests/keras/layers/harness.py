"""The shared layer-test harness: one call checks a layer class end to end.

`run_layer_test(cls, init_kwargs, input_shape, expected_output_shape, ...)` checks, in order:

1. construction, and the build on the first call (eager, on random data);
2. the output shape (eager), and the symbolic output shape through `keras.Input`;
3. the numbers of trainable and non-trainable weights, and (optionally) their names/shapes;
4. `get_config` is JSON-serialisable and `from_config(get_config())` rebuilds an equal config;
   the rebuilt layer, given the same weights, computes the same outputs;
5. a training step: gradients of a loss of the outputs reach every trainable weight, and a
   gradient-descent update changes them (and, if asked, a `training=True` call changes the
   non-trainable state, e.g. BatchNormalization's moving statistics);
6. masking: with `supports_masking`, a mask on the input is accepted and (if asked) the
   output mask is as expected;
7. a wrong input shape for the built layer raises a ValueError naming the layer.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

import ndflow as tf
from ndflow.keras.layers.layer import get_keras_mask, set_keras_mask
from ndflow.keras.utils.rng_utils import set_random_seed


def _rand(shape: tuple, dtype: str, rng: np.random.Generator, int_high: int) -> np.ndarray:
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, int_high, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) > 0.5
    return rng.standard_normal(shape).astype(dtype)


def _shape_list(shape: Any) -> bool:
    return isinstance(shape, list) and all(isinstance(s, (tuple, list)) for s in shape)


def _to_np(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_to_np(v) for v in x]
    return np.asarray(x.numpy() if isinstance(x, tf.Tensor) else x)


def _out_shape(out: Any) -> Any:
    if isinstance(out, (list, tuple)):
        return [tuple(o.shape) for o in out]
    return tuple(out.shape)


def _symbolic_inputs(input_shape: Any, dtype: str) -> Any:
    from ndflow import keras

    def one(shape: tuple) -> Any:
        return keras.Input(batch_shape=(None,) + tuple(shape[1:]), dtype=dtype)

    if _shape_list(input_shape):
        return [one(tuple(s)) for s in input_shape]
    return one(tuple(input_shape))


def run_layer_test(layer_cls: type, init_kwargs: dict, input_shape: Any,
                   expected_output_shape: Any, expected_num_trainable_weights: int = 0,
                   expected_num_non_trainable_weights: int = 0,
                   expected_weights: list | None = None, input_dtype: str = "float32",
                   input_data: Any = None, int_high: int = 10,
                   expected_num_losses: int = 0, supports_masking: bool = False,
                   input_mask: Any = None, expected_output_mask: Any = None,
                   run_training_check: bool = True, training_changes_non_trainable: bool = False,
                   call_kwargs: dict | None = None, wrong_input_shape: Any = None,
                   custom_objects: dict | None = None, seed: int = 0) -> Any:
    """Run the whole battery on `layer_cls(**init_kwargs)`; returns the built layer."""
    set_random_seed(seed)  # weights initialised from unseeded initializers become reproducible
    rng = np.random.default_rng(seed)
    call_kwargs = dict(call_kwargs or {})
    if input_data is None:
        if _shape_list(input_shape):
            input_data = [_rand(tuple(s), input_dtype, rng, int_high) for s in input_shape]
        else:
            input_data = _rand(tuple(input_shape), input_dtype, rng, int_high)
    name = layer_cls.__name__

    # 1-2. construction, build on first call, eager output shape
    layer = layer_cls(**init_kwargs)
    out = layer(input_data, **call_kwargs)
    assert layer.built, f"{name}: not built after the first call"
    got = _out_shape(out)
    assert got == (
        [tuple(s) for s in expected_output_shape] if _shape_list(expected_output_shape)
        else tuple(expected_output_shape)), f"{name}: output shape {got}, expected " \
        f"{expected_output_shape}"

    # 3. weight counts
    assert len(layer.trainable_weights) == expected_num_trainable_weights, (
        f"{name}: {len(layer.trainable_weights)} trainable weights "
        f"{[w.path for w in layer.trainable_weights]}, expected "
        f"{expected_num_trainable_weights}")
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
        f"{name}: {len(layer.non_trainable_weights)} non-trainable weights "
        f"{[w.path for w in layer.non_trainable_weights]}, expected "
        f"{expected_num_non_trainable_weights}")
    if expected_weights is not None:
        got_w = [(w.name, tuple(w.shape)) for w in layer.weights]
        assert got_w == [(n, tuple(s)) for n, s in expected_weights], (
            f"{name}: weights {got_w}, expected {expected_weights}")
    assert len(layer.losses) == expected_num_losses, (
        f"{name}: {len(layer.losses)} losses, expected {expected_num_losses}")

    # 2b. symbolic output shape through keras.Input
    sym_in = _symbolic_inputs(input_shape, input_dtype)
    sym_layer = layer_cls(**init_kwargs)
    sym_out = sym_layer(sym_in, **{k: v for k, v in call_kwargs.items() if k != "training"})
    exp = expected_output_shape
    want = ([(None,) + tuple(s[1:]) for s in exp] if _shape_list(exp)
            else (None,) + tuple(exp[1:]))
    assert _out_shape(sym_out) == want, (
        f"{name}: symbolic output shape {_out_shape(sym_out)}, expected {want}")

    # 4. config round trip
    config = layer.get_config()
    json.dumps(config)  # must be JSON-serialisable
    clone = layer_cls.from_config(config) if custom_objects is None else \
        layer_cls.from_config(config, custom_objects=custom_objects)
    assert clone.get_config() == config, (
        f"{name}: config changed by from_config:\n{clone.get_config()}\nvs\n{config}")
    eval_kwargs = {k: v for k, v in call_kwargs.items() if k != "training"}
    if layer.weights:
        clone(input_data, **eval_kwargs)
        assert [tuple(w.shape) for w in clone.weights] == [tuple(w.shape)
                                                           for w in layer.weights]
        clone.set_weights(layer.get_weights())
    a = _to_np(layer(input_data, **eval_kwargs))
    b = _to_np(clone(input_data, **eval_kwargs))
    for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6,
                                   err_msg=f"{name}: clone computes different outputs")

    # 5. training step
    if run_training_check and layer.trainable_weights:
        before = [w.numpy() for w in layer.trainable_weights]
        nt_before = [w.numpy() for w in layer.non_trainable_weights]
        with tf.GradientTape() as tape:
            y = layer(input_data, training=True, **eval_kwargs)
            ys = y if isinstance(y, (list, tuple)) else [y]
            loss = tf.add_n([tf.reduce_mean(tf.square(v - 0.3)) for v in ys])
            if layer.losses:
                loss = loss + tf.add_n(layer.losses)
        grads = tape.gradient(loss, layer.trainable_weights)
        for w, g in zip(layer.trainable_weights, grads):
            assert g is not None, f"{name}: no gradient reached weight {w.path}"
            assert tuple(g.shape) == tuple(w.shape), f"{name}: gradient shape for {w.path}"
            assert np.all(np.isfinite(g.numpy())), f"{name}: non-finite gradient for {w.path}"
            w.assign_sub(0.1 * g)
        changed = [not np.allclose(b0, w.numpy()) for b0, w in
                   zip(before, layer.trainable_weights)]
        assert any(changed), f"{name}: a training step changed no trainable weight"
        if training_changes_non_trainable:
            assert any(not np.allclose(b0, w.numpy()) for b0, w in
                       zip(nt_before, layer.non_trainable_weights)), (
                f"{name}: training=True did not update the non-trainable state")

    # 6. masking
    assert bool(getattr(layer, "supports_masking", False)) == supports_masking, (
        f"{name}: supports_masking is {layer.supports_masking}, expected {supports_masking}")
    if input_mask is not None:
        x = input_data
        xs = [tf.constant(v) for v in x] if isinstance(x, list) else tf.constant(x)
        masks = input_mask if isinstance(input_mask, list) else [input_mask]
        for t_, mk in zip(xs if isinstance(xs, list) else [xs], masks):
            if mk is not None:
                set_keras_mask(t_, tf.constant(mk))
        y = layer(xs, **eval_kwargs)
        got_mask = get_keras_mask(y)
        if expected_output_mask is not None:
            assert got_mask is not None, f"{name}: the output carries no mask"
            np.testing.assert_array_equal(np.asarray(got_mask), expected_output_mask,
                                          err_msg=f"{name}: wrong output mask")

    # 7. bad input shape for a built layer
    if wrong_input_shape is not None:
        bad = ([_rand(tuple(s), input_dtype, rng, int_high) for s in wrong_input_shape]
               if _shape_list(wrong_input_shape)
               else _rand(tuple(wrong_input_shape), input_dtype, rng, int_high))
        try:
            layer(bad, **eval_kwargs)
        except ValueError as e:
            assert layer.name in str(e), f"{name}: the error does not name the layer: {e}"
        else:
            raise AssertionError(f"{name}: input of shape {wrong_input_shape} was accepted by "
                                 f"a layer built for {input_shape}")
    return layer

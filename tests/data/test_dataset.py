"""`ndflow.data.Dataset` against TensorFlow's documented behaviour."""

import numpy as np
import pytest

import ndflow as tf


def _tolist(e):
    if isinstance(e, dict):
        return {k: _tolist(v) for k, v in e.items()}
    if isinstance(e, tuple):
        return tuple(_tolist(v) for v in e)
    return np.asarray(e).tolist()


def _np(ds):
    return [_tolist(e)
            for e in ds.as_numpy_iterator()]


def test_from_tensor_slices_batch_and_tuples():
    x = np.arange(10).reshape(5, 2)
    y = np.arange(5)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    assert len(ds) == 3
    batches = list(ds)
    assert [b[0].shape.as_list() for b in batches] == [[2, 2], [2, 2], [1, 2]]
    assert batches[2][1].numpy().tolist() == [4]
    assert len(tf.data.Dataset.from_tensor_slices(y).batch(2, drop_remainder=True)) == 2


def test_dict_elements_and_map_filter():
    ds = tf.data.Dataset.from_tensor_slices({"a": [1, 2, 3, 4], "b": [10, 20, 30, 40]})
    ds = ds.map(lambda d: {"s": d["a"] + d["b"]}).filter(lambda d: d["s"] > 15)
    assert _np(ds) == [{"s": 22}, {"s": 33}, {"s": 44}]


def test_map_unpacks_tuples():
    ds = tf.data.Dataset.from_tensor_slices(([1.0, 2.0], [3.0, 4.0])).map(lambda a, b: a * b)
    assert _np(ds) == [3.0, 8.0]


def test_shuffle_is_a_permutation_and_seeded():
    ds = tf.data.Dataset.range(20).shuffle(20, seed=1)
    a, b = _np(ds), _np(ds)
    assert sorted(a) == list(range(20)) and a != list(range(20))
    assert a != b  # reshuffled each iteration
    fixed = tf.data.Dataset.range(20).shuffle(20, seed=1, reshuffle_each_iteration=False)
    assert _np(fixed) == _np(fixed)
    small = tf.data.Dataset.range(10).shuffle(3, seed=0)
    assert sorted(_np(small)) == list(range(10))
    sl = tf.data.Dataset.from_tensor_slices(np.arange(8)).shuffle(8, seed=3).batch(4)
    assert sorted(sum(_np(sl), [])) == list(range(8))


def test_repeat_take_skip_enumerate_concatenate_zip():
    ds = tf.data.Dataset.range(3)
    assert _np(ds.repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert _np(ds.repeat().take(5)) == [0, 1, 2, 0, 1]
    assert _np(ds.skip(1)) == [1, 2]
    assert _np(ds.enumerate(start=5))[0] == (5, 0)
    assert _np(ds.concatenate(tf.data.Dataset.range(1))) == [0, 1, 2, 0]
    z = tf.data.Dataset.zip((ds, ds.map(lambda v: v * 10)))
    assert _np(z) == [(0, 0), (1, 10), (2, 20)]
    assert int(ds.repeat().cardinality()) == tf.data.experimental.INFINITE_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())


def test_from_generator_unbatch_padded_batch_cache_prefetch():
    def gen():
        for i in range(1, 4):
            yield np.arange(i)

    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec([None], tf.int64))
    assert _np(ds.padded_batch(3)) == [[[0, 0, 0], [0, 1, 0], [0, 1, 2]]]
    assert _np(tf.data.Dataset.from_tensor_slices([[1, 2], [3, 4]]).unbatch()) == [1, 2, 3, 4]
    calls = []

    def counted(x):
        calls.append(1)
        return x

    cached = tf.data.Dataset.range(3).map(counted).cache().prefetch(tf.data.AUTOTUNE)
    _np(cached)
    _np(cached)
    assert len(calls) == 3


def test_bad_input_is_clear():
    with pytest.raises(ValueError, match="same first dimension, got 3 and 2"):
        tf.data.Dataset.from_tensor_slices(([1, 2, 3], [1, 2]))
    with pytest.raises(ValueError, match="batch_size > 0"):
        tf.data.Dataset.range(3).batch(0)
    ragged = tf.data.Dataset.from_generator(lambda: iter([np.zeros(1), np.zeros(2)]),
                                            output_types=tf.float32)
    with pytest.raises(ValueError, match="padded_batch"):
        list(ragged.batch(2))

"""tf.numpy_function / tf.py_function eagerly, in Dataset.map, and inside ndflow.function."""

import numpy as np
import pytest

import ndflow as tf


def test_numpy_function_eager_outputs_and_casts():
    def f(a, b):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        return a + b, (a * b).astype(np.int64)

    s, p = tf.numpy_function(f, [tf.constant([1, 2]), np.array([3, 4], np.int32)],
                             [tf.float32, tf.int32])
    assert s.dtype == tf.float32 and s.numpy().tolist() == [4.0, 6.0]
    assert p.dtype == tf.int32 and p.numpy().tolist() == [3, 8]
    with pytest.raises(ValueError, match=r"numpy_function: expected 2 outputs \(Tout\), got 1"):
        tf.numpy_function(lambda a: a, [tf.constant(1)], [tf.int32, tf.int32])
    with pytest.raises(ValueError, match="numpy_function: output 0 has dtype float64, expected "
                                         "int32"):
        tf.numpy_function(lambda a: a * 0.5, [tf.constant(1.0, tf.float64)], tf.int32)


def test_py_function_is_differentiable_eagerly():
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.py_function(lambda a: tf.sin(a) * a, [x], tf.float32)
        loss = tf.reduce_sum(y)
    g = tape.gradient(loss, x).numpy()
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g, np.cos(v) * v + np.sin(v), rtol=1e-6)


def test_numpy_function_in_a_parallel_dataset_map_with_strings():
    def shout(s):
        return s.upper() + b"!"

    ds = tf.data.Dataset.from_tensor_slices(np.array([b"ab", b"cd", b"ef"], dtype=object)).map(
        lambda s: tf.numpy_function(shout, [s], "string"), num_parallel_calls=2)
    assert list(ds.as_numpy_iterator()) == [b"AB!", b"CD!", b"EF!"]
    sq = tf.data.Dataset.range(4).map(
        lambda x: tf.numpy_function(lambda a: np.square(a), [x], tf.int64))
    assert [int(v) for v in sq] == [0, 1, 4, 9]


def test_numpy_function_inside_a_graph_function_runs_every_call():
    calls = []

    def cumsum(a):
        calls.append(a.copy())
        return np.cumsum(a)

    @tf.function
    def f(x):
        return tf.numpy_function(cumsum, [x * 2.0], tf.float32) + 1.0

    assert f(tf.constant([1.0, 2.0, 3.0])).numpy().tolist() == [3.0, 7.0, 13.0]
    assert f(tf.constant([1.0, 1.0, 1.0])).numpy().tolist() == [3.0, 5.0, 7.0]
    assert f.experimental_get_tracing_count() == 1
    # one probe with zeros at trace time, then one call per run with the run's values
    assert [c.tolist() for c in calls] == [[0, 0, 0], [2, 4, 6], [2, 2, 2]]


def test_traced_numpy_function_refuses_shapes_that_differ_from_the_trace():
    @tf.function
    def f(x):
        return tf.numpy_function(lambda a: a[a > 0], [x], tf.float32)

    with pytest.raises(ValueError, match="numpy_function: output 0 has shape \\(2,\\) in this "
                                         "call but \\(0,\\) when the graph function was traced"):
        f(tf.constant([1.0, -1.0, 2.0]))


def test_py_function_inside_a_graph_function():
    @tf.function
    def f(x):
        a, b = tf.py_function(lambda t: (t + 1.0, tf.reduce_sum(t)), [x],
                              [tf.float32, tf.float32])
        return a * b

    assert f(tf.constant([1.0, 2.0])).numpy().tolist() == [6.0, 9.0]
    assert f(tf.constant([0.0, 1.0])).numpy().tolist() == [1.0, 2.0]

"""Bad input gives clear errors that name the op, what it expected and what it got."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import InvalidArgumentError

ones = tf.ones


def _msg(fn) -> str:
    with pytest.raises(InvalidArgumentError) as info:
        fn()
    return str(info.value)


def _has(msg: str, *parts: str) -> None:
    for p in parts:
        assert p in msg, f"{p!r} not in error message: {msg}"


def test_add_shape_mismatch():
    _has(_msg(lambda: tf.add(ones([2, 3]), ones([4, 3]))), "add", "[2, 3]", "[4, 3]",
         "broadcast")
    _has(_msg(lambda: ones([2, 3]) * ones([3, 2])), "multiply", "[2, 3]", "[3, 2]")


def test_matmul_errors():
    _has(_msg(lambda: tf.matmul(ones([2, 3]), ones([4, 3]))), "matmul", "[2, 3]", "[4, 3]",
         "inner dim", "transpose")
    _has(_msg(lambda: tf.matmul(ones([3]), ones([3, 2]))), "matmul", "rank >= 2", "[3]")
    _has(_msg(lambda: tf.matmul(ones([2, 2]), ones([2, 2], tf.float64))), "matmul", "float32",
         "float64")
    _has(_msg(lambda: tf.matmul(ones([2, 2, 3]), ones([3, 3, 2]))), "matmul", "broadcast")


def test_concat_errors():
    _has(_msg(lambda: tf.concat([ones([2, 3]), ones([4, 2])], 0)), "concat", "[2, 3]", "[4, 2]",
         "axis 0")
    _has(_msg(lambda: tf.concat([ones([2, 3]), ones([3])], 0)), "concat", "rank 2", "rank 1")
    _has(_msg(lambda: tf.concat([ones([2]), ones([2], tf.int32)], 0)), "concat", "float32",
         "int32")
    _has(_msg(lambda: tf.stack([ones([2]), ones([3])])), "stack", "[2]", "[3]")


def test_reshape_errors():
    _has(_msg(lambda: tf.reshape(ones([2, 3]), [4, 2])), "reshape", "6 elements", "[2, 3]",
         "[4, 2]", "8")
    _has(_msg(lambda: tf.reshape(ones([2, 3]), [4, -1])), "reshape", "[4, -1]", "6")
    _has(_msg(lambda: tf.reshape(ones([2, 3]), [-1, -1])), "reshape", "one -1")


def test_dtype_errors():
    _has(_msg(lambda: tf.add(ones([2]), tf.constant([1, 2]))), "add", "float32", "int32",
         "tf.cast")
    _has(_msg(lambda: tf.exp(tf.constant([1, 2]))), "exp", "floating-point", "int32")
    _has(_msg(lambda: tf.nn.softmax(tf.constant([1, 2]))), "softmax", "int32")
    _has(_msg(lambda: tf.logical_and(ones([2]), ones([2]))), "logical_and", "bool", "float32")
    _has(_msg(lambda: tf.where(ones([2]), ones([2]), ones([2]))), "where", "bool", "float32")
    _has(_msg(lambda: tf.gather(ones([2]), tf.constant([0.0]))), "gather", "integer", "float32")
    _has(_msg(lambda: tf.one_hot(tf.constant([1.0]), 3)), "one_hot", "integer", "float32")
    _has(_msg(lambda: tf.einsum("i,i->", ones([2]), ones([2], tf.float64))), "einsum",
         "float32", "float64")


def test_axis_errors():
    _has(_msg(lambda: tf.reduce_sum(ones([2, 3]), axis=5)), "reduce_sum", "[-2, 2)", "axis=5")
    _has(_msg(lambda: tf.reduce_mean(ones([2]), axis=-3)), "reduce_mean", "axis=-3")
    _has(_msg(lambda: tf.reduce_max(ones([2, 3]), axis=[0, 0])), "reduce_max", "distinct")
    _has(_msg(lambda: tf.nn.softmax(ones([2, 3]), axis=2)), "softmax", "axis=2")
    _has(_msg(lambda: tf.argmax(ones([2, 3]), axis=3)), "argmax", "axis=3")
    _has(_msg(lambda: tf.concat([ones([2]), ones([2])], axis=1)), "concat", "axis=1")
    _has(_msg(lambda: tf.expand_dims(ones([2, 3]), 4)), "expand_dims", "axis=4")
    _has(_msg(lambda: tf.squeeze(ones([2, 3]), 0)), "squeeze", "size 1", "2")
    _has(_msg(lambda: tf.transpose(ones([2, 3]), [0, 0])), "transpose", "permutation", "[0, 0]")
    _has(_msg(lambda: tf.cumsum(ones([2, 3]), axis=2)), "cumsum", "axis=2")


def test_gather_out_of_range():
    _has(_msg(lambda: tf.gather(ones([2, 3]), [0, 7])), "gather", "[0, 2)", "[2, 3]", "7")
    _has(_msg(lambda: tf.gather(ones([2, 3]), [-1], axis=1)), "gather", "[0, 3)", "-1")
    _has(_msg(lambda: tf.gather_nd(ones([2, 3]), [[0, 5]])), "gather_nd", "5")
    _has(_msg(lambda: tf.scatter_nd([[5]], [1.0], [3])), "scatter_nd", "5")


def test_sparse_cross_entropy_with_one_hot_labels():
    logits = ones([2, 3])
    msg = _msg(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.one_hot([1, 2], 3), logits=logits))
    _has(msg, "sparse_softmax_cross_entropy_with_logits", "integer class ids", "float32",
         "[2, 3]", "softmax_cross_entropy_with_logits")
    msg = _msg(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([[0, 1, 0], [0, 0, 1]]), logits=logits))
    _has(msg, "sparse_softmax_cross_entropy_with_logits", "[2]", "[2, 3]", "one-hot")
    msg = _msg(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([0, 3]), logits=logits))
    _has(msg, "[0, 3)", "3")


def test_dense_cross_entropy_with_sparse_labels():
    msg = _msg(lambda: tf.nn.softmax_cross_entropy_with_logits(labels=tf.constant([1, 2]),
                                                               logits=ones([2, 3])))
    _has(msg, "softmax_cross_entropy_with_logits", "[2, 3]", "[2]", "sparse")
    msg = _msg(lambda: tf.nn.sigmoid_cross_entropy_with_logits(labels=ones([2]),
                                                               logits=ones([2, 3])))
    _has(msg, "sigmoid_cross_entropy_with_logits", "[2, 3]", "[2]")


def test_other_argument_errors():
    _has(_msg(lambda: tf.split(ones([5]), 2)), "split", "size 5", "2")
    _has(_msg(lambda: tf.split(ones([5]), [2, 2])), "split", "[2, 2]", "size 5")
    _has(_msg(lambda: tf.tile(ones([2, 3]), [2])), "tile", "2", "1 multiples")
    _has(_msg(lambda: tf.pad(ones([2, 3]), [[1, 1]])), "pad", "[2, 2]", "[1, 2]")
    _has(_msg(lambda: tf.pad(ones([2, 3]), [[1, 1], [1, 1]], mode="wrap")), "pad", "WRAP")
    _has(_msg(lambda: tf.broadcast_to(ones([2, 3]), [4, 3])), "broadcast_to", "[2, 3]", "[4, 3]")
    _has(_msg(lambda: tf.einsum("ij,jk->ik", ones([2, 3]), ones([4, 2]))), "einsum", "3", "4")
    _has(_msg(lambda: tf.random.categorical(ones([3]), 2)), "categorical", "rank 2", "[3]")
    _has(_msg(lambda: tf.norm(ones([2, 2]), ord=2, axis=[0, 1])), "norm", "ord=2")
    _has(_msg(lambda: tf.math.top_k(ones([3]), k=4)), "top_k", "k=4")
    _has(_msg(lambda: tf.nn.dropout(ones([3]), 1.0)), "dropout", "rate=1.0")


def test_errors_are_value_errors_too():
    with pytest.raises(ValueError):
        tf.add(ones([2]), ones([3]))


def test_symbolic_tensors_use_shape_rules():
    from ndflow.core.tensor import SymbolicTensor

    x = SymbolicTensor([None, 3], tf.float32)
    y = tf.matmul(x, ones([3, 5]))
    assert y.shape == (None, 5) and y.dtype == tf.float32
    z = tf.reduce_sum(tf.nn.relu(y) + 1.0, axis=1, keepdims=True)
    assert z.shape == (None, 1)
    _has(_msg(lambda: tf.matmul(x, ones([4, 5]))), "matmul", "[None, 3]", "[4, 5]")
    with pytest.raises(TypeError, match="no value"):
        x.numpy()
    with pytest.raises(TypeError, match="bool"):
        bool(x)
    np.testing.assert_equal(len(SymbolicTensor([4, 2], tf.float32)), 4)


def test_shape_and_size_of_symbolic_tensors():
    from ndflow.core.tensor import SymbolicTensor

    x = SymbolicTensor([None, 3], tf.float32)
    s = tf.shape(x)
    assert s.shape == (2,) and s.dtype == tf.int32 and s[0].shape == ()
    assert tf.size(x).shape == () and tf.shape(x, out_type=tf.int64).dtype == tf.int64
    np.testing.assert_array_equal(tf.shape(SymbolicTensor([2, 3], tf.float32)).numpy(), [2, 3])
    assert int(tf.rank(x)) == 2

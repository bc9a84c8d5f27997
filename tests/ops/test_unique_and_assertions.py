"""tf.unique / unique_with_counts (order of first appearance, as TensorFlow documents) and the
tf.debugging assertions, eagerly and inside ndflow.function (checked on every call)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import InvalidArgumentError


def test_unique_keeps_the_order_of_first_appearance():
    x = np.array([4, 1, 4, 7, 1, 1, 9], np.int64)
    y, idx = tf.unique(x)
    assert y.numpy().tolist() == [4, 1, 7, 9] and idx.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy()[idx.numpy()], x)
    y, idx, count = tf.unique_with_counts(tf.constant(["b", "a", "b"]), out_idx=tf.int64)
    assert y.numpy().tolist() == [b"b", b"a"] and idx.numpy().tolist() == [0, 1, 0]
    assert count.numpy().tolist() == [2, 1] and count.dtype == tf.int64
    assert tf.unique(tf.constant([], tf.float32)).y.shape == [0]


def test_unique_errors():
    with pytest.raises(InvalidArgumentError, match="unique.*1-D"):
        tf.unique(tf.ones([2, 2]))
    with pytest.raises(InvalidArgumentError, match="unique.*traced"):
        tf.function(lambda v: tf.unique(v).y)(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError, match="out_idx"):
        tf.unique([1], out_idx=tf.float32)


@pytest.mark.parametrize("name,ok,bad", [
    ("assert_equal", ([1, 2], [1, 2]), ([1, 2], [1, 3])),
    ("assert_none_equal", ([1, 2], [3, 4]), ([1, 2], [3, 2])),
    ("assert_less", ([1, 2], 3), ([1, 3], 3)),
    ("assert_less_equal", ([1, 3], 3), ([1, 4], 3)),
    ("assert_greater", ([4, 5], 3), ([4, 3], 3)),
    ("assert_greater_equal", ([3, 5], 3), ([2, 5], 3)),
    ("assert_positive", ([1.0],), ([0.0],)),
    ("assert_negative", ([-1.0],), ([0.0],)),
    ("assert_non_negative", ([0.0],), ([-1.0],)),
    ("assert_non_positive", ([0.0],), ([1.0],)),
    ("assert_near", ([1.0], [1.0 + 1e-7]), ([1.0], [1.1])),
])
def test_assertions_eagerly_and_in_a_function(name, ok, bad):
    check = getattr(tf.debugging, name)
    assert check(*[tf.constant(v) for v in ok]) is None
    with pytest.raises(InvalidArgumentError, match=f"{name}: where"):
        check(*[tf.constant(v) for v in bad], message="where")

    @tf.function
    def f(*args):
        check(*args)
        return args[0] * 2

    f(*[tf.constant(v) for v in ok])
    with pytest.raises(InvalidArgumentError, match=name):  # at run time, not trace time
        f(*[tf.constant(v) for v in bad])
    assert f.experimental_get_tracing_count() == 1


def test_check_numerics_returns_the_tensor_and_fails_on_nan_and_inf():
    f = tf.function(lambda v: tf.debugging.check_numerics(v * 2.0, "doubled"))
    assert f(tf.constant([1.0])).numpy().tolist() == [2.0]
    with pytest.raises(InvalidArgumentError, match="check_numerics: doubled.*NaN"):
        f(tf.constant([np.nan]))
    with pytest.raises(InvalidArgumentError, match="Inf"):
        tf.debugging.assert_all_finite(tf.constant([np.inf]), "x")


def test_static_assertions_and_top_level_names():
    tf.debugging.assert_rank(tf.ones([2, 3]), 2)
    tf.assert_rank(tf.ones([2, 3]), 2)
    with pytest.raises(InvalidArgumentError, match="rank 3.*rank 2"):
        tf.debugging.assert_rank(tf.ones([2, 3]), 3)
    with pytest.raises(InvalidArgumentError, match="rank >= 3"):
        tf.debugging.assert_rank_at_least(tf.ones([2, 3]), 3)
    with pytest.raises(InvalidArgumentError, match="dtype int32"):
        tf.debugging.assert_type(tf.ones([1]), tf.int32)
    with pytest.raises(InvalidArgumentError, match="broadcastable"):
        tf.assert_equal(tf.ones([2]), tf.ones([3]))
    tf.assert_less(tf.constant(1), 2)
    tf.assert_greater(tf.constant(3), 2)

"""Tensor and Variable semantics, creation functions and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import InvalidArgumentError

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


# --- Tensor basics -------------------------------------------------------------------------------
def test_shape_dtype_numpy_and_array_protocol():
    x = tf.constant(A)
    assert x.shape == (2, 3, 4) and x.shape.as_list() == [2, 3, 4]
    assert isinstance(x.shape, tf.TensorShape) and x.ndim == 3
    assert x.dtype == tf.float32 and x.dtype == np.float32 and x.dtype.name == "float32"
    np.testing.assert_array_equal(x.numpy(), A)
    np.testing.assert_array_equal(np.asarray(x), A)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.sum(np.asarray(x)) == A.sum()


def test_tensors_are_immutable():
    x = tf.constant([1.0, 2.0])
    with pytest.raises(TypeError):
        x[0] = 5.0
    with pytest.raises(AttributeError):
        x.assign([0.0, 0.0])
    y = x + 1.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert y is not x


def test_constant_from_numpy_keeps_dtype_and_values():
    for dt in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
               np.uint8, np.bool_):
        a = (np.arange(6) % 3).astype(dt).reshape(2, 3)
        x = tf.constant(a)
        assert x.dtype == dt and x.dtype == tf.as_dtype(dt)
        np.testing.assert_array_equal(x.numpy(), a)


def test_python_value_default_dtypes():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant(3).dtype == tf.int32
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant([1, 2.5]).dtype == tf.float32
    assert tf.constant([[1, 2], [3, 4]]).dtype == tf.int32
    assert tf.constant(2 ** 40).dtype == tf.int64
    assert tf.constant(np.float64(1.5)).dtype == tf.float64
    assert tf.constant(np.int64(2)).dtype == tf.int64
    assert tf.convert_to_tensor([1.0, 2.0]).dtype == tf.float32
    assert tf.convert_to_tensor(1, dtype_hint=tf.float32).dtype == tf.float32


def test_constant_dtype_and_shape_arguments():
    x = tf.constant(2.0, shape=[2, 3])
    assert x.shape == (2, 3) and float(tf.reduce_sum(x)) == 12.0
    x = tf.constant([1, 2, 3, 4], dtype=tf.float64, shape=[2, 2])
    assert x.dtype == tf.float64 and x.shape == (2, 2)
    with pytest.raises(TypeError, match="cannot convert 1.5"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError, match="expected 6 values"):
        tf.constant([1, 2, 3, 4], shape=[2, 3])
    with pytest.raises(ValueError, match="equal lengths"):
        tf.constant([[1, 2], [3]])
    with pytest.raises(TypeError, match="numbers and bools"):
        tf.constant([None, None])
    assert tf.constant("abc").dtype == tf.string  # strings make string tensors, as in TF


def test_convert_to_tensor_dtype_conflict():
    x = tf.constant([1.0, 2.0])
    assert tf.convert_to_tensor(x) is x
    with pytest.raises(InvalidArgumentError, match="float32.*float64.*tf.cast"):
        tf.convert_to_tensor(x, dtype=tf.float64)
    assert tf.is_tensor(x) and not tf.is_tensor(np.ones(2))


def test_python_protocol_bool_len_iter_int_float_index():
    assert bool(tf.constant(1.0)) and not bool(tf.constant(0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tf.constant([1.0, 2.0]))
    x = tf.constant(A)
    assert len(x) == 2
    with pytest.raises(TypeError, match="len"):
        len(tf.constant(1.0))
    rows = list(x)
    assert len(rows) == 2 and rows[1].shape == (3, 4)
    np.testing.assert_array_equal(rows[1].numpy(), A[1])
    with pytest.raises(TypeError, match="iterate"):
        iter(tf.constant(1.0))
    assert int(tf.constant(3)) == 3 and float(tf.constant(2.5)) == 2.5
    assert [10, 20, 30][tf.constant(2)] == 30
    with pytest.raises(TypeError):
        [10, 20][tf.constant(1.0)]
    assert f"{tf.constant(3.14159):.2f}" == "3.14"


def test_repr_and_str():
    x = tf.constant([[1.0, 2.0]])
    assert repr(x) == "<tf.Tensor: shape=(1, 2), dtype=float32, numpy=[[1., 2.]]>"
    assert "shape=(1, 2)" in str(x) and "float32" in str(x)
    v = tf.Variable([1, 2], name="v")
    assert repr(v).startswith("<tf.Variable 'v:0' shape=(2,) dtype=int32")


def test_ref_makes_tensors_hashable():
    x, y = tf.constant(1.0), tf.constant(1.0)
    with pytest.raises(TypeError):
        hash(x)
    d = {x.ref(): "x", y.ref(): "y"}
    assert d[x.ref()] == "x" and x.ref().deref() is x


# --- operators -----------------------------------------------------------------------------------
def test_arithmetic_operators_and_reflections():
    x = tf.constant([1.0, 2.0, 4.0])
    cases = [
        (x + 1, [2, 3, 5]), (1 + x, [2, 3, 5]), (x - 1, [0, 1, 3]), (1 - x, [0, -1, -3]),
        (x * 2, [2, 4, 8]), (2 * x, [2, 4, 8]), (x / 2, [0.5, 1, 2]), (2 / x, [2, 1, 0.5]),
        (x // 3, [0, 0, 1]), (5 // x, [5, 2, 1]), (x % 3, [1, 2, 1]), (5 % x, [0, 1, 1]),
        (x ** 2, [1, 4, 16]), (2 ** x, [2, 4, 16]), (-x, [-1, -2, -4]), (+x, [1, 2, 4]),
        (abs(-x), [1, 2, 4]),
    ]
    for got, exp in cases:
        assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
        np.testing.assert_allclose(got.numpy(), exp)


def test_comparison_and_logical_operators():
    x = tf.constant([1, 2, 3])
    np.testing.assert_array_equal((x < 2).numpy(), [True, False, False])
    np.testing.assert_array_equal((x <= 2).numpy(), [True, True, False])
    np.testing.assert_array_equal((x > 2).numpy(), [False, False, True])
    np.testing.assert_array_equal((x >= 2).numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2).numpy(), [False, True, False])
    np.testing.assert_array_equal((x != 2).numpy(), [True, False, True])
    b = x > 1
    np.testing.assert_array_equal((~b).numpy(), [True, False, False])
    np.testing.assert_array_equal((b & (x < 3)).numpy(), [False, True, False])
    np.testing.assert_array_equal((b | (x < 2)).numpy(), [True, True, True])
    np.testing.assert_array_equal((b ^ (x < 3)).numpy(), [True, False, True])
    assert (x == None) is False and (x != None) is True  # noqa: E711


def test_matmul_operator():
    a = tf.constant(A[0])
    np.testing.assert_allclose((a @ tf.transpose(a)).numpy(), A[0] @ A[0].T)
    np.testing.assert_allclose((A[0] @ tf.transpose(a)).numpy(), A[0] @ A[0].T)


def test_numpy_array_on_the_left():
    x = tf.constant([1.0, 2.0, 3.0])
    y = np.ones(3, np.float32) + x
    assert isinstance(y, tf.Tensor)
    np.testing.assert_allclose(y.numpy(), [2, 3, 4])
    y = np.full(3, 2, np.float32) * x
    assert isinstance(y, tf.Tensor) and y.dtype == tf.float32
    y = np.float32(2.0) - x
    np.testing.assert_allclose(np.asarray(y), [1, 0, -1])
    with pytest.raises(InvalidArgumentError, match="add.*float32.*float64"):
        np.ones(3) + x  # a float64 array does not silently mix with a float32 tensor


def test_python_scalars_adopt_the_tensor_dtype():
    for dt in (tf.float16, tf.float64, tf.int8, tf.int64, tf.uint8):
        x = tf.constant([1, 2], dtype=dt)
        assert (x + 1).dtype == dt and (2 * x).dtype == dt and (x - 1).dtype == dt
    assert (tf.constant([1.0], dtype=tf.float64) * 0.5).dtype == tf.float64


def test_float_scalar_into_int_tensor_raises():
    with pytest.raises(InvalidArgumentError, match="add.*2.5.*int32"):
        tf.constant([1, 2]) + 2.5
    assert (tf.constant([1, 2]) + 2.0).dtype == tf.int32  # an integral float is fine


def test_mixed_dtypes_raise_clear_errors():
    f32, f64 = tf.constant([1.0]), tf.constant([1.0], dtype=tf.float64)
    i32 = tf.constant([1])
    for fn, name in [(tf.add, "add"), (tf.multiply, "multiply"), (tf.subtract, "subtract"),
                     (tf.maximum, "maximum"), (tf.matmul, "matmul")]:
        a, b = (tf.reshape(f32, [1, 1]), tf.reshape(f64, [1, 1])) if name == "matmul" else (
            f32, f64)
        with pytest.raises(InvalidArgumentError, match=f"{name}.*float32.*float64"):
            fn(a, b)
    with pytest.raises(InvalidArgumentError, match="add.*float32.*int32.*tf.cast"):
        f32 + i32
    with pytest.raises(InvalidArgumentError, match="concat.*float32.*float64"):
        tf.concat([f32, f64], 0)


def test_integer_division_and_promotion():
    x = tf.constant([7, -7])
    assert (x / 2).dtype == tf.float64
    np.testing.assert_array_equal((x // 2).numpy(), [3, -4])
    np.testing.assert_array_equal((x % 3).numpy(), [1, 2])


# --- indexing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    0, -1, (1, 2), (1, -1, -2), slice(None), slice(1, None), (slice(None), 1),
    (slice(None), slice(None, None, 2)), (slice(None, None, -1),), (slice(None), slice(2, 0, -1)),
    (Ellipsis, 1), (0, Ellipsis), (Ellipsis,), (None,), (None, 1, None), (slice(None), None),
    (Ellipsis, None), (1, slice(None), slice(1, 4, 2)), (slice(-3, None), slice(-1, -3, -1)),
    (slice(5, 10),), (np.int64(1), slice(None, 2)),
])
def test_indexing_matches_numpy(key):
    x = tf.constant(A)
    got = x[key]
    np.testing.assert_array_equal(got.numpy(), A[key])
    assert got.shape == A[key].shape
    from ndflow.core.tensor import SymbolicTensor

    sym = SymbolicTensor(A.shape, tf.float32)[key]
    assert sym.shape == A[key].shape and sym.dtype == tf.float32
    part = SymbolicTensor((None,) + A.shape[1:], tf.float32)[key]
    assert part.shape.is_compatible_with(A[key].shape)


def test_indexing_with_scalar_tensor_and_newaxis():
    x = tf.constant(A)
    np.testing.assert_array_equal(x[tf.constant(1), tf.newaxis].numpy(), A[1, None])


def test_indexing_errors():
    x = tf.constant(A)
    with pytest.raises(InvalidArgumentError, match=r"strided_slice.*\[-2, 2\).*index 2"):
        x[2]
    with pytest.raises(InvalidArgumentError, match="strided_slice.*index -5"):
        x[0, 0, -5]
    with pytest.raises(InvalidArgumentError, match="at most 3 indices"):
        x[0, 0, 0, 0]
    with pytest.raises(TypeError, match="tf.gather"):
        x[[0, 1]]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(InvalidArgumentError, match="step"):
        x[::0]


# --- Variables -----------------------------------------------------------------------------------
def test_variable_assign_in_place():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
    buf, ptr = v._value, v._value.ctypes.data
    assert v.assign([[0.0, 0.0], [1.0, 1.0]]) is v
    v.assign_add(tf.ones([2, 2]))
    v.assign_sub(0.5)
    assert v._value is buf and v._value.ctypes.data == ptr
    np.testing.assert_array_equal(v.numpy(), [[0.5, 0.5], [1.5, 1.5]])


def test_variable_properties():
    v = tf.Variable(np.zeros(3, np.float64), name="bias")
    assert v.name == "bias:0" and v.trainable and v.dtype == tf.float64 and v.shape == (3,)
    assert tf.Variable(1.0, trainable=False).trainable is False
    assert tf.Variable(3).dtype == tf.int32
    assert tf.Variable([1, 2], dtype=tf.float32).dtype == tf.float32
    assert tf.Variable(lambda: tf.ones([2])).shape == (2,)
    v.trainable = False
    assert not v.trainable


def test_variable_does_not_share_memory_and_snapshots():
    a = np.ones(3, np.float32)
    v = tf.Variable(a)
    a[0] = 7
    assert v.numpy()[0] == 1
    snap = v.value()
    n = v.numpy()
    v.assign_add([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(snap.numpy(), [1, 1, 1])
    np.testing.assert_array_equal(n, [1, 1, 1])


def test_variable_in_ops_and_operators():
    v = tf.Variable([1.0, 2.0])
    assert isinstance(v + 1, tf.Tensor) and not isinstance(v + 1, tf.Variable)
    np.testing.assert_array_equal((v * v).numpy(), [1, 4])
    np.testing.assert_array_equal(tf.reduce_sum(v).numpy(), 3)
    np.testing.assert_array_equal(v[1].numpy(), 2.0)


def test_variable_assign_errors():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
    with pytest.raises(InvalidArgumentError, match=r"assign.*\[2, 2\].*w.*\[3\]"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(InvalidArgumentError, match=r"assign.*\[2, 2\].*\[2\]"):
        v.assign([1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="assign.*float32.*int32"):
        v.assign(tf.constant([[1, 2], [3, 4]]))
    with pytest.raises(InvalidArgumentError, match="assign_add.*2.5.*int32"):
        tf.Variable(1).assign_add(2.5)
    with pytest.raises(ValueError, match="initial_value"):
        tf.Variable(None)
    np.testing.assert_array_equal(v.numpy(), [[1, 2], [3, 4]])


# --- creation ------------------------------------------------------------------------------------
def test_zeros_ones_fill_eye():
    z = tf.zeros([2, 3])
    assert z.dtype == tf.float32 and z.shape == (2, 3) and not z.numpy().any()
    o = tf.ones((2,), dtype=tf.int8)
    assert o.dtype == tf.int8 and o.numpy().tolist() == [1, 1]
    assert tf.zeros(3).shape == (3,)
    f = tf.fill([2, 2], 7)
    assert f.dtype == tf.int32 and f.numpy().tolist() == [[7, 7], [7, 7]]
    assert tf.fill([2], 0.5).dtype == tf.float32
    np.testing.assert_array_equal(tf.eye(2, 3).numpy(), np.eye(2, 3))
    assert tf.eye(2, batch_shape=[4]).shape == (4, 2, 2)
    with pytest.raises(InvalidArgumentError, match="zeros.*non-negative"):
        tf.zeros([2, -1])


def test_like_functions():
    x = tf.constant([[1, 2]], dtype=tf.int64)
    assert tf.zeros_like(x).dtype == tf.int64 and tf.zeros_like(x).numpy().tolist() == [[0, 0]]
    assert tf.ones_like(x, dtype=tf.float16).dtype == tf.float16
    assert tf.ones_like([1.0, 2.0]).numpy().tolist() == [1.0, 1.0]


def test_range_and_linspace():
    assert tf.range(5).numpy().tolist() == [0, 1, 2, 3, 4] and tf.range(5).dtype == tf.int32
    assert tf.range(10, 0, -3).numpy().tolist() == [10, 7, 4, 1]
    r = tf.range(0.0, 1.0, 0.25)
    assert r.dtype == tf.float32 and r.numpy().tolist() == [0, 0.25, 0.5, 0.75]
    assert tf.range(3, dtype=tf.float64).dtype == tf.float64
    with pytest.raises(InvalidArgumentError, match="range.*nonzero delta"):
        tf.range(0, 5, 0)
    ls = tf.linspace(0.0, 1.0, 5)
    assert ls.dtype == tf.float32
    np.testing.assert_allclose(ls.numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert tf.linspace(tf.constant(0.0, tf.float64), 1.0, 3).dtype == tf.float64


def test_cast():
    x = tf.constant([1.7, -1.7, 300.0])
    np.testing.assert_array_equal(tf.cast(x, tf.int32).numpy(), [1, -1, 300])
    assert tf.cast(x, tf.float16).dtype == tf.float16
    assert tf.cast(x, tf.float32) is x
    np.testing.assert_array_equal(tf.cast(tf.constant([0, 2]), tf.bool).numpy(), [False, True])
    assert tf.cast(x, "float64").dtype == tf.float64
    assert tf.cast(x, np.int64).dtype == tf.int64


# --- dtypes --------------------------------------------------------------------------------------
def test_dtype_objects():
    assert tf.float32.is_floating and not tf.float32.is_integer
    assert tf.int8.is_integer and tf.uint8.is_unsigned and tf.bool.is_bool
    assert tf.as_dtype("float64") is tf.float64 and tf.as_dtype(np.int16) is tf.int16
    assert tf.as_dtype(float) is tf.float32 and tf.as_dtype(int) is tf.int32
    assert tf.as_dtype(bool) is tf.bool and tf.as_dtype("half") is tf.float16
    assert tf.float16.size == 2 and tf.int64.size == 8
    assert tf.uint8.max == 255 and tf.int8.min == -128
    assert tf.bool.min is False and tf.bool.max is True
    assert tf.float16.max == 65504.0 and tf.float32.min == np.finfo(np.float32).min
    assert tf.float32.as_numpy_dtype is np.float32
    assert repr(tf.float32) == "tf.float32" and tf.float32 != tf.float64
    assert tf.float32 != "not a dtype"
    with pytest.raises(TypeError, match="unknown dtype name"):
        tf.as_dtype("float8")


@pytest.mark.parametrize("dt", ["float16", "float32", "float64", "int8", "int16", "int32",
                                "int64", "uint8", "bool"])
def test_every_dtype_round_trips_through_ops(dt):
    a = (np.arange(6) % 2).astype(dt).reshape(2, 3)
    x = tf.constant(a)
    assert x.dtype.name == dt
    assert tf.reshape(x, [3, 2]).dtype.name == dt
    assert tf.transpose(x).dtype.name == dt
    assert tf.concat([x, x], 0).dtype.name == dt
    assert x[0].dtype.name == dt
    assert tf.identity(x).dtype.name == dt
    if dt != "bool":
        assert (x + x).dtype.name == dt and tf.reduce_max(x).dtype.name == dt
        assert tf.reduce_sum(x).dtype.name == dt
        assert tf.abs(x).dtype.name == dt


def test_tensor_shape():
    s = tf.TensorShape([None, 3])
    assert s.rank == 2 and s.as_list() == [None, 3] and not s.is_fully_defined()
    assert s.num_elements() is None and tf.TensorShape([2, 3]).num_elements() == 6
    assert s.is_compatible_with([5, 3]) and not s.is_compatible_with([5, 4])
    assert s == (None, 3) and s == [None, 3] and str(s) == "(None, 3)"
    assert isinstance(s[1:], tf.TensorShape) and s[1] == 3
    assert str(tf.TensorShape([4])) == "(4,)"


def test_tensor_shape_of_unknown_rank():
    u = tf.TensorShape(None)
    assert u.rank is None and u.ndims is None and u.dims is None and str(u) == "<unknown>"
    assert not u.is_fully_defined() and u.num_elements() is None
    assert u.is_compatible_with([2, 3]) and tf.TensorShape([2, 3]).is_compatible_with(u)
    assert u == tf.TensorShape(None) and u != tf.TensorShape([]) and u != ()
    assert u[0] is None and u[1:].rank is None
    with pytest.raises(ValueError, match="unknown rank"):
        u.as_list()
    assert tf.ensure_shape(tf.ones([2, 3]), None).shape == [2, 3]  # None: any shape


def test_tensor_shape_methods_of_tensorflow():
    s = tf.TensorShape([None, 3])
    assert s.concatenate([4]) == [None, 3, 4] and isinstance(s + [4], tf.TensorShape)
    assert (s + (4,)).rank == 3 and s.concatenate(None).rank is None
    assert s.merge_with([2, None]) == [2, 3] and s.merge_with(None) == s
    assert tf.TensorShape(None).merge_with([1, 2]) == [1, 2]
    with pytest.raises(ValueError, match="incompatible"):
        s.merge_with([2, 4])
    with pytest.raises(ValueError, match="incompatible"):
        s.assert_is_compatible_with([3])
    assert s.with_rank(2) is s and tf.TensorShape(None).with_rank(3) == [None, None, None]
    with pytest.raises(ValueError, match="must have rank 3"):
        s.with_rank(3)
    assert s.with_rank_at_least(1) is s and s.with_rank_at_most(2) is s
    with pytest.raises(ValueError, match="at least 3"):
        s.with_rank_at_least(3)
    with pytest.raises(ValueError, match="at most 1"):
        s.with_rank_at_most(1)


def test_tensors_read_from_a_variable_do_not_change_when_it_is_assigned():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    reads = {
        "getitem": v[0], "reshape": tf.reshape(v, [4]), "reshape-same": tf.reshape(v, [2, 2]),
        "transpose": tf.transpose(v), "stop_gradient": tf.stop_gradient(v),
        "split": tf.split(v, 2)[0], "reverse": tf.reverse(v, [0]),
        "strided_slice": tf.strided_slice(v, [0, 0], [1, 2]), "broadcast_to":
        tf.broadcast_to(v, [2, 2]), "expand_dims": tf.expand_dims(v, 0),
        "squeeze": tf.squeeze(v), "unstack": tf.unstack(v)[1], "cast": tf.cast(v, tf.float32),
        "value": v.value(), "identity": tf.identity(v), "slice-of-slice": v[0][1:],
    }
    before = {k: r.numpy().copy() for k, r in reads.items()}
    v.assign_add([[10.0, 10.0], [10.0, 10.0]])
    changed = [k for k, r in reads.items() if not np.array_equal(r.numpy(), before[k])]
    assert not changed, f"reads that followed a later assign: {changed}"
    assert not isinstance(tf.cast(v, tf.float32), tf.Variable)


def test_variable_slice_assign_and_gradient():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    v[0].assign([7.0, 7.0])
    v[1, 1].assign_add(1.0)
    np.testing.assert_array_equal(v.numpy(), [[7, 7], [3, 5]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v[1] * 2.0) + tf.reduce_sum(tf.reshape(v, [4]))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[1, 1], [3, 3]])

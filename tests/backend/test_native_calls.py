"""NumPy's own GEMM and ufunc loops found for compiled kernels (backend/native_calls.py)."""

import numpy as np
import pytest

from ndflow.backend import native_calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_is_numpys_matmul_bitwise(dtype):
    gemm = native_calls.gemm(dtype)
    if gemm is None:
        pytest.skip("NumPy is not linked with an ILP64 OpenBLAS here")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((37, 70)).astype(dtype)
    b = rng.standard_normal((70, 45)).astype(dtype)
    out = np.empty((37, 45), dtype)
    gemm(native_calls.ROW_MAJOR, native_calls.NO_TRANS, native_calls.NO_TRANS, 37, 45, 70,
         1.0, a.ctypes.data, 70, b.ctypes.data, 45, 0.0, out.ctypes.data, 45)
    np.testing.assert_array_equal(out, a @ b)


def test_gemm_refuses_other_dtypes():
    assert native_calls.gemm(np.int32) is None
    assert native_calls.gemm(np.float16) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_loop_is_numpys_tanh_bitwise(dtype):
    found = native_calls.unary_loop(np.tanh, dtype)
    if found is None:
        pytest.skip("this NumPy's ufunc layout is not the one native_calls reads")
    fn, data = found
    x = np.concatenate([np.random.default_rng(2).standard_normal(1001) * 5,
                        [np.nan, np.inf, -np.inf, 0.0, -0.0]]).astype(dtype)
    out = np.empty_like(x)
    meta = np.array([x.ctypes.data, out.ctypes.data, x.size, x.itemsize, x.itemsize],
                    np.intp)
    fn(meta.ctypes.data, meta[2:].ctypes.data, meta[3:].ctypes.data, data)
    np.testing.assert_array_equal(out, np.tanh(x))


def test_numpy_wheels_provide_both():  # so CI (NumPy's wheels) really runs the fast path
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if blas.get("name") != "scipy-openblas" or "USE64BITINT" not in blas.get(
            "openblas configuration", ""):
        pytest.skip(f"NumPy built with {blas.get('name')}, not the wheels' OpenBLAS")
    assert native_calls.gemm(np.float32) is not None
    assert native_calls.unary_loop(np.tanh, np.float32) is not None

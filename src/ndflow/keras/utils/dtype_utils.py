"""`standardize_dtype`: the canonical name of a dtype given as a string, a Python type, a
NumPy/ndflow/PyTorch dtype, or None (the float default), as Keras names them.

>>> import numpy as np
>>> standardize_dtype(None), standardize_dtype(int), standardize_dtype(np.float64)
('float32', 'int32', 'float64')
"""

from __future__ import annotations

from typing import Any

ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64",
                  "int8", "int16", "int32", "int64", "bfloat16", "bool", "string",
                  "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
PYTHON_DTYPES = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32",
                 complex: "complex64"}


def standardize_dtype(dtype: Any) -> str:
    """The dtype's name in Keras's vocabulary; a ValueError for anything else."""
    if dtype is None:
        from ndflow.keras.backend import floatx

        return floatx()
    try:
        dtype = PYTHON_DTYPES.get(dtype, dtype)
    except TypeError:  # unhashable
        pass
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    elif "torch" in str(dtype) or "jax.numpy" in str(dtype):
        dtype = str(dtype).split(".")[-1]
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"standardize_dtype: invalid dtype {dtype!r}; expected one of "
                         f"{', '.join(ALLOWED_DTYPES)}")
    return dtype

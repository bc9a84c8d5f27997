"""Global Keras settings: default float type, fuzz factor and image layout.

>>> from ndflow import keras
>>> keras.config.floatx()
'float32'
>>> keras.config.epsilon()
1e-07
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_RUN_EAGERLY_DEFAULT = False
_FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")


def floatx() -> str:
    """The default float dtype name for weights and inputs (``'float32'`` by default)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: one of ``'float16'``, ``'float32'``, ``'float64'``.

    >>> set_floatx("float64"); floatx()
    'float64'
    >>> set_floatx("float32")
    """
    global _FLOATX
    name = str(np.dtype(value).name) if value != "bfloat16" else "bfloat16"
    if name not in _FLOAT_TYPES:
        raise ValueError(
            f"set_floatx: expected one of {_FLOAT_TYPES}, got {value!r}")
    _FLOATX = name


def epsilon() -> float:
    """The fuzz factor used to avoid divisions by zero (``1e-7`` by default)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by `epsilon()`."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """``'channels_last'`` (default) or ``'channels_first'``."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout: ``'channels_last'`` or ``'channels_first'``."""
    global _IMAGE_DATA_FORMAT
    fmt = str(data_format).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            "set_image_data_format: expected 'channels_last' or 'channels_first', "
            f"got {data_format!r}")
    _IMAGE_DATA_FORMAT = fmt


def standardize_data_format(data_format: str | None) -> str:
    """`data_format` lower-cased and checked; None means `image_data_format()`."""
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    fmt = str(data_format).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format: expected 'channels_last' or 'channels_first', got {data_format!r}")
    return fmt


def backend() -> str:
    """The name of the backend: ndflow runs on its own NumPy/CuPy backend."""
    return "ndflow"


def enable_unsafe_deserialization() -> None:
    """Allow loading code-carrying objects (Lambda layers) from saved files."""
    global _UNSAFE
    _UNSAFE = True


_UNSAFE = False


def run_functions_eagerly(value: bool) -> None:
    """Make `fit`/`evaluate`/`predict` run eagerly by default (no graph functions)."""
    global _RUN_EAGERLY_DEFAULT
    _RUN_EAGERLY_DEFAULT = bool(value)


def functions_run_eagerly() -> bool:
    return _RUN_EAGERLY_DEFAULT


# --- the global dtype policy ------------------------------------------------------------------
_DTYPE_POLICY: str | None = None  # None: the policy named by floatx()


def set_dtype_policy(policy: object) -> None:
    """Set the dtype policy of layers created from now on without a `dtype`: a dtype name,
    ``'mixed_float16'`` (float16 compute, float32 weights) or a `DTypePolicy`; None resets
    it to `floatx()`. `keras.mixed_precision.set_global_policy` is the same.

    >>> from ndflow import keras
    >>> keras.config.set_dtype_policy("mixed_float16")
    >>> keras.layers.Dense(2).dtype_policy
    <DTypePolicy "mixed_float16">
    >>> keras.config.set_dtype_policy(None)
    """
    global _DTYPE_POLICY
    if policy is None:
        _DTYPE_POLICY = None
        return
    from ndflow.keras.layers.layer import DTypePolicy

    _DTYPE_POLICY = (policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)).name


def dtype_policy() -> object:
    """The global dtype policy (a `DTypePolicy`)."""
    from ndflow.keras.layers.layer import DTypePolicy

    return DTypePolicy(_DTYPE_POLICY)


def dtype_policy_name() -> str:
    """The global policy's name: the one set by `set_dtype_policy`, else `floatx()`."""
    return _FLOATX if _DTYPE_POLICY is None else _DTYPE_POLICY

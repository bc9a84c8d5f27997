"""`keras.backend`: session reset and the global settings of `keras.config`.

>>> from ndflow import keras
>>> keras.backend.clear_session()
>>> keras.backend.backend(), keras.backend.floatx()
('ndflow', 'float32')
"""

from __future__ import annotations

from ndflow.keras.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from ndflow.keras.layers.layer import get_keras_mask, set_keras_mask


def clear_session(free_memory: bool = True) -> None:
    """Reset the automatic names of layers and models (``dense``, ``dense_1`` ... restart)."""
    from ndflow.keras.layers.layer import clear_session as _reset_names

    _reset_names()
    if free_memory:
        import gc

        gc.collect()


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_keras_mask",
           "image_data_format", "set_epsilon", "set_floatx", "set_image_data_format",
           "set_keras_mask"]

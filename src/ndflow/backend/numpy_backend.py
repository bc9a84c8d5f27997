"""The CPU backend: NumPy is the array module."""

import numpy as np

xp = np
ndarray = np.ndarray
DEVICE_TYPE = "CPU"


def is_array(value: object) -> bool:
    return isinstance(value, np.ndarray)

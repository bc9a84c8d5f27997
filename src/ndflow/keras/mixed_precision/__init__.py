"""`keras.mixed_precision`: the global dtype policy (`set_global_policy("mixed_float16")`:
float16 computation with float32 weights) and `LossScaleOptimizer` (which `compile` adds by
itself under ``mixed_float16``).

On the CPU, NumPy computes float16 by converting to float32 and back, so mixed precision
saves memory for activations, not time; it exists so that code written for GPUs runs.

>>> from ndflow import keras
>>> keras.mixed_precision.set_global_policy("mixed_float16")
>>> keras.mixed_precision.global_policy().compute_dtype
'float16'
>>> keras.mixed_precision.set_global_policy("float32")
"""

from ndflow.keras.config import dtype_policy, set_dtype_policy
from ndflow.keras.layers.layer import DTypePolicy
from ndflow.keras.optimizers import LossScaleOptimizer

Policy = DTypePolicy


def set_global_policy(policy: object) -> None:
    """`keras.config.set_dtype_policy` under its Keras 2 / tf.keras name."""
    set_dtype_policy(policy)


def global_policy() -> DTypePolicy:
    """The global dtype policy."""
    return dtype_policy()


__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]

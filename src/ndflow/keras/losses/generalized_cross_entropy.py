"""`CategoricalGeneralizedCrossEntropy` (Zhang & Sabuncu, 2018), a noise-robust loss between
cross-entropy (`q` near 0) and mean absolute error (`q` near 1), and its functional form.

>>> import numpy as np
>>> from ndflow.keras import losses
>>> y_pred = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]], "float32")
>>> round(float(losses.CategoricalGeneralizedCrossEntropy()([0, 1, 0, 1], y_pred)), 4)
0.3599
"""

from __future__ import annotations

from typing import Any

import ndflow as tf
from ndflow.core.tensor import Tensor
from ndflow.keras.losses.loss import Loss, as_float_tensor, to_tensor
from ndflow.keras.losses.losses import LossFunctionWrapper


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """``(1 - p ** q) / q`` per sample, `p` the predicted probability of the true class;
    `y_true` holds integer class indices (shape `(batch,)` or `(batch, 1)`), `y_pred`
    probabilities `(batch, num_classes)`."""
    y_pred = as_float_tensor(y_pred)
    labels = to_tensor(y_true)
    if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
        labels = tf.squeeze(labels, -1)
    onehot = tf.one_hot(tf.cast(labels, "int32"), int(y_pred.shape[-1]), dtype=y_pred.dtype)
    p = tf.reduce_sum(y_pred * onehot, axis=-1)
    return (1.0 - tf.pow(p, float(q))) / float(q)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy with noise parameter `q` in (0, 1) (default 0.5).

    Args:
        q: in (0, 1): near 0 behaves like cross-entropy, near 1 like mean absolute error.
        reduction, name, dtype: as for every loss.
    """

    def __init__(self, q: float = 0.5, reduction: Any = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None) -> None:
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in the interval "
                             f"(0, 1), got q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)
        self.q = q

    def _convert_true(self, y_true: Any, y_pred: Tensor) -> Tensor:
        return to_tensor(y_true)  # class indices stay integers

    def get_config(self) -> dict:
        config = Loss.get_config(self)
        config["q"] = self.q
        return config

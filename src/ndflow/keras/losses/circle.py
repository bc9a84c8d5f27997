"""`Circle` loss (Sun et al., 2020) for metric learning on L2-normalised embeddings, and its
functional form `circle`.

>>> import numpy as np
>>> from ndflow.keras import losses
>>> emb = np.eye(4, dtype="float32")[[0, 0, 1, 1]] * 0.9 + 0.1
>>> emb /= np.linalg.norm(emb, axis=1, keepdims=True)
>>> float(losses.Circle()(np.array([0, 0, 1, 1]), emb)) < 1e-3  # classes already apart
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ndflow as tf
from ndflow.core.tensor import Tensor
from ndflow.keras.losses.loss import Loss, as_float_tensor, to_tensor
from ndflow.keras.losses.losses import LossFunctionWrapper
from ndflow.ops._util import npdt


def build_pos_neg_masks(query_labels: Tensor, key_labels: Tensor,
                        remove_diagonal: bool = True) -> tuple[Tensor, Tensor]:
    """Boolean `(n_query, n_key)` masks of same-label pairs (minus the diagonal when
    `remove_diagonal`) and of different-label pairs."""
    q = tf.reshape(query_labels, (-1, 1))
    k = tf.reshape(key_labels, (1, -1))
    positive = tf.equal(q, k)
    negative = tf.logical_not(positive)
    if remove_diagonal:
        nq, nk = int(q.shape[0]), int(k.shape[1])
        positive = tf.logical_and(positive, tf.logical_not(tf.cast(tf.eye(nq, nk), "bool")))
    return positive, negative


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80, margin: float = 0.4) -> Tensor:
    """Per-sample Circle loss of integer labels `y_true` and L2-normalised embeddings
    `y_pred` (against `ref_embeddings`/`ref_labels`, by default the batch itself).

    Pairwise cosine distances ``d`` give positive terms ``-gamma * relu(margin + d) *
    (margin - d)`` and negative terms ``gamma * relu(1 + margin - d) * (1 - margin - d)``;
    the loss is ``softplus(logsumexp(pos) + logsumexp(neg))`` per row. Rows with a zero loss
    are masked out of the mean (the loss carries a Keras mask), as in Keras.
    """
    y_pred = as_float_tensor(y_pred)
    labels = tf.cast(to_tensor(y_true), "int32")
    ref = y_pred if ref_embeddings is None else as_float_tensor(ref_embeddings, npdt(y_pred))
    ref_labels = labels if ref_labels is None else tf.cast(to_tensor(ref_labels), "int32")
    if len(y_pred.shape) != 2 or len(ref.shape) != 2:
        raise ValueError(f"circle: expected embeddings of shape (batch, dim), got y_pred "
                         f"{tuple(y_pred.shape)} and reference embeddings {tuple(ref.shape)}")
    dist = tf.maximum(1.0 - tf.matmul(y_pred, ref, transpose_b=True), 0.0)
    positive, negative = build_pos_neg_masks(labels, ref_labels, remove_diagonal)
    pos_f, neg_f = tf.cast(positive, dist.dtype), tf.cast(negative, dist.dtype)
    pos_w = tf.maximum((margin + dist) * pos_f, 0.0)
    neg_w = tf.maximum(((1.0 + margin) - dist) * neg_f, 0.0)
    pos_wd = -1.0 * gamma * pos_w * (margin - dist)
    neg_wd = gamma * neg_w * ((1.0 - margin) - dist)
    # the lowest finite value stands for Keras's -inf: a row with no pair gets exp(.) = 0
    # terms and a zero loss just the same, without log(0) warnings or NaN gradients
    low = tf.zeros_like(dist) + float(np.finfo(npdt(dist)).min)
    p_loss = tf.reduce_logsumexp(tf.where(positive, pos_wd, low), axis=1)
    n_loss = tf.reduce_logsumexp(tf.where(negative, neg_wd, low), axis=1)
    loss = tf.math.softplus(p_loss + n_loss)
    from ndflow.keras.layers.layer import set_keras_mask

    set_keras_mask(loss, loss > 0)
    return loss


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalised embeddings (e.g. a `Dense`
    without activation followed by `UnitNormalization`).

    Args:
        gamma: scale of the similarity terms (default 80).
        margin: relaxation margin (default 0.4).
        remove_diagonal: leave each sample's self-similarity out of the positives (True).
        reduction, name, dtype: as for every loss.
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: Any = "sum_over_batch_size", name: str = "circle",
                 dtype: Any = None) -> None:
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def _convert_true(self, y_true: Any, y_pred: Tensor) -> Tensor:
        return to_tensor(y_true)  # integer labels stay integers

    def get_config(self) -> dict:
        config = Loss.get_config(self)
        config.update({"gamma": self.gamma, "margin": self.margin,
                       "remove_diagonal": self.remove_diagonal})
        return config

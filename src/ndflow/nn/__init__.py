"""`tf.nn`: activations, softmax, cross-entropies, dropout, normalisation helpers."""

from ndflow.ops.array import top_k
from ndflow.ops.linalg import l2_normalize
from ndflow.ops.nn import (
    batch_normalization, bias_add, crelu, dropout, elu, gelu, l2_loss, leaky_relu, log_poisson_loss,
    log_softmax, moments, relu, relu6, selu, sigmoid, sigmoid_cross_entropy_with_logits, silu,
    softmax, softmax_cross_entropy_with_logits, softplus, softsign,
    sparse_softmax_cross_entropy_with_logits, swish, tanh, weighted_cross_entropy_with_logits,
)

__all__ = [n for n in dir() if not n.startswith("_")]

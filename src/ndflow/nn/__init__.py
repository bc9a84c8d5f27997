"""`tf.nn`: activations, softmax, cross-entropies, dropout, normalisation helpers."""

from ndflow.ops.array import top_k
from ndflow.ops.linalg import l2_normalize
from ndflow.ops.embedding_lookup import embedding_lookup
from ndflow.distribute.loss_scaling import compute_average_loss, scale_regularization_loss
from ndflow.ops.nn import (
    batch_normalization, bias_add, crelu, dropout, elu, gelu, l2_loss, leaky_relu, log_poisson_loss,
    log_softmax, moments, relu, relu6, selu, sigmoid, sigmoid_cross_entropy_with_logits, silu,
    softmax, softmax_cross_entropy_with_logits, softplus, softsign,
    sparse_softmax_cross_entropy_with_logits, swish, tanh, weighted_cross_entropy_with_logits,
)

__all__ = [n for n in dir() if not n.startswith("_")]

# --- convolutions, pooling (ops/conv.py, ops/pooling.py) -------------------------------------
from ndflow.ops.conv import (  # noqa: E402
    conv, conv1d, conv1d_transpose, conv2d, conv2d_transpose, conv3d, conv3d_transpose,
    conv_transpose, convolution, depthwise_conv2d, separable_conv2d,
)
from ndflow.ops.pooling import (  # noqa: E402
    avg_pool, avg_pool1d, avg_pool2d, avg_pool3d, max_pool, max_pool1d, max_pool2d, max_pool3d,
)

__all__ = [n for n in dir() if not n.startswith("_")]

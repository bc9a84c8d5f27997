"""ndflow: TensorFlow's ideas with Keras's API, on NumPy (CPU) and CuPy (GPU).

>>> import ndflow as tf
>>> x = tf.Variable(2.0)
>>> with tf.GradientTape() as tape:
...     y = x ** 3
>>> float(tape.gradient(y, x))
12.0
"""

from ndflow.backend import host_memory as _host_memory

_host_memory.keep_freed_memory()

from ndflow import ops as _ops  # noqa: F401,E402  (fills the op registry)
from ndflow.core import operators as _operators

_operators.install()

from ndflow import config, data, errors, linalg, math, nn, random  # noqa: E402
from ndflow import image  # noqa: E402  (tf.image: ops/image.py)
from ndflow import io, signal, sparse, train  # noqa: E402  (tf.io, tf.sparse, tf.train.Example)
from ndflow.ops.spectral import complex  # noqa: E402,A004  (tf.complex)
from ndflow.sparse import SparseTensor  # noqa: E402
from ndflow.ops.py_function import numpy_function, py_function  # noqa: E402
from ndflow import strings  # noqa: E402  (tf.strings: string tensors' ops)
from ndflow.strings.ragged import RaggedTensor  # noqa: E402
from ndflow.backend.devices import device, list_physical_devices  # noqa: E402
from ndflow.core.dispatch import REGISTRY as _REGISTRY  # noqa: E402,F401
from ndflow.core.dtypes import (  # noqa: E402
    DType, as_dtype, bool, complex64, complex128, double, float16, float32, float64, half, int8,
    int16, int32, int64, string, uint8, uint16, uint32, uint64,
)
from ndflow.core.shape import TensorShape  # noqa: E402
from ndflow.core.tape import GradientTape, UnconnectedGradients  # noqa: E402
from ndflow.core.tensor import Tensor, constant, convert_to_tensor, is_tensor  # noqa: E402
from ndflow.core.variable import Variable  # noqa: E402
from ndflow.ops.array import (  # noqa: E402
    argsort, boolean_mask, concat, ensure_shape, expand_dims, gather, gather_nd, meshgrid,
    one_hot, pad, rank, repeat, reverse, roll, scatter_nd, shape, size, sort, split, squeeze,
    stack, strided_slice, tensor_scatter_nd_add, tensor_scatter_nd_update, tile, top_k,
    transpose, unstack,
)
from ndflow.ops.array import slice_ as slice  # noqa: E402,A004
from ndflow.ops.creation import (  # noqa: E402
    eye, fill, linspace, ones, ones_like, range, zeros, zeros_like,
)
from ndflow.ops.clipping import clip_by_global_norm, clip_by_norm  # noqa: E402
from ndflow.ops.linalg import einsum, matmul, norm, tensordot  # noqa: E402
from ndflow.ops.masks import sequence_mask  # noqa: E402
from ndflow.ops.unique import unique, unique_with_counts  # noqa: E402
from ndflow.ops.math import (  # noqa: E402
    abs, add, add_n, atan2, cast, ceil, clip_by_value, cos, cosh, divide, equal, exp, floor,
    floordiv, greater, greater_equal, identity, less, less_equal, log, logical_and, logical_not,
    logical_or, maximum, minimum, multiply, negative, not_equal, pow, realdiv, round, rsqrt,
    sigmoid, sign, sin, sinh, sqrt, square, stop_gradient, subtract, tan, tanh, truediv, where,
)
from ndflow.ops.reduce import (  # noqa: E402
    argmax, argmin, cumsum, reduce_all, reduce_any, reduce_logsumexp, reduce_max, reduce_mean,
    reduce_min, reduce_prod, reduce_std, reduce_sum, reduce_variance,
)
from ndflow.ops.shape_ops import broadcast_to, reshape  # noqa: E402
from ndflow.util import nest  # noqa: E402
from ndflow.graph import TensorSpec, cond, function, while_loop  # noqa: E402
from ndflow import autograph  # noqa: E402
from ndflow import distribute  # noqa: E402  (tf.distribute; MPI loads only when used)
from ndflow.util.printing import print  # noqa: E402,A004
from ndflow import debugging  # noqa: E402
from ndflow.util.assertions import (  # noqa: E402
    assert_equal, assert_greater, assert_less, assert_rank,
)

newaxis = None


def __getattr__(name: str):  # `tf.keras` without importing the Keras layer up front
    if name in ("keras", "onnx"):  # tf.onnx: export/import, needs the onnx extra when used
        import importlib

        return importlib.import_module(f"ndflow.{name}")
    raise AttributeError(f"module 'ndflow' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [n for n in dir() if not n.startswith("_")]

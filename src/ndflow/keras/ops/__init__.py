"""`keras.ops`: Keras 3's backend-agnostic ops on ndflow.

The namespace is flat, as in Keras (`ops.mean`, `ops.softmax`, `ops.cond`, `ops.norm` ...),
with the families also reachable as `ops.numpy`, `ops.nn`, `ops.math`, `ops.core`,
`ops.linalg` and `ops.image` (whose ops stay in `ops.image`, as in Keras). Ops follow NumPy
signatures and Keras 3's dtype promotion, are built from ndflow ops (so they differentiate
and trace), and accept `keras.Input` symbolic tensors.

>>> from ndflow.keras import ops
>>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
>>> ops.mean(x, axis=-1).numpy().tolist()
[1.5, 3.5]
>>> ops.argmax(x).numpy().item()
3
"""

from ndflow.keras.ops import core, image, linalg, math, nn, numpy
from ndflow.keras.ops._common import result_type as _result_type
from ndflow.keras.ops.core import *  # noqa: F403
from ndflow.keras.ops.linalg import *  # noqa: F403
from ndflow.keras.ops.math import *  # noqa: F403
from ndflow.keras.ops.nn import *  # noqa: F403
from ndflow.keras.ops.numpy import *  # noqa: F403
from ndflow.keras.ops import core_more, image_more, linalg_more, math_more, nn_more, numpy_more
from ndflow.keras.ops.core_more import *  # noqa: F403
from ndflow.keras.ops.linalg_more import *  # noqa: F403
from ndflow.keras.ops.math_more import *  # noqa: F403
from ndflow.keras.ops.nn_more import *  # noqa: F403
from ndflow.keras.ops.numpy_more import *  # noqa: F403

# The *_more modules extend their families (`ops.numpy.nanmean`, `ops.linalg.qr` ...).
for _family, _more in ((core, core_more), (image, image_more), (linalg, linalg_more),
                       (math, math_more), (nn, nn_more), (numpy, numpy_more)):
    for _n in _more.__all__:
        setattr(_family, _n, getattr(_more, _n))
    _family.__all__ = sorted(set(_family.__all__) | set(_more.__all__))
numpy.slogdet = linalg.slogdet
numpy.__all__ = sorted(set(numpy.__all__) | {"slogdet"})


def result_type(*dtypes: object) -> str:
    """The dtype name Keras 3 gives an op on `dtypes` (dtypes, tensors or Python numbers, which
    are weak).

    >>> result_type("int32", "float16"), result_type("int8", 1.5)
    ('float16', 'float32')
    """
    d = _result_type(*dtypes)
    return "bool" if d.kind == "b" else d.name


__all__ = sorted(set(core.__all__) | set(linalg.__all__) | set(math.__all__) | set(nn.__all__)
                 | set(numpy.__all__) | {"result_type", "core", "image", "linalg", "math", "nn",
                                       "numpy"})
del _family, _more, _n

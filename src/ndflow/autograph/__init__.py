"""AutoGraph: Python `if`/`while`/`for` on tensors inside `ndflow.function` become `tf.cond` /
`tf.while_loop`, as in TensorFlow 2.

`ndflow.function(f)` (``autograph=True``, the default) traces a converted copy of `f`: its
source rewritten so that each control-flow statement decides when it runs: a Python value
(or a tensor with a known value) keeps plain Python semantics; a tensor traced by
`ndflow.function` becomes a graph `cond` or `while_loop`. Functions that `f` calls, and the
`call` of Keras layers run inside it, are converted too when they are user code.

>>> import ndflow as tf
>>> @tf.function
... def collatz_steps(n):
...     steps = 0
...     while n > 1:
...         if n % 2 == 0:
...             n = n // 2
...         else:
...             n = 3 * n + 1
...         steps += 1
...     return steps
>>> int(collatz_steps(tf.constant(6)))
8
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from ndflow.autograph.conversion import convert, is_enabled, to_source


def to_graph(entity: Callable, recursive: bool = True, experimental_optional_features: Any = None
             ) -> Callable:
    """The converted version of a Python function or method (`tf.autograph.to_graph`)."""
    conv = convert(entity)
    if conv is entity and isinstance(entity, (types.FunctionType, types.MethodType)):
        from ndflow.autograph.conversion import _convert_code

        fn = entity.__func__ if isinstance(entity, types.MethodType) else entity
        _convert_code(fn)  # raises why it cannot be converted
    return conv


def to_code(entity: Callable, recursive: bool = True, experimental_optional_features: Any = None
            ) -> str:
    """The Python source AutoGraph generates for a function (`tf.autograph.to_code`)."""
    return to_source(entity)


def do_not_convert(func: Callable | None = None) -> Any:
    """Decorator: AutoGraph leaves this function as written (Python control flow on traced
    tensors then fails, as in TensorFlow)."""
    def mark(f: Callable) -> Callable:
        target = f.__func__ if isinstance(f, types.MethodType) else f
        try:
            target.__ag_do_not_convert__ = True
        except AttributeError:
            pass
        return f

    return mark if func is None else mark(func)


class _Experimental(types.SimpleNamespace):
    pass


experimental = _Experimental(do_not_convert=do_not_convert)

__all__ = ["do_not_convert", "experimental", "to_code", "to_graph"]

"""`tf.print`: print tensors' values (NumPy formatting), like TensorFlow's eager print."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np


def print(*inputs: Any, output_stream: Any = None, summarize: int = 3, sep: str = " ",
          end: str = "\n", name: str | None = None) -> None:
    """Print values; tensors show their contents like `tf.print` does.

    Inside `ndflow.function` it prints on every call, not once at trace time.
    """
    from ndflow.core import dispatch
    from ndflow.core.tensor import Tensor

    if dispatch.trace_hook is not None:
        from ndflow.graph.trace import current_trace, host_call

        if current_trace() is not None:  # every call prints, even of constants only (TF)
            kwargs = {"output_stream": output_stream, "summarize": summarize, "sep": sep,
                      "end": end}
            host_call(print, inputs, kwargs)
            return

    parts = []
    for v in inputs:
        if isinstance(v, Tensor):
            parts.append(np.array2string(v.numpy(), separator=" ", edgeitems=summarize,
                                         threshold=2 * summarize + 1 if summarize > 0 else
                                         sys.maxsize))
        else:
            parts.append(str(v))
    stream = sys.stderr if output_stream is None else output_stream
    if stream in ("stdout", sys.stdout) or output_stream is sys.stdout:
        stream = sys.stdout
    builtins.print(*parts, sep=sep, end=end, file=stream)

"""`Dataset.from_generator`: elements from a Python generator, checked against the declared
signature (structure, dtype, shape) with errors that name the element and component."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.context import IterContext
from ndflow.data.parallel import close_iterator
from ndflow.errors import InvalidArgumentError

_describe = st.describe


def from_generator(generator: Callable, output_types: Any, output_shapes: Any, args: Any,
                   output_signature: Any) -> Any:
    from ndflow.data.dataset import Dataset

    if not callable(generator):
        raise TypeError("Dataset.from_generator: `generator` must be callable (a function "
                        "returning an iterator), got " + type(generator).__name__)
    from ndflow.core.dtypes import as_dtype

    if output_signature is not None:
        template = output_signature
        specs = [(s.dtype, s.shape) for s in st.flatten(output_signature)]
    elif output_types is not None:
        template = output_types
        shapes = (st.flatten(output_shapes) if output_shapes is not None
                  else [None] * len(st.flatten(output_types)))
        specs = [(as_dtype(d), s) for d, s in zip(st.flatten(output_types), shapes)]
    else:
        template, specs = None, None
    stage = "Dataset.from_generator"

    def convert(el: Any, index: int) -> Any:
        if specs is None:
            return st.element_numpy(el)
        if st.signature(el) != st.signature(template) and len(specs) > 1:
            raise InvalidArgumentError(
                f"{stage}: element {index} has structure {_describe(el)}, expected "
                f"{_describe(template)} (from output_signature/output_types)")
        leaves = st.flatten(el) if len(specs) > 1 else [el]
        out = []
        for j, (v, (dtype, shape)) in enumerate(zip(leaves, specs)):
            a = st.to_numpy(v)
            if dtype.name == "string":
                a = st.to_numpy(a) if a.dtype.kind == "O" else a
            else:
                try:
                    a = np.asarray(a, dtype=dtype.as_numpy_dtype)
                except (TypeError, ValueError) as e:
                    raise InvalidArgumentError(
                        f"{stage}: element {index} component {j}: cannot convert "
                        f"{a.dtype} to {dtype.name} ({e})") from e
            if shape is not None and not _shape_ok(a.shape, shape):
                raise InvalidArgumentError(
                    f"{stage}: element {index} component {j}: expected shape "
                    f"{_shape_str(shape)}, got {tuple(a.shape)}; the generator must yield "
                    "elements matching output_signature")
            out.append(a)
        return st.pack(template, out) if len(specs) > 1 else out[0]

    def make(ctx: IterContext) -> Iterator:
        gen = generator(*(args or ()))
        try:
            for i, el in enumerate(gen):
                yield convert(el, i)
        finally:
            close_iterator(gen)

    return Dataset(make)


def _shape_ok(shape: tuple, expected: Any) -> bool:
    dims = getattr(expected, "dims", None)
    if dims is None and hasattr(expected, "as_list"):
        try:
            dims = expected.as_list()
        except ValueError:
            return True  # unknown rank
    elif dims is None:
        dims = list(expected)
    dims = [getattr(d, "value", d) for d in dims]
    return len(dims) == len(shape) and all(d is None or d == s for d, s in zip(dims, shape))


def _shape_str(shape: Any) -> str:
    try:
        return str(tuple(shape.as_list()))
    except Exception:
        return str(shape)

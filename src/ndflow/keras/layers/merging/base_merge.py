"""The shared base of the element-wise merge layers (Add, Subtract, Multiply, Average,
Maximum, Minimum): shape checks with clear errors, broadcasting, and mask merging."""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops.array import expand_dims


def _fmt(shapes: list) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


class Merge(Layer):
    """Base class: subclasses implement `_merge_function(inputs) -> tensor`."""

    _min_inputs = 1
    _max_inputs: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    # --- shapes -------------------------------------------------------------------------------
    def _check_list(self, input_shape: Any) -> list:
        cls = type(self).__name__
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"{cls} layer '{self.name}' must be called on a list of inputs, got "
                             f"a single input of shape {input_shape}. Example: "
                             f"{cls}()([x1, x2]).")
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < self._min_inputs or (self._max_inputs is not None and
                                              len(shapes) > self._max_inputs):
            want = (f"exactly {self._min_inputs}" if self._max_inputs == self._min_inputs
                    else f"at least {self._min_inputs}")
            raise ValueError(f"{cls} layer '{self.name}' expects {want} inputs, got "
                             f"{len(shapes)} (shapes {_fmt(shapes)})")
        return shapes

    def _elementwise_shape(self, a: tuple, b: tuple, shapes: list) -> tuple:
        if len(a) < len(b):
            a, b = b, a
        if not b:
            return a
        out = list(a[:-len(b)])
        for i, j in zip(a[-len(b):], b):
            if i is None or j is None:
                out.append(None)
            elif i == 1:
                out.append(j)
            elif j == 1 or i == j:
                out.append(i)
            else:
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': inputs must have the same "
                    f"shape (or shapes that broadcast), got shapes {_fmt(shapes)}")
        return tuple(out)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check_list(input_shape)
        batches = {s[0] for s in shapes if s and s[0] is not None}
        if len(batches) > 1:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': inputs must have the "
                             f"same batch size, got shapes {_fmt(shapes)}")
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = self._elementwise_shape(out, s[1:], shapes)
        batch = next(iter(batches)) if batches else None
        return (batch,) + tuple(out)

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    # --- call ---------------------------------------------------------------------------------
    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            self._check_list(tuple(inputs.shape) if hasattr(inputs, "shape") else inputs)
        xs = list(inputs)
        self._check_list([tuple(x.shape) for x in xs])
        ranks = [len(x.shape) for x in xs]
        if len(set(ranks)) > 1:  # align ranks by adding trailing axes (as Keras does)
            top = max(ranks)
            for i, x in enumerate(xs):
                while len(x.shape) < top:
                    x = expand_dims(x, -1)
                xs[i] = x
        return self._merge_function(xs)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["inputs"]
        shape = self.compute_output_shape([tuple(t.shape) for t in x])
        return SymbolicTensor(shape, x[0].dtype)

    def _merge_function(self, inputs: list) -> Tensor:
        raise TypeError(f"{type(self).__name__} must implement _merge_function")

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"{type(self).__name__} layer '{self.name}': expected one mask per "
                             f"input ({len(inputs)}), got {mask!r}")
        masks = [mk for mk in mask if mk is not None]
        if not masks:
            return None
        out = masks[0]
        for mk in masks[1:]:
            out = m.logical_and(out, mk)
        return out

    def get_config(self) -> dict:
        return super().get_config()

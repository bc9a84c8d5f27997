"""`EinsumDense`: a dense layer written as an einsum between the inputs and a kernel.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
>>> out = layer(np.ones((3, 5, 8), "float32"))
>>> tuple(out.shape), tuple(layer.kernel.shape), tuple(layer.bias.shape)
((3, 5, 2, 4), (8, 2, 4), (2, 4))
"""

from __future__ import annotations

import re
from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor, convert_to_tensor
from ndflow.keras import activations, constraints, initializers, regularizers
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.linalg import einsum

def _split(name: str, equation: str) -> tuple:
    """(input spec, kernel spec, output spec) of an EinsumDense equation."""
    eq = equation.replace(" ", "") if isinstance(equation, str) else ""
    hit = re.match(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", eq)
    if not hit:
        hint = (" Equations with '...' are not supported by ndflow's EinsumDense; spell the "
                "dimensions out." if "..." in eq else "")
        raise ValueError(f"{name}: expected an equation like 'abc,cd->abd', got "
                         f"equation={equation!r}.{hint}")
    return hit.group(1), hit.group(2), hit.group(3)


def analyze(name: str, equation: str, bias_axes: str | None, input_shape: tuple,
            output_shape: Any) -> tuple:
    """Kernel shape, bias shape and full output shape (Keras 3's rules)."""
    ins, ws, outs = _split(name, equation)
    input_shape = tuple(input_shape)
    if len(input_shape) != len(ins):
        raise ValueError(f"{name}: the equation {equation!r} expects inputs of rank {len(ins)}, "
                         f"got shape {input_shape}")
    out_dims = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out_dims.insert(0, input_shape[0])
    if len(out_dims) != len(outs):
        raise ValueError(f"{name}: output_shape {output_shape} (without the batch dimension) "
                         f"does not match the output spec {outs!r} of {equation!r}")
    imap = {c: i for i, c in enumerate(ins)}
    omap = {c: i for i, c in enumerate(outs)}
    for c in ins:
        if c in omap:
            o, i = out_dims[omap[c]], input_shape[imap[c]]
            if o is not None and i is not None and o != i:
                raise ValueError(f"{name}: output_shape {output_shape} gives dimension {c!r} "
                                 f"the size {o}, the inputs {i}")
    for c in outs:
        if c not in ins and c not in ws:
            raise ValueError(f"{name}: output dimension {c!r} of {equation!r} is in neither the "
                             "inputs nor the kernel")
    kernel = []
    for c in ws:
        if c in imap:
            kernel.append(input_shape[imap[c]])
        elif c in omap:
            kernel.append(out_dims[omap[c]])
        else:
            raise ValueError(f"{name}: kernel dimension {c!r} of {equation!r} is in neither the "
                             "inputs nor the outputs")
    if any(d is None for d in kernel):
        raise ValueError(f"{name}: the kernel shape {kernel} has unknown dimensions; give them "
                         "in output_shape or the input shape")
    bias = None
    if bias_axes:
        for c in bias_axes:
            if c not in outs:
                raise ValueError(f"{name}: bias axis {c!r} is not in the output spec {outs!r}")
        first = min(outs.find(c) for c in bias_axes)
        bias = tuple(out_dims[omap[c]] if c in bias_axes else 1 for c in outs[first:])
    full = [input_shape[imap[c]] if out_dims[i] is None and c in imap else out_dims[i]
            for c, i in omap.items()]
    return tuple(kernel), bias, tuple(full)


class EinsumDense(Layer):
    """Keras 3 `EinsumDense(equation, output_shape, activation=None, bias_axes=None, ...)`.

    `output_shape` excludes the batch dimension (None for dimensions taken from the inputs);
    the kernel's shape follows from the equation, and `bias_axes` names the output dimensions
    the bias spans.

    >>> EinsumDense("ab,bc->ac", 4).get_config()["output_shape"]
    [4]
    """

    def __init__(self, equation: str, output_shape: Any, activation: Any = None,
                 bias_axes: str | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, lora_rank: Any = None, **kwargs: Any) -> None:
        kwargs.pop("quantization_config", None)
        kwargs.pop("lora_alpha", None)
        if lora_rank:
            raise ValueError("EinsumDense: lora_rank is not supported by ndflow; pass "
                             "lora_rank=None")
        super().__init__(**kwargs)
        _split(f"EinsumDense '{self.name}'", equation)
        self.equation = equation
        self.partial_output_shape = [output_shape] if isinstance(output_shape, int) else list(
            output_shape)
        self.activation = activations.get(activation)
        self.bias_axes = bias_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.full_output_shape: tuple | None = None
        self.supports_masking = False

    def build(self, input_shape: Any) -> None:
        k, b, full = analyze(f"EinsumDense '{self.name}'", self.equation, self.bias_axes,
                             tuple(input_shape), self.partial_output_shape)
        self.full_output_shape = full
        self.kernel = self.add_weight(name="kernel", shape=k, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None if b is None else self.add_weight(
            name="bias", shape=b, initializer=self.bias_initializer,
            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if npdt(x) != npdt(self.kernel):
            x = m.cast(x, npdt(self.kernel))
        y = einsum(self.equation.replace(" ", ""), x, self.kernel)
        if self.bias is not None:
            y = m.add(y, self.bias)
        if self.activation is not None:
            y = self.activation(y)
        return y

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return analyze(f"EinsumDense '{self.name}'", self.equation, self.bias_axes,
                       tuple(input_shape), self.partial_output_shape)[2]

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["inputs"]
        return SymbolicTensor(self.compute_output_shape(tuple(x.shape)), self.compute_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "output_shape": list(self.partial_output_shape),
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config

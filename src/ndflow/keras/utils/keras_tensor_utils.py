"""Symbolic (Keras) tensors: `is_keras_tensor` and `get_source_inputs`.

>>> from ndflow import keras
>>> x = keras.Input((3,))
>>> y = keras.layers.Dense(2)(x)
>>> is_keras_tensor(y), get_source_inputs(y)[0] is x
(True, True)
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor


def is_keras_tensor(x: Any) -> bool:
    """Whether `x` is a symbolic tensor from `keras.Input` or a layer called on one."""
    return isinstance(x, SymbolicTensor)


def get_source_inputs(tensor: Any) -> list:
    """The `keras.Input` tensors that `tensor` is computed from, in first-seen order
    (`tensor` itself, in a list, when it is an input; returned unchanged when it is not
    symbolic)."""
    if not isinstance(tensor, SymbolicTensor):
        return tensor
    history = tensor._keras_history
    if history is None:
        node = tensor._node
        if node is None:
            return [tensor]
        parents = [t for t in node[1] if isinstance(t, SymbolicTensor)]
    else:
        from ndflow.keras.layers.input_layer import InputLayer

        layer = history.operation
        if layer is None or not layer._inbound_nodes:
            return [tensor]
        node = layer._inbound_nodes[history.node_index]
        if isinstance(layer, InputLayer):
            return list(node.flat_outputs)
        parents = node.input_tensors
    out: list = []
    for t in parents:
        for x in get_source_inputs(t):
            if all(x is not s for s in out):
                out.append(x)
    return out

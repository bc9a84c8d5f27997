"""What every application model shares: checking `weights`, making the image input (or taking
`input_tensor`), the pooling of a headless model, and loading weights from the Keras cache,
from Keras's download URLs, or from a local file (``.weights.h5``, ``.keras`` or the legacy
``.h5`` layout of the files Keras downloads).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor
from ndflow.keras import layers
from ndflow.keras.models.functional import Functional

BASE_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def check_weights(weights: Any, include_top: bool, classes: int, model: str) -> None:
    """Keras's checks of `weights` and `classes` (before any layer is built)."""
    if not (weights in ("imagenet", None) or (isinstance(weights, (str, os.PathLike))
                                               and os.path.exists(weights))):
        raise fail(model, "weights=None (random initialization), 'imagenet' (pre-training "
                   "on ImageNet) or the path of an existing weights file", repr(weights),
                   "check the path; 'imagenet' downloads Keras's file into ~/.keras/models")
    if weights == "imagenet" and include_top and classes != 1000:
        raise fail(model, "classes=1000 with weights='imagenet' and include_top=True",
                   f"classes={classes}", "use include_top=False and add your own head")


def image_input(input_tensor: Any, input_shape: tuple) -> SymbolicTensor:
    """The model's image input: a new `keras.Input`, or `input_tensor` when it is one."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if isinstance(input_tensor, SymbolicTensor):
        return input_tensor
    return layers.Input(tensor=input_tensor, shape=input_shape)


def source_inputs(tensor: SymbolicTensor) -> list:
    """The `keras.Input` tensors a symbolic tensor is computed from (its graph's sources)."""
    from ndflow.keras.layers.input_layer import InputLayer

    out: list = []
    seen: set = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        h = t._keras_history
        if h is None:
            node = getattr(t, "_node", None)
            if node is not None:
                stack.extend(x for x in node[1] if isinstance(x, SymbolicTensor))
            continue
        if isinstance(h.operation, InputLayer):
            out.append(t)
            continue
        node = h.operation._inbound_nodes[h.node_index]
        stack.extend(reversed(node.input_tensors))
    return out


def make_model(input_tensor: Any, img_input: SymbolicTensor, x: SymbolicTensor,
               name: str) -> Functional:
    """The Functional model from the image input (or `input_tensor`'s sources) to `x`."""
    inputs = source_inputs(input_tensor) if input_tensor is not None and isinstance(
        input_tensor, SymbolicTensor) else img_input
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    return Functional(inputs, x, name=name)


def pool(x: SymbolicTensor, pooling: Any, name: str | None = None) -> SymbolicTensor:
    """The optional global pooling of a headless model (`pooling=None|'avg'|'max'`)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=name)(x) if name else \
            layers.GlobalAveragePooling2D()(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=name)(x) if name else \
            layers.GlobalMaxPooling2D()(x)
    return x


def load_weights(model: Functional, weights: Any, files: dict | None, include_top: bool,
                 ) -> None:
    """Load `weights` into `model`: "imagenet" through the Keras cache (files maps
    include_top to ``(file name, url, hash)``), or a local path."""
    if weights is None:
        return
    if weights == "imagenet":
        if files is None or include_top not in files:
            raise fail(model.name, "weights that Keras publishes", "weights='imagenet' for "
                       f"include_top={include_top}", "Keras has no such file")
        from ndflow.keras.utils.file_utils import get_file

        fname, url, file_hash = files[include_top]
        path = get_file(fname, url, cache_subdir="models", file_hash=file_hash)
    else:
        path = os.fspath(weights)
    load_weights_file(model, path)


def load_weights_file(model: Functional, path: str) -> None:
    """Load a ``.weights.h5``/``.keras`` file (Keras 3) or a legacy Keras ``.h5`` file."""
    if path.endswith((".weights.h5", ".keras")):
        model.load_weights(path)
        return
    load_legacy_h5_weights(model, path)


def _h5_attr_list(group: Any, name: str) -> list:
    # Keras splits long attribute lists into name0, name1, ... (HDF5 attribute size limit)
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def load_legacy_h5_weights(model: Functional, path: str) -> None:
    """Load the legacy Keras HDF5 weights layout (the files Keras downloads): layers with
    weights are matched in order, each layer's values in trainable-then-non-trainable order."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise fail(model.name, "a readable HDF5 weights file", f"{path!r} ({e})",
                   "re-download it or save it again") from None
    with f:
        group = f
        if "layer_names" not in f.attrs and "layer_names0" not in f.attrs \
                and "model_weights" in f:
            group = f["model_weights"]
        names = [n for n in _h5_attr_list(group, "layer_names")
                 if n in group and _h5_attr_list(group[n], "weight_names")]
        targets = [la for la in model.layers if la.trainable_weights or la.non_trainable_weights]
        if len(names) != len(targets):
            raise fail(model.name, f"a weights file with {len(targets)} layers that have "
                       "weights", f"{len(names)} in {path!r}",
                       "the file was saved from another architecture or include_top")
        pending = []
        for k, (name, layer) in enumerate(zip(names, targets)):
            g = group[name]
            values = [np.asarray(g[w]) for w in _h5_attr_list(g, "weight_names")]
            variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
            if len(values) != len(variables):
                raise fail(model.name, f"{len(variables)} weights for layer #{k} "
                           f"({layer.name!r})", f"{len(values)} for {name!r} in the file",
                           "the file was saved from another architecture")
            for v, val in zip(variables, values):
                if tuple(v.shape) != val.shape:
                    raise fail(model.name, f"shape {tuple(v.shape)} for a weight of layer "
                               f"{layer.name!r}",
                               f"{val.shape} for {name!r} in the file",
                               "the file was saved from another architecture or input size")
                pending.append((v, val))
        for v, val in pending:
            v.assign(val.astype(v.numpy().dtype, copy=False))


"""The Keras 3 `.keras` format: a zip of ``metadata.json``, ``config.json`` and
``model.weights.h5``; and the ``.weights.h5`` weights-only format.

The HDF5 layout is Keras 3's, so files move between ndflow and Keras: every saveable object
(layer, model, optimizer) owns a group ``<path>/vars`` whose datasets ``"0"``, ``"1"`` ... hold
its own variables (a layer's trainable then non-trainable weights; an optimizer's
``variables``). Paths follow the object tree: ``layers/<class_snake_name>[_<n>]`` for the layers
of Sequential/Functional models (numbered by class, in Keras's graph order), attribute names
for subclassed models and layers (public attributes first, alphabetically, then private ones),
``optimizer`` for the compiled optimizer.

Loading is defensive: member names, sizes and JSON are checked (see `file_io`), only plain
numeric HDF5 datasets stored inside the file are read (no external links, external storage or
virtual datasets), every shape is checked against the model before reading, and any problem is
a `ValueError` naming the file and the object.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.keras.saving import assets as _assets
from ndflow.keras.saving import file_io, limits
from ndflow.keras.saving import object_registration as _reg
from ndflow.keras.saving import serialization_lib as _ser
from ndflow.keras.saving.file_io import FileFormatError
from ndflow.keras.saving.limits import get_load_limits

__all__ = ["save_model", "load_model", "save_weights_only", "load_weights_only"]

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME = "model.weights.h5"
KERAS_VERSION = "3.0.0"  # the format version written into metadata.json

# --- object tree --------------------------------------------------------------------------------


def keras_snake_case(name: str) -> str:
    """Keras's snake-case of a class name (``Conv2D`` -> ``conv2d``), used for h5 paths."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def h5_name(obj: Any) -> str:
    """The h5 group name of an object in a list: Keras's snake case of its Python class name
    (a class may name the Keras class it mirrors with ``_keras_class_name`` when the two
    differ, e.g. Keras's ``GroupedQueryAttention`` is exported as ``GroupQueryAttention``)."""
    return keras_snake_case(getattr(type(obj), "_keras_class_name", None) or type(obj).__name__)


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


# Engine bookkeeping attributes that hold layers without owning them.
_ENGINE_CONTAINERS = frozenset({
    "_stack", "_ordered_layers", "_graph_steps", "_layers", "_input_layers", "_output_layers",
    "_inputs_struct", "_outputs_struct", "_graph_input", "_graph_output", "_graph_inputs",
    "_graph_outputs", "_inbound_nodes", "_own_variables", "_losses", "_auto_config",
    "_build_shapes", "_callbacks", "history", "_compile_loss", "_compile_metrics",
    "_loss_tracker", "compiled_loss", "compiled_metrics", "_compile_config", "_trainer_state",
    "_train_function", "_test_function", "_predict_function", "_step_cache", "_tracker",
    "_attr_metrics_cache", "_reg_cache", "_train_vars_cache", "_first_output_shape",
    "train_function", "test_function", "predict_function", "loss",
})


def _classes() -> tuple:
    from ndflow.keras.layers.layer import Layer
    from ndflow.keras.optimizers.base_optimizer import Optimizer

    return Layer, Optimizer


def _is_saveable(obj: Any) -> bool:
    layer_cls, opt_cls = _classes()
    return isinstance(obj, (layer_cls, opt_cls))


def _skip_names() -> frozenset:
    from ndflow.keras.layers import layer as layer_mod

    untracked = getattr(layer_mod, "_UNTRACKED", frozenset())
    return (frozenset(untracked) | _ENGINE_CONTAINERS) - {"optimizer"}


def _walk(obj: Any) -> list:
    """``[(attribute name, child)]`` of a saveable, in Keras's order."""
    layer_cls, opt_cls = _classes()
    out: list = []
    if isinstance(obj, opt_cls):  # wrappers hold their inner optimizers, as Keras writes them
        children = getattr(obj, "_saveable_children", None)
        return list(children()) if children is not None else out
    kind = _model_kind(obj)
    if kind == "Sequential":
        out.append(("layers", list(obj.layers)))
    elif kind == "Functional":
        out.append(("layers", functional_layers_in_keras_order(obj)))
    skip = _skip_names()
    items = []
    for key, value in vars(obj).items():
        if key.startswith("__") or key in skip:
            continue
        if key == "optimizer" and not isinstance(value, opt_cls):
            continue
        if _is_saveable(value) or (isinstance(value, (list, tuple, dict)) and
                                   _has_saveable(value, 0)):
            items.append((key, value))
    items.sort(key=lambda kv: _name_key(kv[0]))
    out.extend(items)
    return out


def _has_saveable(container: Any, depth: int) -> bool:
    if depth > 3:
        return False
    values = container.values() if isinstance(container, dict) else container
    for v in values:
        if _is_saveable(v):
            return True
        if isinstance(v, (list, tuple, dict)) and _has_saveable(v, depth + 1):
            return True
    return False


def _model_kind(obj: Any) -> str | None:
    try:
        from ndflow.keras.models.functional import Functional
        from ndflow.keras.models.sequential import Sequential
    except ImportError:  # pragma: no cover
        return None
    if isinstance(obj, Sequential):
        return "Sequential"
    if isinstance(obj, Functional):
        return "Functional"
    return None


def functional_layers_in_keras_order(model: Any) -> list:
    """The layers of a Functional model in Keras 3's order (by decreasing depth from the
    outputs, then first visit in a depth-first walk), which fixes the h5 names."""
    from ndflow.keras.layers.input_layer import InputLayer

    graph_inputs = list(getattr(model, "_graph_inputs", []) or [])
    graph_outputs = list(getattr(model, "_graph_outputs", []) or [])
    input_ids = {id(t) for t in graph_inputs}

    def producer(t: Any) -> Any:
        h = getattr(t, "_keras_history", None)
        if h is None:
            return None
        return h.operation._inbound_nodes[h.node_index]

    def node_inputs(node: Any) -> list:
        """Tensors with a producing layer feeding ``node`` (through raw ops)."""
        out: list = []
        stack = list(reversed(node.input_tensors))
        seen: set = set()
        while stack:
            t = stack.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            if getattr(t, "_keras_history", None) is not None or id(t) in input_ids:
                out.append(t)
            else:
                raw = getattr(t, "_node", None)
                if raw is not None:
                    from ndflow.core.tensor import SymbolicTensor

                    stack.extend(reversed([x for x in raw[1] if isinstance(x, SymbolicTensor)]))
        return out

    def is_input(node: Any) -> bool:
        return isinstance(node.layer, InputLayer)

    finished: set = set()
    in_progress: set = set()
    ordered_nodes: list = []
    op_index: dict = {}
    # iterative version of Keras's recursive depth-first walk
    for out_t in graph_outputs:
        stack: list = [(out_t, None)]
        while stack:
            t, node = stack.pop()
            if node is not None:  # post-visit
                finished.add(node)
                in_progress.discard(node)
                ordered_nodes.append(node)
                continue
            n = producer(t)
            if n is None:
                raw = getattr(t, "_node", None)
                if raw is not None:
                    from ndflow.core.tensor import SymbolicTensor

                    for x in reversed([x for x in raw[1] if isinstance(x, SymbolicTensor)]):
                        stack.append((x, None))
                continue
            if n in finished or n in in_progress:
                continue
            if not is_input(n) and id(t) in input_ids:
                finished.add(n)
                continue
            op_index.setdefault(n.layer, len(op_index))
            in_progress.add(n)
            stack.append((t, n))
            if not is_input(n):
                for x in reversed(node_inputs(n)):
                    stack.append((x, None))
    in_graph = set(ordered_nodes)
    node_depth: dict = {}
    layer_depth: dict = {}
    for n in reversed(ordered_nodes):
        depth = node_depth.setdefault(n, 0)
        depth = max(depth, layer_depth.get(n.layer, 0))
        layer_depth[n.layer] = depth
        node_depth[n] = depth
        for x in node_inputs(n):
            p = producer(x)
            if p is None or p not in in_graph:
                continue
            node_depth[p] = max(depth + 1, node_depth.get(p, 0))
    for t in graph_inputs:
        h = getattr(t, "_keras_history", None)
        if h is not None and h.operation not in layer_depth:
            layer_depth[h.operation] = 0
            op_index[h.operation] = -1
    by_depth: dict = {}
    for layer, d in layer_depth.items():
        by_depth.setdefault(d, []).append(layer)
    ordered = []
    for d in sorted(by_depth, reverse=True):
        ordered.extend(sorted(by_depth[d], key=lambda x: op_index.get(x, 0)))
    # Layers tracked by the model but outside the graph keep the engine's order, at the end.
    seen = {id(x) for x in ordered}
    for layer in model.layers:
        if id(layer) not in seen:
            ordered.append(layer)
    return ordered


def own_variables(obj: Any) -> list:
    """The variables a saveable stores in its own ``vars`` group, in Keras's order."""
    layer_cls, opt_cls = _classes()
    if isinstance(obj, opt_cls):
        return list(obj.variables)
    if hasattr(obj, "save_own_variables") and hasattr(obj, "_saving_variables"):
        return list(obj._saving_variables())
    own = list(obj._direct_variables())
    return [v for v in own if v.trainable] + [v for v in own if not v.trainable]


def iter_saveables(root: Any, include_optimizer: bool = True) -> list:
    """``[(h5 path, saveable)]`` for the whole object tree, each object once (first path)."""
    out: list = []
    visited: set = set()

    def visit(obj: Any, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj))
        for attr, child in _walk(obj):
            if attr == "optimizer" and not include_optimizer:
                continue
            child_path = f"{path}/{attr}" if path else attr
            if _is_saveable(child):
                visit(child, child_path)
            elif isinstance(child, (list, tuple, dict)):
                container(child, child_path, set())

    def container(value: Any, path: str, seen_containers: set) -> None:
        if id(value) in seen_containers:
            return
        seen_containers.add(id(value))
        used: dict = {}
        items = list(value.values()) if isinstance(value, dict) else list(value)
        for item in items:
            if _is_saveable(item):
                name = _unique(h5_name(item), used)
                visit(item, f"{path}/{name}")
            elif isinstance(item, (list, tuple, dict)):
                name = _unique("container", used)
                container(item, f"{path}/{name}", seen_containers)

    visit(root, "")
    return out


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# --- HDF5 ---------------------------------------------------------------------------------------
def _h5py() -> Any:
    import h5py

    return h5py


def write_h5_state(h5: Any, root: Any, include_optimizer: bool = True) -> None:
    """Write the variables of ``root``'s object tree into an open, writable h5py File."""
    for path, obj in iter_saveables(root, include_optimizer):
        group = h5.require_group(path) if path else h5
        vars_group = group.require_group("vars")
        name = getattr(obj, "name", None)
        if isinstance(name, str):
            vars_group.attrs["name"] = name
        for i, v in enumerate(own_variables(obj)):
            arr = np.asarray(v.numpy())
            ds = vars_group.create_dataset(str(i), data=arr)
            if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
                ds.attrs[NONFINITE_ATTR] = True
        # state Keras stores under a name rather than an index (e.g. "idf_weights")
        for key, arr in (obj._saved_arrays() if hasattr(obj, "_saved_arrays") else {}).items():
            vars_group.create_dataset(key, data=np.asarray(arr))
        gens = seed_generators_of(obj)
        if gens:  # an attribute: invisible to Keras, keeps random layers' streams exact
            vars_group.attrs[SEED_ATTR] = json.dumps([[int(g.seed), int(g._counter)]
                                                      for g in gens])


SEED_ATTR = "ndflow_seed_generators"


def seed_generators_of(obj: Any) -> list:
    """The `SeedGenerator`s held directly by a layer (in attribute order)."""
    if not hasattr(obj, "_direct_variables"):
        return []
    try:
        from ndflow.keras.utils.rng_utils import SeedGenerator
    except ImportError:  # pragma: no cover
        return []
    return [v for _, v in sorted(vars(obj).items()) if isinstance(v, SeedGenerator)]


def _read_seed_state(group: Any, obj: Any, where: str) -> list:
    gens = seed_generators_of(obj)
    if group is None:
        return []
    try:
        raw = group.attrs.get(SEED_ATTR)
    except READ_H5_ERRORS:
        return []
    if raw is None:
        return []
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        state = json.loads(str(raw))
        pairs = [(int(a), int(b)) for a, b in state]
    except (ValueError, TypeError, RecursionError):
        raise FileFormatError(f"Invalid weights file {where}: bad {SEED_ATTR} attribute on "
                              f"{group.name}") from None
    if len(pairs) != len(gens) or any(a < 0 or b < 0 for a, b in pairs):
        return []
    return list(zip(gens, pairs))


class _H5Reader:
    """Validated read access to the ``vars`` groups of a weights file."""

    def __init__(self, h5: Any, where: str) -> None:
        self.h5 = h5
        self.where = where
        self.used: set = set()

    def _hard_child(self, group: Any, name: str) -> Any:
        h5py = _h5py()
        try:
            link = group.get(name, getlink=True)
        except READ_H5_ERRORS as e:
            raise FileFormatError(f"Invalid weights file {self.where}: cannot read entry "
                                  f"{name!r} ({type(e).__name__}: {e})") from None
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise FileFormatError(
                f"Invalid weights file {self.where}: entry {group.name}/{name} is a "
                f"{type(link).__name__}; only data stored inside the file is accepted "
                "(external or soft links could read other files)")
        try:
            return group[name]
        except READ_H5_ERRORS as e:
            raise FileFormatError(f"Invalid weights file {self.where}: cannot open "
                                  f"{group.name}/{name} ({type(e).__name__}: {e})") from None

    def vars_group(self, path: str) -> Any:
        h5py = _h5py()
        group = self.h5
        for part in [p for p in path.split("/") if p]:
            group = self._hard_child(group, part)
            if group is None:
                return None
            if not isinstance(group, h5py.Group):
                raise FileFormatError(f"Invalid weights file {self.where}: {group.name} "
                                      "should be a group")
        g = self._hard_child(group, "vars")
        if g is not None and not isinstance(g, h5py.Group):
            raise FileFormatError(f"Invalid weights file {self.where}: {g.name} should be a "
                                  "group")
        return g

    def dataset_keys(self, group: Any) -> list:
        try:
            keys = list(group.keys())
        except READ_H5_ERRORS as e:
            raise FileFormatError(f"Invalid weights file {self.where}: cannot list "
                                  f"{group.name} ({type(e).__name__}: {e})") from None
        return keys

    def read(self, group: Any, key: str, shape: tuple, dtype: np.dtype, label: str
             ) -> np.ndarray:
        h5py = _h5py()
        ds = self._hard_child(group, key)
        if ds is None:
            raise FileFormatError(f"Invalid weights file {self.where}: missing {group.name}/"
                                  f"{key} for {label}")
        if not isinstance(ds, h5py.Dataset):
            raise FileFormatError(f"Invalid weights file {self.where}: {ds.name} should be a "
                                  "dataset")
        try:
            if ds.is_virtual or ds.external:
                raise FileFormatError(
                    f"Invalid weights file {self.where}: {ds.name} stores its data outside "
                    "the file (virtual or external dataset), which is refused")
            ds_shape = tuple(ds.shape) if ds.shape is not None else None
            ds_dtype = ds.dtype
        except FileFormatError:
            raise
        except READ_H5_ERRORS as e:
            raise FileFormatError(f"Invalid weights file {self.where}: cannot inspect "
                                  f"{ds.name} ({type(e).__name__}: {e})") from None
        if ds_shape != tuple(shape):
            raise ShapeMismatchError(
                f"Weights file {self.where}: {label} expects shape {tuple(shape)}, but "
                f"{ds.name} has shape {ds_shape}. The file does not match this model.")
        if ds_dtype.kind not in "biuf" or ds_dtype.fields is not None or \
                ds_dtype.subdtype is not None:
            raise FileFormatError(f"Invalid weights file {self.where}: {ds.name} has dtype "
                                  f"{ds_dtype}; expected numbers")
        try:
            arr = np.empty(ds_shape, dtype=ds_dtype)
            if arr.size:
                if int(ds.id.get_storage_size()) == 0:
                    raise FileFormatError(
                        f"Invalid weights file {self.where}: {ds.name} ({label}) declares "
                        f"shape {ds_shape} but stores no data")
                ds.read_direct(arr)
            nonfinite_ok = bool(ds.attrs.get(NONFINITE_ATTR, False))
        except FileFormatError:
            raise
        except READ_H5_ERRORS as e:
            raise FileFormatError(f"Invalid weights file {self.where}: cannot read {ds.name} "
                                  f"({type(e).__name__}: {e})") from None
        self.used.add(ds.name)
        return checked_values(arr, np.dtype(dtype), f"{self.where}: {ds.name} ({label})",
                              nonfinite_ok or get_load_limits().allow_nonfinite_weights)

    def all_datasets(self) -> list:
        """Names of all datasets in the file (links are listed, never followed)."""
        h5py = _h5py()
        out: list = []
        stack = [self.h5]
        while stack:
            group = stack.pop()
            for key in self.dataset_keys(group):
                child = self._hard_child(group, key)
                if isinstance(child, h5py.Group):
                    stack.append(child)
                elif isinstance(child, h5py.Dataset):
                    out.append(child.name)
                if len(out) > 1_000_000:
                    raise FileFormatError(f"Invalid weights file {self.where}: too many "
                                          "objects")
        return sorted(out)

    def survey(self) -> tuple[int, int]:
        """``(declared bytes, values backed by data)`` over all datasets, from their shapes,
        dtypes and allocated storage, before anything is read. Values whose storage was never
        written (declared-but-empty datasets) do not count towards the second number, which
        bounds what a config may allocate."""
        h5py = _h5py()
        ratio = get_load_limits().max_expansion_ratio
        declared = 0
        backed = 0
        count = 0

        def visit(name: str, obj: Any) -> None:
            nonlocal declared, backed, count
            count += 1
            if count > 1_000_000:
                raise FileFormatError(f"Invalid weights file {self.where}: too many objects")
            if not isinstance(obj, h5py.Dataset) or obj.shape is None:
                return
            size = 1
            for d in obj.shape:
                size *= int(d)
            itemsize = max(int(obj.dtype.itemsize), 1)
            declared += size * itemsize
            storage = int(obj.id.get_storage_size())
            if obj._filters:  # compressed: it may expand, within the ratio
                storage *= ratio
            backed += min(size, storage // itemsize)

        try:
            self.h5.visititems(visit)
        except FileFormatError:
            raise
        except READ_H5_ERRORS as e:
            raise FileFormatError(f"Invalid weights file {self.where}: cannot walk the file "
                                  f"({type(e).__name__}: {e})") from None
        return declared, backed


# A dataset attribute ndflow writes when a variable really held NaN/inf at save time: only
# then (or with LoadLimits.allow_nonfinite_weights) are non-finite values loaded back.
NONFINITE_ATTR = "ndflow_nonfinite"


def checked_values(arr: np.ndarray, dtype: np.dtype, what: str, nonfinite_ok: bool
                   ) -> np.ndarray:
    """``arr`` cast to a variable's ``dtype``, refusing every lossy or garbage conversion:
    booleans into numbers, integers that the float type cannot hold exactly, floats into
    integers unless they are whole and in range, NaN/inf unless allowed, and finite values
    that overflow to inf in a narrower float."""
    src = arr.dtype
    hint = "The file does not match this model (or it is corrupted or hostile)."
    if src.kind == "b" and dtype.kind != "b":
        raise FileFormatError(f"Weights file {what}: holds booleans for a variable of dtype "
                              f"{dtype}. {hint}")
    if src.kind == "f" and arr.size and not nonfinite_ok:
        finite = np.isfinite(arr)
        if not finite.all():
            bad = arr[~finite].ravel()[0]
            raise FileFormatError(
                f"Weights file {what}: holds non-finite values ({bad}, {int((~finite).sum())} "
                "in all), and the variable was not saved that way by ndflow. A diverged or "
                "corrupted model? If you want to load it anyway, call "
                "keras.saving.set_load_limits(allow_nonfinite_weights=True).")
    if src == dtype:
        return arr
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            out = arr.astype(dtype)
        if src.kind in "iu" and arr.size and not np.array_equal(
                out.astype(np.float64), arr.astype(np.float64)):
            raise FileFormatError(f"Weights file {what}: integer values of dtype {src} cannot "
                                  f"be stored exactly as {dtype}. {hint}")
        if src.kind == "f" and arr.size and np.isfinite(arr).all() and \
                not np.isfinite(out).all():
            raise FileFormatError(f"Weights file {what}: values up to "
                                  f"{float(np.abs(arr).max()):g} overflow {dtype}. {hint}")
        return out
    if dtype.kind in "iu":
        if src.kind not in "iuf":
            raise FileFormatError(f"Weights file {what}: dtype {src} for a variable of dtype "
                                  f"{dtype}. {hint}")
        info = np.iinfo(dtype)
        if arr.size:
            wide = arr.astype(np.float64) if src.kind == "f" else arr
            if src.kind == "f" and not (np.isfinite(wide).all() and
                                        (wide == np.floor(wide)).all()):
                raise FileFormatError(f"Weights file {what}: non-integer values for a variable "
                                      f"of dtype {dtype}. {hint}")
            if wide.min() < info.min or wide.max() > info.max:
                raise FileFormatError(f"Weights file {what}: values out of the range of "
                                      f"{dtype}. {hint}")
        return arr.astype(dtype)
    if dtype.kind == "b" and src.kind == "b":
        return arr.astype(dtype)
    raise FileFormatError(f"Weights file {what}: dtype {src} for a variable of dtype {dtype}. "
                          f"{hint}")


class ShapeMismatchError(FileFormatError):
    """A saved weight has another shape than the model's variable."""


READ_H5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError,
                  AttributeError, OverflowError, MemoryError, UnicodeDecodeError,
                  RecursionError)


def _label(path: str, obj: Any) -> str:
    kind = "optimizer" if not hasattr(obj, "_direct_variables") else "layer"
    name = getattr(obj, "name", None)
    return f"{kind} '{name}' (h5 path '{path or '/'}')"


def read_h5_state(h5: Any, root: Any, where: str, include_optimizer: bool = True,
                  skip_mismatch: bool = False, strict_optimizer: bool = False,
                  defer: bool = False) -> Callable[[], None] | None:
    """Assign the variables of ``root``'s tree from an open h5py File (validated). With
    `defer`, nothing is assigned: the assignment comes back as a function to call once the
    caller has validated everything else it reads (no partial restore)."""
    reader = _H5Reader(h5, where)
    _, opt_cls = _classes()
    pending: list = []  # (variable, array) pairs: assigned only if everything validates
    seeds: list = []
    named: list = []  # (object, {name: array}) for state stored under a name
    for path, obj in iter_saveables(root, include_optimizer):
        label = _label(path, obj)
        variables = own_variables(obj)
        group = reader.vars_group(path)
        if isinstance(obj, opt_cls):
            if group is None:
                continue
            keys = reader.dataset_keys(group)
            # an optimizer saved before its first step holds only iterations and learning
            # rate: load those into the unbuilt optimizer; otherwise build it first
            if keys and len(keys) != len(variables) and not getattr(obj, "built", True):
                _build_optimizer(obj, root)
                variables = own_variables(obj)
            if len(keys) != len(variables):
                msg = (f"Skipping variable loading for optimizer '{obj.name}': it has "
                       f"{len(variables)} variables whereas the saved optimizer has "
                       f"{len(keys)} variables.")
                if strict_optimizer:
                    raise FileFormatError(f"Weights file {where}: {msg}")
                warnings.warn(msg, stacklevel=3)
                continue
        else:
            specs = obj._saved_array_specs() if hasattr(obj, "_saved_array_specs") else {}
            if group is None:
                if variables:
                    msg = (f"Weights file {where} has no weights for {label}, which has "
                           f"{len(variables)} variable(s). The file does not match this "
                           "model.")
                    if skip_mismatch:
                        warnings.warn(msg, stacklevel=3)
                        continue
                    raise FileFormatError(msg)
                continue
            keys = [k for k in reader.dataset_keys(group) if k not in specs]
            if len(keys) != len(variables):
                msg = (f"Weights file {where}: {label} expects {len(variables)} variables, "
                       f"but the file holds {len(keys)}. The file does not match this model.")
                if skip_mismatch:
                    warnings.warn(msg, stacklevel=3)
                    continue
                raise FileFormatError(msg)
        staged = []
        try:
            for i, v in enumerate(variables):
                arr = reader.read(group, str(i), tuple(v.shape), v._value.dtype,
                                  f"{label} variable {i} ({getattr(v, 'path', v.name)})")
                staged.append((v, arr))
        except ShapeMismatchError as e:
            if skip_mismatch:
                warnings.warn(str(e), stacklevel=3)
                continue
            raise
        if isinstance(obj, opt_cls):
            _check_optimizer_state(obj, staged, f"{where}: {label}")
        else:
            present = set(reader.dataset_keys(group))
            arrays = {k: reader.read(group, k, shape, dtype, f"{label} {k}")
                      for k, (shape, dtype) in specs.items() if k in present}
            if arrays:
                named.append((obj, arrays))
        pending.extend(staged)
        seeds.extend(_read_seed_state(group, obj, where))
    unused = [n for n in reader.all_datasets() if n not in reader.used
              and not n.startswith("/optimizer/")]
    if unused:
        msg = (f"Weights file {where} holds weights that no layer of this model uses: "
               f"{unused[:10]}{' ...' if len(unused) > 10 else ''}. The file does not match "
               "this model (a different architecture?).")
        if not skip_mismatch:
            raise FileFormatError(msg)
        warnings.warn(msg, stacklevel=3)

    def assign() -> None:
        for v, arr in pending:
            _assign(v, arr)
        for obj, arrays in named:
            obj._load_saved_arrays(arrays)
        for gen, (seed, counter) in seeds:
            gen.seed, gen._counter = seed, counter

    if defer:
        return assign
    assign()
    return None


def _check_optimizer_state(optimizer: Any, staged: list, where: str) -> None:
    """The step counter must be a count, the learning rate a usable rate."""
    for v, arr in staged:
        if v is getattr(optimizer, "_iterations", None) and arr.size and int(arr.min()) < 0:
            raise FileFormatError(f"Weights file {where}: the optimizer's iterations is "
                                  f"{int(arr.min())}; a step count cannot be negative")
        if getattr(v, "name", "") == "learning_rate" and arr.size and (
                not np.isfinite(arr).all() or float(arr.min()) < 0):
            raise FileFormatError(f"Weights file {where}: the optimizer's learning rate is "
                                  f"{arr.ravel()[0]!r}; expected a finite, non-negative rate")


def _assign(v: Any, arr: np.ndarray) -> None:
    target = v._value
    if isinstance(target, np.ndarray):
        target[...] = arr
    else:  # device arrays
        v.assign(arr)


def _build_optimizer(optimizer: Any, model: Any) -> None:
    if getattr(optimizer, "built", False):
        return
    variables = list(getattr(model, "trainable_variables", []) or [])
    if variables:
        optimizer.build(variables)


# --- weight-allocation guard while building a model from a file -----------------------------------
_GUARD_LOCK = threading.RLock()


@contextlib.contextmanager
def weight_budget(max_elements: int) -> Any:
    """While active, `Layer.add_weight` refuses weights beyond ``max_elements`` in total, so a
    hostile config (``Dense(units=10**12)``) fails fast instead of exhausting memory."""
    from ndflow.keras.layers.layer import Layer

    with _GUARD_LOCK:
        original = Layer.__dict__["add_weight"]
        state = {"left": int(max_elements), "thread": threading.get_ident()}

        def guarded(self: Any, shape: Any = None, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != state["thread"]:  # other threads are not limited
                return original(self, shape, *args, **kwargs)
            s = kwargs.get("shape", shape)
            if isinstance(s, str):
                s = kwargs.get("shape")
            try:
                dims = () if s is None else ((int(s),) if isinstance(s, (int, np.integer))
                                            else tuple(int(d) for d in s))
            except (TypeError, ValueError):
                dims = None
            if dims is not None:
                if any(d < 0 for d in dims):
                    raise ValueError(f"Layer '{self.name}': negative weight shape {dims} in "
                                     "the saved config")
                n = 1
                for d in dims:
                    n *= d
                if n > state["left"]:
                    raise FileFormatError(
                        f"Layer '{self.name}' asks for a weight of shape {dims} ({n} values), "
                        f"more than the weights file holds. The file's config does not match "
                        "its weights (corrupted or hostile file).")
                state["left"] -= n
            return original(self, shape, *args, **kwargs)

        Layer.add_weight = guarded
        try:
            yield
        finally:
            Layer.add_weight = original


def check_layer_calls(model: Any, where: str) -> None:
    """Check that every recorded layer call of the (nested) functional graphs passes only
    arguments the layer's ``call`` accepts: a config can name arbitrary keyword arguments,
    which symbolic replay does not always notice."""
    import inspect

    from ndflow.keras.layers.layer import Layer

    seen: set = set()
    stack = [model]
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        for step in getattr(m, "_graph_steps", None) or []:
            layer = getattr(step, "layer", None)
            kwargs = getattr(step, "kwargs", None)
            if not isinstance(layer, Layer) or not kwargs:
                continue
            try:
                params = inspect.signature(type(layer).call).parameters
            except (TypeError, ValueError):
                continue
            if any(p.kind is p.VAR_KEYWORD for p in params.values()):
                continue
            unknown = sorted(set(kwargs) - set(params) - {"training", "mask"})
            if unknown:
                raise FileFormatError(
                    f"Invalid file {where}: the model config calls layer '{layer.name}' "
                    f"({type(layer).__name__}) with arguments {unknown} that its call() does "
                    "not accept")
        for layer in getattr(m, "layers", []) or []:
            if isinstance(layer, Layer) and getattr(layer, "_graph_steps", None):
                stack.append(layer)


# --- .keras ---------------------------------------------------------------------------------------
def _metadata() -> dict:
    return {"keras_version": KERAS_VERSION, "date_saved":
            datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"), "saved_by": "ndflow"}


def model_config(model: Any) -> dict:
    cfg = _ser.serialize_keras_object(model)
    if not isinstance(cfg, dict):
        raise ValueError("save_model: the model could not be serialized")
    return cfg


def save_model(model: Any, filepath: str | os.PathLike, include_optimizer: bool = True
               ) -> None:
    """Write ``model`` as a `.keras` zip, atomically (temp file + fsync + rename)."""
    import zipfile

    h5py = _h5py()
    config = model_config(model)
    if not include_optimizer:
        config.pop("compile_config", None)
    config_json = json.dumps(config, allow_nan=True).encode("utf-8")
    metadata_json = json.dumps(_metadata()).encode("utf-8")
    bio = io.BytesIO()
    with h5py.File(bio, "w") as h5:
        write_h5_state(h5, model, include_optimizer=include_optimizer)
    weights = bio.getvalue()
    with file_io.atomic_write(filepath) as (f, _tmp):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(METADATA_FILENAME, metadata_json)
            zf.writestr(CONFIG_FILENAME, config_json)
            zf.writestr(VARS_FILENAME, weights)
            _assets.write_assets(zf, iter_saveables(model, include_optimizer))


def _is_hdf5(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


def _open_h5_file(path: Any, where: str) -> Any:
    h5py = _h5py()
    try:
        return h5py.File(path, "r")
    except READ_H5_ERRORS as e:
        raise FileFormatError(f"Invalid weights file {where}: not a readable HDF5 file "
                              f"({type(e).__name__}: {e})") from None


@contextlib.contextmanager
def _weights_from_zip(zr: file_io.SafeZipReader, where: str) -> Any:
    """The archive's weights as an open h5py File, copied into an anonymous temporary file
    (on Linux it never has a name, so a killed load leaves nothing behind)."""
    with tempfile.TemporaryFile(prefix="ndflow-load-") as tmp:
        zr.copy_to(VARS_FILENAME, tmp)
        tmp.seek(0)
        h5 = _open_h5_file(tmp, where)
        try:
            yield h5
        finally:
            h5.close()


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """Read a `.keras` file written by ndflow or Keras 3 (see `saving_api.load_model`)."""
    path = os.fspath(filepath)
    with file_io.SafeZipReader(path) as zr:
        where = repr(path)
        meta: Any = {}
        if zr.has(METADATA_FILENAME):
            meta = zr.read_json(METADATA_FILENAME)
            if not isinstance(meta, dict):
                raise FileFormatError(f"Invalid file {where}: metadata.json must hold a JSON "
                                      "object")
        # ndflow's own files must match exactly; Keras's optimizers may differ (a warning)
        strict_optimizer = meta.get("saved_by") == "ndflow"
        config = zr.read_json(CONFIG_FILENAME)
        limits.check_config(config, where)
        if not isinstance(config, dict) or "class_name" not in config:
            raise FileFormatError(f"Invalid file {where}: config.json must hold a model config "
                                  "(a JSON object with 'class_name' and 'config')")
        config = _ser.normalize_keras_config(config)
        if not compile:
            config = dict(config)
            config.pop("compile_config", None)
        if not zr.has(VARS_FILENAME):
            raise FileFormatError(f"Invalid file {where}: the archive has no {VARS_FILENAME} "
                                  f"(members: {zr.names()[:20]})")
        with _weights_from_zip(zr, f"{where}:{VARS_FILENAME}") as h5:
            reader = _H5Reader(h5, where)
            declared, backed = reader.survey()
            if declared > get_load_limits().max_weight_bytes:
                raise limits.exceeded(where, "the total size the weights declare", declared,
                                      "max_weight_bytes")
            # The model the config builds may hold at most the values the file really stores
            # (plus room for small state that is not saved, such as metric accumulators).
            with weight_budget(backed + (1 << 20)), _ser.SafeModeScope(safe_mode), \
                    _reg.CustomObjectScope(custom_objects or {}):
                model = _ser._deserialize(config, custom_objects, 0)
            from ndflow.keras.layers.layer import Layer

            if not isinstance(model, Layer):
                raise FileFormatError(f"Invalid file {where}: config.json describes a "
                                      f"{type(model).__name__}, not a model or layer")
            check_layer_calls(model, where)
            read_h5_state(h5, model, f"{where}:{VARS_FILENAME}", include_optimizer=compile,
                          strict_optimizer=strict_optimizer)
        _assets.load_assets(zr, iter_saveables(model, compile), where)
    return model


# --- weights only ---------------------------------------------------------------------------------
def save_weights_only(model: Any, filepath: str | os.PathLike) -> None:
    """Write the model's weights (and its optimizer's variables, as Keras 3 does) in the
    ``.weights.h5`` layout."""
    h5py = _h5py()
    with file_io.atomic_write(filepath) as (f, tmp):
        f.close()
        with h5py.File(tmp, "w") as h5:
            write_h5_state(h5, model, include_optimizer=True)
        with open(tmp, "rb+") as g:
            os.fsync(g.fileno())


def load_weights_only(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False,
                      strict_optimizer: bool = False) -> None:
    """Load weights from a ``.weights.h5`` file, or the weights inside a `.keras` file.

    ``strict_optimizer``: a saved optimizer state that does not fit the model's optimizer is
    an error (the default, as in Keras, is a warning and a fresh optimizer state)."""
    path = os.fspath(filepath)
    where = repr(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no such file {path!r}")
    if not getattr(model, "built", True):
        raise ValueError(f"load_weights: model '{model.name}' is not built yet, so it has no "
                         "weights to load into. Call it on a batch of data, give it a "
                         "keras.Input, or call model.build(input_shape) first.")
    if path.endswith(".keras"):
        with file_io.SafeZipReader(path) as zr:
            with _weights_from_zip(zr, f"{where}:{VARS_FILENAME}") as h5:
                read_h5_state(h5, model, where, include_optimizer=True,
                              skip_mismatch=skip_mismatch, strict_optimizer=strict_optimizer)
        return
    if not _is_hdf5(path):
        raise FileFormatError(f"load_weights: {path!r} is not an HDF5 weights file")
    h5 = _open_h5_file(path, where)
    try:
        if "vars" not in h5 and ("layer_names" in h5.attrs or "model_weights" in h5):
            raise FileFormatError(
                f"load_weights: {path!r} is a legacy Keras 2 (TF) HDF5 file, which ndflow "
                "does not read; re-save it with Keras 3 as .weights.h5 or .keras")
        read_h5_state(h5, model, where, include_optimizer=True, skip_mismatch=skip_mismatch,
                      strict_optimizer=strict_optimizer)
    finally:
        h5.close()

"""`Layer`: the base class of every Keras layer and model.

Contract for subclasses (Keras 3):

- ``__init__(self, ..., **kwargs)`` calls ``super().__init__(**kwargs)``; the base accepts
  ``trainable``, ``dtype``, ``name``, ``activity_regularizer``, ``autocast`` and, for the first
  layer of a `Sequential`, ``input_shape`` / ``input_dim`` / ``batch_size``. Anything else raises
  a TypeError naming the layer and the unknown arguments.
- ``build(self, input_shape)`` creates weights with ``self.add_weight(shape, initializer, ...)``
  (``input_shape`` is a tuple with None for unknown dims, or a list/dict of them for several
  inputs). It runs once, automatically, on the first ``__call__``. Set ``self.input_spec`` (an
  `InputSpec`) there to get clear shape errors on later calls.
- ``call(self, inputs, training=None, mask=None)``: the forward pass with ndflow ops. Declare
  ``training`` / ``mask`` only if you need them; the base passes them only when declared.
  ``training`` is propagated to nested layers through the call context.
- ``compute_output_shape(input_shape)`` is optional: by default output shapes come from running
  ``call`` on `SymbolicTensor`s (shape rules only, no compute).
- ``get_config()`` must return the constructor arguments (call ``super().get_config()`` and
  update it); ``from_config(config)`` is ``cls(**config)``.
- ``supports_masking = True`` for layers that pass masks through unchanged; override
  ``compute_mask(inputs, mask)`` to change them.

Nested layers and variables are tracked through attributes (also lists, tuples and dicts of
them), in assignment order.

>>> import numpy as np
>>> import ndflow as tf
>>> from ndflow import keras
>>> class Scale(keras.layers.Layer):
...     def build(self, input_shape):
...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
...     def call(self, x):
...         return x * self.w
>>> layer = Scale()
>>> layer(np.ones((2, 3), "float32")).shape
TensorShape([2, 3])
>>> [w.path for w in layer.weights]
['scale/variable']
"""

from __future__ import annotations

import collections
import inspect
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ndflow.autograph import conversion as _autograph
from ndflow.core import dispatch as _dispatch
from ndflow.core import dtypes as _dt
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras import config as _config
from ndflow.keras.variables import KerasVariable
from ndflow.util import nest

__all__ = ["Layer", "InputSpec", "KerasHistory", "Node", "get_keras_mask", "set_keras_mask",
           "clear_session", "UnrecognizedArgumentsError"]


class UnrecognizedArgumentsError(TypeError, ValueError):
    """Unknown keyword arguments given to a layer (a TypeError; Keras 3 raises ValueError)."""


# --- unique names ---------------------------------------------------------------------------
_NAME_UIDS: collections.defaultdict[str, int] = collections.defaultdict(int)


def to_snake_case(name: str) -> str:
    """``"SimpleDense"`` -> ``"simple_dense"``, ``"MLPBlock"`` -> ``"mlp_block"``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()  # "Conv2D" -> "conv2d", as Keras
    return s.lstrip("_") or "layer"


def unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``, ... (reset by `clear_session`)."""
    n = _NAME_UIDS[base]
    _NAME_UIDS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Reset the automatic layer names (``dense``, ``dense_1``, ... start again)."""
    _NAME_UIDS.clear()


# --- masks: `x._keras_mask`, kept by the core in a weak side table (tensors have __slots__) ---
from ndflow.core.tensor import any_keras_masks, get_keras_mask, set_keras_mask  # noqa: E402


# --- call context -------------------------------------------------------------------------------
class _CallState:
    __slots__ = ("training", "depth", "symbolic_depth", "loss_layers")

    def __init__(self) -> None:
        self.training: Any = None
        self.depth = 0
        self.symbolic_depth = 0
        self.loss_layers: list = []


_STATE = _CallState()


class _CallInfo:
    """What a class's `call` accepts, computed once per class."""

    __slots__ = ("first_arg", "has_training", "has_mask", "training_default", "var_kw",
                 "params", "training_pos", "mask_pos")

    def __init__(self, fn: Any) -> None:
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.name != "self"]
        self.params = [p.name for p in params
                       if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.first_arg = self.params[0] if self.params else None
        names = {p.name: p for p in params}
        self.var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
        self.has_training = "training" in names
        self.has_mask = "mask" in names
        self.training_pos = (self.params.index("training") if "training" in self.params
                             else None)
        self.mask_pos = self.params.index("mask") if "mask" in self.params else None
        d = names["training"].default if self.has_training else None
        self.training_default = None if d is inspect.Parameter.empty else d


_CALL_INFO: dict[type, _CallInfo] = {}


def _call_info(cls: type) -> _CallInfo:
    info = _CALL_INFO.get(cls)
    if info is None:
        info = _CALL_INFO[cls] = _CallInfo(cls.call)
    return info


# --- functional-graph bookkeeping --------------------------------------------------------------
KerasHistory = collections.namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])


class Node:
    """One symbolic call of a layer: its arguments (with SymbolicTensors) and outputs."""

    __slots__ = ("layer", "args", "kwargs", "flat_args", "outputs", "flat_outputs", "index",
                 "simple")

    def __init__(self, layer: Layer, args: tuple, kwargs: dict, outputs: Any) -> None:
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.flat_args = nest.flatten((args, kwargs))
        self.outputs = outputs
        self.flat_outputs = nest.flatten(outputs)
        # one positional tensor and nothing else: replayed without nest
        self.simple = (len(args) == 1 and not kwargs and isinstance(args[0], Tensor))
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.flat_outputs):
            t._keras_history = KerasHistory(layer, self.index, i)

    @property
    def input_tensors(self) -> list:
        return [t for t in self.flat_args if isinstance(t, SymbolicTensor)]

    @property
    def parent_nodes(self) -> list:
        out = []
        for t in self.input_tensors:
            h = t._keras_history
            if h is not None:
                out.append(h.operation._inbound_nodes[h.node_index])
        return out


# --- InputSpec ----------------------------------------------------------------------------------
class InputSpec:
    """What a layer accepts: ``ndim``/``min_ndim``/``max_ndim``, ``shape``, ``axes``, ``dtype``.

    >>> spec = InputSpec(min_ndim=2, axes={-1: 784})
    """

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None,
                 axes: Mapping[int, int] | None = None, allow_last_axis_squeeze: bool = False,
                 name: str | None = None, optional: bool = False) -> None:
        self.dtype = None if dtype is None else _dt.as_dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.axes = {int(k): int(v) for k, v in (axes or {}).items()}
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = self.ndim if self.ndim is not None else self.max_ndim
            for k in self.axes:
                if k >= top:
                    raise ValueError(f"InputSpec: axis {k} is out of range for ndim {top}")

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        return cls(**config)

    def __repr__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.get_config().items() if v]
        return f"InputSpec({', '.join(parts)})"


def _fmt_shape(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Raise a clear ValueError when ``inputs`` do not match ``input_spec``."""
    if type(input_spec) is InputSpec and isinstance(inputs, Tensor):
        # fast path (one spec, one tensor): the common Dense/Conv case on every call
        shape = inputs._value.shape if not inputs._symbolic else tuple(inputs.shape)
        if (input_spec.ndim is None and input_spec.max_ndim is None and input_spec.dtype is None
                and input_spec.shape is None and (input_spec.min_ndim or 0) <= len(shape)):
            nd = len(shape)
            for axis, value in input_spec.axes.items():
                if -nd <= axis < nd and shape[axis] != value and shape[axis] is not None:
                    break
            else:
                return
    specs = nest.flatten(input_spec)
    flat = nest.flatten(inputs)
    if len(specs) > 1 and len(flat) != len(specs):
        raise ValueError(
            f"Layer '{layer_name}' expects {len(specs)} input(s), but it received {len(flat)} "
            "input tensors.")
    for i, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None or x is None:
            continue
        if not hasattr(x, "shape"):
            raise TypeError(f"Input {i} of layer '{layer_name}' is not a tensor: got "
                            f"{type(x).__name__}")
        shape = tuple(x.shape)
        ndim = len(shape)
        head = f"Input {i} of layer '{layer_name}' is incompatible with the layer: "
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{head}expected ndim={spec.ndim}, found ndim={ndim}. Full shape "
                             f"received: {_fmt_shape(shape)}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{head}expected max_ndim={spec.max_ndim}, found ndim={ndim}. "
                             f"Full shape received: {_fmt_shape(shape)}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{head}expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {_fmt_shape(shape)}")
        if spec.dtype is not None and x.dtype.name != spec.dtype:
            raise ValueError(f"{head}expected dtype={spec.dtype}, found dtype={x.dtype.name}")
        for axis, value in spec.axes.items():
            if -ndim <= axis < ndim:
                got = shape[axis]
                if value is not None and got is not None and got != value:
                    raise ValueError(
                        f"{head}expected axis {axis} of input shape to have value {value}, but "
                        f"received input with shape {_fmt_shape(shape)}")
        if spec.shape is not None and ndim == len(spec.shape):
            for want, got in zip(spec.shape, shape):
                if want is not None and got is not None and want != got:
                    raise ValueError(f"{head}expected shape={_fmt_shape(spec.shape)}, found "
                                     f"shape={_fmt_shape(shape)}")


# --- dtype policy -------------------------------------------------------------------------------
class DTypePolicy:
    """A layer's dtypes: ``variable_dtype`` for weights, ``compute_dtype`` for computation."""

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = _config.dtype_policy_name()
        name = _policy_name(name)
        self.name = name
        if name == "mixed_float16":
            self.compute_dtype, self.variable_dtype = "float16", "float32"
        elif name == "mixed_bfloat16":
            raise ValueError("dtype 'mixed_bfloat16' is not supported by ndflow (NumPy has no "
                             "bfloat16); use 'mixed_float16' or 'float32'")
        else:
            self.compute_dtype = self.variable_dtype = name

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


def _policy_name(dtype: Any) -> str:
    if isinstance(dtype, DTypePolicy):
        return dtype.name
    if isinstance(dtype, dict):  # a serialized policy from a Keras config
        return _policy_name(dtype.get("config", {}).get("name", dtype.get("name")))
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        return dtype
    if hasattr(dtype, "name") and not isinstance(dtype, (str, type, np.dtype)):
        if hasattr(dtype, "compute_dtype"):
            return str(dtype.name)
    try:
        return _dt.as_dtype(dtype).name
    except (TypeError, ValueError, KeyError):
        raise ValueError(f"Layer dtype: expected a dtype name such as 'float32' or a policy "
                         f"such as 'mixed_float16', got {dtype!r}") from None


# --- the Layer ------------------------------------------------------------------------------------
_BASE_KW = ("input_shape", "input_dim", "batch_input_shape", "batch_size", "weights")


class Layer:
    """Base class of all layers and models. See the module docstring for the contract."""

    # class-level defaults (subclasses may override)
    _call_info_cache: _CallInfo | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Layer:
        obj = super().__new__(cls)
        d = obj.__dict__
        d["_own_variables"] = []
        d["_losses"] = []
        d["_inbound_nodes"] = []
        d["_trainable"] = True
        d["built"] = False
        d["input_spec"] = None
        d["supports_masking"] = False
        d["_name"] = None
        d["_policy"] = None
        d["_np_compute"] = None
        d["activity_regularizer"] = None
        d["autocast"] = True
        d["_input_shape_arg"] = None
        d["_build_shapes"] = None
        d["_init_called"] = False
        d["_auto_config"] = _capture_init_args(cls, args, kwargs)
        return obj

    def __init__(self, *, activity_regularizer: Any = None, trainable: bool = True,
                 dtype: Any = None, autocast: bool = True, name: str | None = None,
                 **kwargs: Any) -> None:
        extra = {k: v for k, v in kwargs.items() if k not in _BASE_KW}
        if extra:
            raise UnrecognizedArgumentsError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {extra}. "
                f"Check the spelling; {type(self).__name__} accepts the arguments of its "
                "constructor plus trainable, dtype, name, activity_regularizer, autocast.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got "
                            f"{type(name).__name__}")
        self._name = name or unique_name(self._default_name())
        self._trainable = bool(trainable)
        self._policy = DTypePolicy(dtype)
        self._np_compute = _dt.np_dtype(self._policy.compute_dtype)
        self.autocast = autocast
        if activity_regularizer is not None:
            from ndflow.keras import regularizers

            activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = activity_regularizer
        shape_arg = None
        if kwargs.get("batch_input_shape") is not None:
            shape_arg = tuple(kwargs["batch_input_shape"])
        else:
            dim = kwargs.get("input_dim")
            shape = (dim,) if dim is not None else kwargs.get("input_shape")
            if shape is not None:
                if isinstance(shape, int):
                    shape = (shape,)
                shape_arg = (kwargs.get("batch_size"),) + tuple(shape)
        self._input_shape_arg = shape_arg
        self._init_called = True

    def _default_name(self) -> str:
        return to_snake_case(type(self).__name__)

    # --- identity & dtype ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self._name is None:  # subclass forgot super().__init__(): be forgiving
            self._name = unique_name(self._default_name())
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def path(self) -> str:
        return self.name

    def _ensure_policy(self) -> DTypePolicy:
        if self._policy is None:
            self._policy = DTypePolicy(None)
            self._np_compute = _dt.np_dtype(self._policy.compute_dtype)
        return self._policy

    @property
    def dtype_policy(self) -> DTypePolicy:
        return self._ensure_policy()

    @dtype_policy.setter
    def dtype_policy(self, value: Any) -> None:
        self._policy = value if isinstance(value, DTypePolicy) else DTypePolicy(value)
        self._np_compute = _dt.np_dtype(self._policy.compute_dtype)

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (its variable dtype)."""
        return self._ensure_policy().variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self._ensure_policy().compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._ensure_policy().variable_dtype

    # --- trainable ----------------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        for layer in self._flatten_layers(include_self=True):
            layer.__dict__["_trainable"] = value
            for v in layer._direct_variables():
                # frozen weights are not watched by tapes: no wasted backward work
                v._auto_watch = value and v._trainable

    # --- tracking -----------------------------------------------------------------------------
    def _tracked_sublayers(self) -> list:
        """Direct sublayers, found through attributes (and lists/tuples/dicts of them)."""
        out: list = []
        seen: set = {id(self)}
        for key, value in self.__dict__.items():
            if key in _UNTRACKED:
                continue
            _collect(value, Layer, out, seen, 0)
        return out

    def _direct_variables(self) -> list:
        """Variables created by add_weight plus Variables assigned as attributes."""
        out = list(self._own_variables)
        seen = {id(v) for v in out}
        from ndflow.core.variable import Variable

        for key, value in self.__dict__.items():
            if key in _UNTRACKED:
                continue
            _collect(value, Variable, out, seen, 0)
        return out

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list:
        out: list = [self] if include_self else []
        seen = {id(self)}
        stack = list(reversed(self._tracked_sublayers()))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if recursive:
                stack.extend(reversed(layer._tracked_sublayers()))
        return out

    @property
    def _layers(self) -> list:
        return self._tracked_sublayers()

    # --- weights ------------------------------------------------------------------------------
    @property
    def weights(self) -> list:
        """All weights: this layer's trainable, then non-trainable, then its sublayers'."""
        own = self._direct_variables()
        out = [v for v in own if v.trainable] + [v for v in own if not v.trainable]
        seen = {id(v) for v in out}
        for layer in self._tracked_sublayers():
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def trainable_weights(self) -> list:
        if not self._trainable:
            return []
        out = [v for v in self._direct_variables() if v.trainable]
        seen = {id(v) for v in out}
        for layer in self._tracked_sublayers():
            for v in layer.trainable_weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def non_trainable_weights(self) -> list:
        if not self._trainable:
            return self.weights
        out = [v for v in self._direct_variables() if not v.trainable]
        seen = {id(v) for v in out}
        for layer in self._tracked_sublayers():
            for v in layer.non_trainable_weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def variables(self) -> list:
        return self.weights

    @property
    def trainable_variables(self) -> list:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        return self.non_trainable_weights

    def add_weight(self, shape: Any = None, initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, autocast: bool = True, regularizer: Any = None,
                   constraint: Any = None, aggregation: str = "none",
                   overwrite_with_gradient: bool = False, name: str | None = None,
                   **kwargs: Any) -> KerasVariable:
        """Create a weight of this layer (a `KerasVariable`) and track it.

        ``initializer`` is a name (``"zeros"``, ``"glorot_uniform"`` ...), an initializer object
        or a callable ``(shape, dtype) -> array``; it defaults to ``"glorot_uniform"`` for float
        weights and ``"zeros"`` otherwise.

        >>> from ndflow import keras
        >>> layer = keras.layers.Layer()
        >>> w = layer.add_weight(shape=(2, 3), initializer="zeros", name="w")
        >>> w.path, tuple(w.shape)
        ('layer/w', (2, 3))
        """
        if isinstance(shape, str) and name is None:  # Keras 2 style add_weight("kernel", ...)
            name, shape = shape, kwargs.pop("shape", None)
        if kwargs:
            raise UnrecognizedArgumentsError(
                f"add_weight of layer '{self.name}': unrecognized arguments {sorted(kwargs)}")
        shape = () if shape is None else shape
        if isinstance(shape, int):
            shape = (shape,)
        try:
            shape = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"add_weight of layer '{self.name}': the shape of weight {name!r} must be fully "
                f"defined (ints), got {tuple(shape)}. Build the layer with a known input shape."
            ) from None
        dtype_name = (_policy_name(dtype) if dtype is not None else self.variable_dtype)
        np_dt = _dt.np_dtype(dtype_name)
        if initializer is None:
            initializer = "glorot_uniform" if np_dt.kind == "f" else "zeros"
        init = initializer
        if not callable(init):
            from ndflow.keras import initializers

            init = initializers.get(initializer)
        value = init(shape, dtype=dtype_name)
        if isinstance(value, Tensor):
            arr = value.numpy() if not hasattr(value, "_value") else value._value
        else:
            arr = np.asarray(value)
        if arr.dtype != np_dt:
            arr = arr.astype(np_dt)
        if tuple(arr.shape) != shape:
            try:
                arr = np.broadcast_to(arr, shape)
            except ValueError:
                raise ValueError(
                    f"add_weight of layer '{self.name}': initializer {initializer!r} returned "
                    f"shape {tuple(arr.shape)} for weight {name!r}, expected {shape}") from None
        if regularizer is not None and not callable(regularizer):  # a name or a config
            from ndflow.keras import regularizers

            regularizer = regularizers.get(regularizer)
        if constraint is not None and not callable(constraint):
            from ndflow.keras import constraints

            constraint = constraints.get(constraint)
        wname = name or "variable"
        var = KerasVariable(arr, trainable=trainable, name=wname, dtype=np_dt,
                            constraint=constraint, regularizer=regularizer,
                            path=f"{self.name}/{wname}")
        if not self._trainable:
            var._auto_watch = False
        self._own_variables.append(var)
        return var

    def add_variable(self, shape: Any, initializer: Any, dtype: Any = None,
                     trainable: bool = True, name: str | None = None, **kwargs: Any
                     ) -> KerasVariable:
        """Alias of `add_weight`."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype,
                               trainable=trainable, name=name, **kwargs)

    def get_weights(self) -> list:
        """The weights' values as a list of NumPy arrays (copies)."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: list) -> None:
        """Set the weights from a list of arrays, in the order of `weights`."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"set_weights of layer '{self.name}': expected a list of {len(params)} arrays "
                f"(one per weight), got {len(weights)}. The weights are: "
                f"{[v.path for v in params]}")
        for v, w in zip(params, weights):
            arr = np.asarray(w)
            if tuple(arr.shape) != tuple(v.shape):
                raise ValueError(
                    f"set_weights of layer '{self.name}': weight {v.path} has shape "
                    f"{tuple(v.shape)}, but the provided array has shape {tuple(arr.shape)}")
            v.assign(arr.astype(v._value.dtype, copy=False))

    def count_params(self) -> int:
        """Total number of scalars in the layer's weights (the layer must be built)."""
        if not self.built:
            raise ValueError(
                f"You tried to call count_params on layer '{self.name}', but the layer isn't "
                "built. Build it first: call it on data, or call "
                "layer.build(batch_input_shape).")
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    # --- losses -------------------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Add a scalar loss (or list of them) computed in `call`; collected in `losses`."""
        for item in nest.flatten(loss):
            if item is None or (type(item) is SymbolicTensor and _dispatch.trace_hook is None):
                continue  # losses built on keras.Input tensors are recomputed on real calls
            if not self._losses:
                _STATE.loss_layers.append(self)
            self._losses.append(item)

    @property
    def losses(self) -> list:
        """Losses added during the last call (incl. activity) plus weight regularization."""
        out: list = []
        for layer in self._flatten_layers(include_self=True):
            out.extend(layer._losses)
            for v in layer._direct_variables():
                reg = getattr(v, "regularizer", None)
                if reg is not None and layer._trainable and v.trainable:
                    out.append(reg(v))
        return out

    def _clear_losses(self) -> None:
        for layer in _STATE.loss_layers:
            layer._losses.clear()
        _STATE.loss_layers.clear()

    @property
    def metrics(self) -> list:
        return []

    # --- build --------------------------------------------------------------------------------
    def build(self, input_shape: Any = None) -> None:
        """Create the layer's weights for ``input_shape``. Override it in subclasses.

        Called directly on a layer whose class does not override it, it runs `call` once on
        symbolic inputs of that shape, which builds the nested layers.
        """
        if (input_shape is not None and type(self).build is Layer.build
                and type(self).call is not Layer.call and not self.built):
            if self._tracked_sublayers():
                try:
                    self._trace_with_shape(input_shape)
                except Exception as e:
                    raise ValueError(
                        f"build of layer '{self.name}': could not run {type(self).__name__}.call "
                        f"on a symbolic input of shape {input_shape} to create its weights "
                        f"({e}). Call the layer on real data instead.") from e
        self._build_shapes = input_shape
        self.built = True

    def _trace_with_shape(self, input_shape: Any) -> Any:
        specs = _shapes_to_symbolic(input_shape, self.compute_dtype)
        _STATE.symbolic_depth += 1
        try:
            return self.__call__(specs)
        finally:
            _STATE.symbolic_depth -= 1

    def _maybe_build(self, args: tuple, kwargs: dict) -> None:
        if self.built:
            return
        first = args[0] if args else kwargs.get(self._info().first_arg)
        shapes = _shapes_of(first)
        cls_build = type(self).build
        if cls_build is not Layer.build:
            params = [p for p in inspect.signature(cls_build).parameters.values()
                      if p.name != "self"]
            names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,)]
            if len(names) > 1 and all(n.endswith("_shape") for n in names):
                # build(self, query_shape, value_shape): match the call's tensor arguments
                info = self._info()
                bound = dict(zip(info.params, args))
                bound.update(kwargs)
                bkw = {n: _shapes_of(bound.get(n[:-6])) for n in names
                       if bound.get(n[:-6]) is not None}
                self.build(**bkw)
                self._build_shapes = bkw
            else:
                try:
                    self.build(shapes)
                except IndexError as e:  # build() indexed an axis the input does not have
                    raise ValueError(
                        f"Layer '{self.name}' ({type(self).__name__}) cannot be built for "
                        f"inputs of shape {shapes}: the input has too few dimensions "
                        f"({type(e).__name__}: {e}). Check the rank of what you pass; most "
                        "layers need a batch axis and a feature axis.") from None
                self._build_shapes = shapes
        else:  # recorded for get_build_config (saving rebuilds subclassed models from it)
            self._build_shapes = shapes
        self.built = True

    def get_build_config(self) -> dict | None:
        if self._build_shapes is None:
            return None
        return {"input_shape": _jsonable_shapes(self._build_shapes)}

    def build_from_config(self, config: dict | None) -> None:
        if config and config.get("input_shape") is not None and not self.built:
            shape = config["input_shape"]
            _check_build_shape(self, shape)
            if isinstance(shape, dict) and all(k.endswith("_shape") for k in shape):
                self.build(**{k: _tuple_shapes(v) for k, v in shape.items()})
            else:
                self.build(_tuple_shapes(shape))
            self.built = True

    # --- call ---------------------------------------------------------------------------------
    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The forward computation. Subclasses implement it."""
        raise TypeError(
            f"Layer '{self.name}' ({type(self).__name__}) has no call() method: subclass Layer "
            "and implement call(self, inputs).")

    def _info(self) -> _CallInfo:
        cls = type(self)
        info = _CALL_INFO.get(cls)
        return info if info is not None else _call_info(cls)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        st = _STATE
        cls = type(self)
        info = _CALL_INFO.get(cls)
        if info is None:
            info = _call_info(cls)
        # 1. inputs: convert arrays to tensors, autocast floats, find symbolic calls
        if args:
            x = args[0]
            if type(x) is Tensor:
                symbolic = False
                if self.autocast:
                    dt = x._value.dtype
                    if dt != self._np_compute and dt.kind == "f" and self._np_compute is not None:
                        args = (_cast(x, self._np_compute),) + args[1:]
                if len(args) > 1 or kwargs:
                    args, kwargs, symbolic = self._convert_rest(args, kwargs, 1)
            else:
                args, kwargs, symbolic = self._convert_rest(args, kwargs, 0)
        else:
            args, kwargs, symbolic = self._convert_rest(args, kwargs, 0)
        if symbolic and _dispatch.trace_hook is not None:
            symbolic = False  # tracing an ndflow.function: graph values, not keras.Input
        if self._policy is None:
            self._ensure_policy()
        # 2. build
        first_call = not self.built
        if first_call:
            self._maybe_build(args, kwargs)
        # 3. input checks
        if self.input_spec is not None:
            assert_input_compatibility(
                self.input_spec, args[0] if args else kwargs.get(info.first_arg), self.name)
        # 4. training: explicit value > enclosing call's value > call signature default
        prev_training = st.training
        positional_training = info.training_pos is not None and len(args) > info.training_pos
        if positional_training:
            training = args[info.training_pos]
        elif info.has_training:
            training = kwargs.get("training")
        else:
            training = kwargs.pop("training", None) if "training" in kwargs else None
        if training is None:
            training = prev_training if prev_training is not None else info.training_default
        if info.has_training and training is not None and not positional_training:
            kwargs["training"] = training
        # 5. mask
        auto_mask = False
        if (info.has_mask and any_keras_masks() and kwargs.get("mask") is None
                and not (info.mask_pos is not None and len(args) > info.mask_pos)):
            first = args[0] if args else kwargs.get(info.first_arg)
            m = _masks_of(first)
            if m is not None:
                kwargs["mask"] = m
                auto_mask = True
        if "mask" in kwargs and not info.has_mask and not info.var_kw:
            kwargs.pop("mask")
        # 6. run
        outer = st.depth == 0
        if outer and st.loss_layers and not symbolic:
            self._clear_losses()
        st.training = training
        st.depth += 1
        try:
            if symbolic:
                outputs = self._symbolic_call(args, kwargs, auto_mask)
            elif _dispatch.trace_hook is not None and _autograph.is_enabled():
                outputs = _autograph.convert(self.call)(*args, **kwargs)
            else:
                outputs = self.call(*args, **kwargs)
        except Exception as e:
            raise _annotate(e, self, args, kwargs) from None
        finally:
            st.depth -= 1
            st.training = prev_training
        # 7. activity regularization and masks
        if self.activity_regularizer is not None and not symbolic:
            for o in nest.flatten(outputs):
                if isinstance(o, Tensor):
                    n = o.shape[0] if o.ndim else 1
                    self.add_loss(self.activity_regularizer(o) / float(n or 1))
        if self.supports_masking or cls.compute_mask is not Layer.compute_mask:
            self._set_output_masks(args, kwargs, outputs)
        if first_call:
            self._first_output_shape = _batchless_shapes(outputs)
        return outputs

    def _convert_rest(self, args: tuple, kwargs: dict, start: int) -> tuple:
        """Slow path: convert array leaves to tensors; detect symbolic inputs."""
        symbolic = False
        new_args = list(args)
        info = self._info()
        for i in range(start, len(args)):
            new_args[i], s = _convert_struct(args[i], self, first=(i == 0))
            symbolic |= s
        if not args and info.first_arg in kwargs:
            kwargs = dict(kwargs)
            kwargs[info.first_arg], s = _convert_struct(kwargs[info.first_arg], self, True)
            symbolic |= s
        for k, v in kwargs.items():
            if k in ("training", "mask") or k == info.first_arg:
                if k == "mask" and v is not None:
                    symbolic |= any(isinstance(t, SymbolicTensor) for t in nest.flatten(v))
                continue
            if isinstance(v, (Tensor, np.ndarray, list, tuple, dict)):
                kwargs = dict(kwargs) if kwargs is not None else {}
                kwargs[k], s = _convert_struct(v, self, first=False)
                symbolic |= s
        if start == 1:
            symbolic |= args[0]._symbolic and not args[0]._traced
        return tuple(new_args), kwargs, symbolic

    def _symbolic_call(self, args: tuple, kwargs: dict, auto_mask: bool = False) -> Any:
        st = _STATE
        record = st.symbolic_depth == 0
        st.symbolic_depth += 1
        try:
            outputs = self.compute_output_spec(*args, **kwargs)
        finally:
            st.symbolic_depth -= 1
        if not record:
            return outputs
        in_ids = {id(t) for t in nest.flatten((args, kwargs)) if isinstance(t, Tensor)}
        flat = nest.flatten(outputs)
        fresh = []
        changed = False
        for o in flat:
            if not isinstance(o, SymbolicTensor):
                if isinstance(o, Tensor):  # a constant output: keep it symbolic for the graph
                    o = SymbolicTensor(o.shape, o.dtype)
                    changed = True
                else:
                    raise TypeError(
                        f"Layer '{self.name}' returned {type(o).__name__} from a symbolic call; "
                        "call() must return tensors (or nested lists/dicts of tensors)")
            elif id(o) in in_ids or o._keras_history is not None:
                o = SymbolicTensor(o.shape, o.dtype, node=o._node)
                changed = True
            fresh.append(o)
        if changed:
            outputs = nest.pack_sequence_as(outputs, fresh)
        # a propagated mask is not recorded: replaying the graph propagates it again, and
        # the ops computing it stay out of the graph (and out of saved configs)
        Node(self, args, {k: v for k, v in kwargs.items() if k != "mask"} if auto_mask
             else kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """Output SymbolicTensors for symbolic inputs (no compute).

        Uses `compute_output_shape` when the class overrides it, else runs `call` on the
        symbolic inputs (every ndflow op has a shape rule).
        """
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            first = args[0] if args else kwargs.get(self._info().first_arg)
            out_shapes = self.compute_output_shape(_shapes_of(first))
            dtype = self.compute_dtype
            return _shapes_to_symbolic(out_shapes, dtype)
        return self.call(*args, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for ``input_shape`` (by default traced through `call`)."""
        if not self.built:
            self._maybe_build((_shapes_to_symbolic(input_shape, self.compute_dtype),), {})
        specs = _shapes_to_symbolic(input_shape, self.compute_dtype)
        st = _STATE
        st.symbolic_depth += 1
        prev = st.training
        try:
            out = self.call(specs)
        finally:
            st.symbolic_depth -= 1
            st.training = prev
        return nest.map_structure(lambda t: tuple(t.shape), out)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The output mask: by default the input mask (if masking is supported)."""
        if not self.supports_masking:
            return None
        return previous_mask

    def _set_output_masks(self, args: tuple, kwargs: dict, outputs: Any) -> None:
        first = args[0] if args else kwargs.get(self._info().first_arg)
        prev = kwargs.get("mask")
        if prev is None:
            prev = _masks_of(first)
        if prev is None and type(self).compute_mask is Layer.compute_mask:
            return
        masks = self.compute_mask(first, prev)
        if masks is None:
            return
        flat_o = nest.flatten(outputs)
        flat_m = nest.flatten(masks) if nest.is_nested(masks) else [masks] * len(flat_o)
        if len(flat_m) != len(flat_o):
            flat_m = [flat_m[0]] * len(flat_o)
        for o, m in zip(flat_o, flat_m):
            if isinstance(o, Tensor) and m is not None:
                set_keras_mask(o, m)

    # --- functional-graph views ---------------------------------------------------------------
    def _single_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called on a symbolic input (keras.Input), "
                f"so it has no defined {what}.")
        return self._inbound_nodes[0]

    @property
    def input(self) -> Any:
        node = self._single_node("input")
        return node.args[0] if len(node.args) == 1 else list(node.args)

    @property
    def output(self) -> Any:
        return self._single_node("output").outputs

    @property
    def output_shape(self) -> Any:
        return nest.map_structure(lambda t: tuple(t.shape), self.output)

    @property
    def input_shape(self) -> Any:
        return nest.map_structure(lambda t: tuple(t.shape), self.input)

    # --- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments of this layer, JSON-serializable.

        The base returns ``name``, ``trainable`` and ``dtype``; for a subclass that does not
        override `get_config` it also includes the (plain-value) constructor arguments.
        """
        config: dict = {"name": self.name, "trainable": self.trainable,
                        "dtype": self.dtype_policy.name}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = list(self._input_shape_arg)
        if type(self).get_config is Layer.get_config and type(self).__init__ is not \
                Layer.__init__:
            auto = self._auto_config
            if auto is None:
                raise TypeError(
                    f"Layer {type(self).__name__} has constructor arguments that are not plain "
                    "values (numbers, strings, lists, dicts); implement get_config() to return "
                    "them in a serializable form.")
            config.update(auto)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Recreate a layer from `get_config()`'s output."""
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            config["dtype"] = _policy_name(config["dtype"])
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"{cls.__name__}.from_config could not create the layer from config "
                f"{config}: {e}. Implement get_config/from_config for custom arguments.") from e

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __reduce__(self) -> Any:
        raise TypeError("ndflow layers are not picklable; save models with model.save(...)")


def _check_build_shape(layer: Layer, shape: Any, depth: int = 0) -> None:
    """A saved ``build_config`` shape: a list of ints/None, or lists/dicts of such lists."""
    ok = False
    if isinstance(shape, (list, tuple)) and len(shape) <= 64:
        if all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
               for d in shape):
            ok = True
        elif shape and depth < 8 and all(isinstance(d, (list, tuple, dict)) for d in shape):
            for d in shape:
                _check_build_shape(layer, d, depth + 1)
            ok = True
    elif isinstance(shape, dict) and shape and depth < 8 and all(
            isinstance(k, str) for k in shape):
        for v in shape.values():
            _check_build_shape(layer, v, depth + 1)
        ok = True
    if not ok:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): build_config expects "
                         f"an input shape (a list of non-negative ints or null, or lists of "
                         f"them), got {shape!r:.80}")


# Attributes holding bookkeeping rather than tracked children.
_UNTRACKED = frozenset({"_inbound_nodes", "_first_output_shape", "_own_variables", "_losses",
                        "_auto_config", "_build_shapes", "_policy", "_np_compute",
                        "_input_shape_arg", "activity_regularizer", "input_spec", "_nodes",
                        "_input_tensors",
                        "_output_tensors", "_input_layers", "_output_layers",
                        "_graph_inputs", "_graph_outputs", "_train_vars_cache", "history",
                        "_attr_metrics_cache", "_reg_cache",
                        "optimizer", "_compile_loss", "_compile_metrics", "_loss_tracker",
                        "_callbacks", "stop_training", "compiled_loss", "compiled_metrics",
                        "_compile_config"})


def _collect(value: Any, kind: type, out: list, seen: set, depth: int) -> None:
    if isinstance(value, kind):
        if id(value) not in seen:
            seen.add(id(value))
            out.append(value)
        return
    if depth > 2:
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, (kind, list, tuple, dict)):
                _collect(v, kind, out, seen, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            if isinstance(v, (kind, list, tuple, dict)):
                _collect(v, kind, out, seen, depth + 1)


_PLAIN = (int, float, str, bool, type(None))


def _plain(v: Any, depth: int = 0) -> bool:
    if isinstance(v, _PLAIN):
        return True
    if depth > 4:
        return False
    if isinstance(v, (list, tuple)):
        return all(_plain(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain(x, depth + 1) for k, x in v.items())
    return False


def _capture_init_args(cls: type, args: tuple, kwargs: dict) -> dict | None:
    """The constructor arguments when they are plain values (for the default get_config)."""
    if cls.__init__ is Layer.__init__ or cls.get_config is not Layer.get_config:
        return {}
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    out: dict = {}
    for k, v in list(bound.arguments.items())[1:]:
        param = inspect.signature(cls.__init__).parameters[k]
        if param.kind is param.VAR_KEYWORD:
            out.update(v)
        elif param.kind is param.VAR_POSITIONAL:
            if v:
                return None
        else:
            out[k] = v
    if not _plain(out):
        return None
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def _cast(x: Tensor, np_dtype: np.dtype) -> Tensor:
    from ndflow.ops.math import cast

    return cast(x, np_dtype)


def _convert_struct(value: Any, layer: Layer, first: bool) -> tuple[Any, bool]:
    """Convert array leaves of ``value`` to tensors (autocasting floats); report symbolic."""
    if isinstance(value, Tensor):
        if value._symbolic and not value._traced:  # a Keras Input: a symbolic call
            if first and layer.autocast and value._np_dtype.kind == "f" and \
                    layer._np_compute is not None and value._np_dtype != layer._np_compute:
                return _cast(value, layer._np_compute), True
            return value, True
        if first and layer.autocast and layer._np_compute is not None:
            dt = value._value.dtype
            if dt.kind == "f" and dt != layer._np_compute:
                return _cast(value, layer._np_compute), False
        return value, False
    if isinstance(value, np.ndarray | np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            target = layer._np_compute if (first and layer.autocast and
                                           layer._np_compute is not None) else None
            if target is not None and arr.dtype != target:
                arr = arr.astype(target)
        elif arr.dtype.kind in "OUS":
            from ndflow.core.string_array import is_stringlike, to_bytes_array

            if is_stringlike(arr):  # text: a string tensor (text layers take it)
                return Tensor(to_bytes_array(arr)), False
            return value, False
        from ndflow.core.tensor import convert_to_tensor

        return convert_to_tensor(arr), False
    if isinstance(value, (list, tuple, dict)):
        flat = nest.flatten(value)
        if not flat:
            return value, False
        if isinstance(value, list) and all(isinstance(v, (str, bytes)) for v in flat) and \
                not getattr(layer, "_takes_input_list", False):
            from ndflow.core.string_array import to_bytes_array

            try:  # a (nested) list of text: a string tensor
                return Tensor(to_bytes_array(value)), False
            except (TypeError, ValueError):
                pass
        if first and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat) \
                and isinstance(value, list):
            from ndflow.core.tensor import convert_to_tensor

            arr = np.asarray(value)
            if arr.dtype.kind == "f":
                arr = arr.astype(layer._np_compute or np.float32)
            return convert_to_tensor(arr), False
        sym = False
        conv = []
        for v in flat:
            c, s = _convert_struct(v, layer, first) if isinstance(
                v, (Tensor, np.ndarray)) else (v, False)
            conv.append(c)
            sym |= s
        return nest.pack_sequence_as(value, conv), sym
    return value, False


def _shapes_of(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, Tensor):
        return tuple(x.shape)
    if isinstance(x, np.ndarray):
        return tuple(x.shape)
    if isinstance(x, (list, tuple, dict)):
        return nest.map_structure(lambda t: tuple(t.shape) if hasattr(t, "shape") else t, x)
    return None


def _batchless_shapes(outputs: Any) -> Any:
    """Output shapes with the batch dimension as None (what `summary` shows)."""
    try:
        return nest.map_structure(
            lambda t: (None,) + tuple(t.shape)[1:] if isinstance(t, Tensor) and t.ndim else
            (tuple(t.shape) if isinstance(t, Tensor) else None), outputs)
    except Exception:
        return None


def _is_shape(s: Any) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in s)


def _shapes_to_symbolic(shapes: Any, dtype: Any) -> Any:
    if _is_shape(shapes):
        return SymbolicTensor(tuple(shapes), dtype)
    if isinstance(shapes, dict):
        return {k: _shapes_to_symbolic(v, dtype) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(_shapes_to_symbolic(s, dtype) for s in shapes) if not isinstance(
            shapes, tuple) else tuple(_shapes_to_symbolic(s, dtype) for s in shapes)
    raise ValueError(f"Expected a shape tuple (or a list/dict of them), got {shapes!r}")


def _jsonable_shapes(s: Any) -> Any:
    if _is_shape(s):
        return list(s)
    if isinstance(s, dict):
        return {k: _jsonable_shapes(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return [_jsonable_shapes(v) for v in s]
    return s


def _tuple_shapes(s: Any) -> Any:
    if _is_shape(s):
        return tuple(s)
    if isinstance(s, dict):
        return {k: _tuple_shapes(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return [_tuple_shapes(v) for v in s]
    return s


def _masks_of(x: Any) -> Any:
    if x is None or not any_keras_masks():
        return None
    if isinstance(x, Tensor):
        return get_keras_mask(x)
    if isinstance(x, (list, tuple, dict)):
        ms = [get_keras_mask(t) for t in nest.flatten(x)]
        if all(m is None for m in ms):
            return None
        return nest.pack_sequence_as(x, ms)
    return None


def _describe(v: Any) -> str:
    if isinstance(v, Tensor):
        kind = "SymbolicTensor" if v._symbolic and not v._traced else "tf.Tensor"
        return f"{kind}(shape={_fmt_shape(tuple(v.shape))}, dtype={v.dtype.name})"
    if isinstance(v, np.ndarray):
        return f"np.ndarray(shape={v.shape}, dtype={v.dtype})"
    if isinstance(v, (list, tuple)) and len(v) < 10:
        inner = ", ".join(_describe(x) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner})"
    r = repr(v)
    return r if len(r) < 80 else r[:77] + "..."


def _annotate(e: Exception, layer: Layer, args: tuple, kwargs: dict) -> Exception:
    """Add which layer failed, and with what arguments, to an exception (once)."""
    if getattr(e, "_ndflow_layer_annotated", False):
        return e
    if not getattr(layer, "_accepts_strings", False):
        texts = [t for t in nest.flatten((list(args), kwargs))
                 if isinstance(t, Tensor) and t.dtype.is_string]
        if texts:  # a numeric layer was fed text: say so, not the kernel's complaint
            from ndflow.errors import InvalidArgumentError

            e = InvalidArgumentError(
                f"{type(layer).__name__} layer '{layer.name}': expected numeric inputs, got a "
                f"string tensor of shape {_fmt_shape(tuple(texts[0].shape))}. Turn text into "
                "numbers first: put a TextVectorization, StringLookup or Hashing layer before "
                "it (or apply one in Dataset.map).")
    lines = [f"Exception encountered when calling {type(layer).__name__}.call() of layer "
             f"'{layer.name}'.", "", f"{e}", "",
             f"Arguments received by {type(layer).__name__}.call():"]
    info = layer._info()
    for name, v in zip(info.params, args):
        lines.append(f"  • {name}={_describe(v)}")
    for k, v in kwargs.items():
        lines.append(f"  • {k}={_describe(v)}")
    msg = "\n".join(lines)
    try:
        new = type(e)(msg)
    except Exception:
        new = None
    if new is None or str(new) != msg:
        try:
            e._ndflow_layer_annotated = True  # type: ignore[attr-defined]
        except Exception:
            pass
        return e
    new._ndflow_layer_annotated = True  # type: ignore[attr-defined]
    new.__cause__ = e.__cause__
    new.__traceback__ = e.__traceback__
    return new

"""`ndflow.onnx.load`: run (and fine-tune) an ONNX model in ndflow.

The ONNX graph is interpreted with ndflow ops: float initializers become trainable
`ndflow.Variable`s (so `GradientTape` and optimizers fine-tune them), integer initializers and
`Constant` nodes stay NumPy constants, and shape arithmetic (Shape, Gather on shapes, Concat...)
is folded with NumPy at call time. Covers the ops ndflow's exporter writes and the ones
`torch.onnx.export` writes for MLPs and convnets.

>>> import ndflow as tf
>>> model = tf.onnx.load("model.onnx")  # doctest: +SKIP
>>> y = model(x)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

import ndflow as tf
from ndflow.core.tensor import Tensor
from ndflow.core.variable import Variable
from ndflow.errors import InvalidArgumentError
from ndflow.export.onnx.lowering import onnx_module

_IMPL: dict[str, Callable] = {}
MAX_FILE_BYTES = 2 << 30


def _op(*names: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        for n in names:
            _IMPL[n] = fn
        return fn
    return deco


def _is_const(x: Any) -> bool:
    return isinstance(x, np.ndarray) or (isinstance(x, Tensor) and not isinstance(x, Variable)
                                         and not x._symbolic)


def _np(x: Any, what: str) -> np.ndarray:
    """A value the op needs as a constant (a shape, axes, pads...)."""
    if isinstance(x, np.ndarray):
        return x
    if _is_const(x):
        return np.asarray(x.numpy())
    raise InvalidArgumentError(f"ONNX import: expected {what} to be a constant, got a tensor "
                               "computed from the inputs (dynamic shapes are not supported)")


def _all_np(*xs: Any) -> bool:
    return all(isinstance(x, np.ndarray) for x in xs if x is not None)


def _shape(x: Any) -> tuple:
    return tuple(x.shape)


class _Node:
    __slots__ = ("op_type", "inputs", "outputs", "attrs", "name")

    def __init__(self, proto: Any, onnx: Any) -> None:
        self.op_type = proto.op_type
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.name = proto.name or proto.op_type
        self.attrs = {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute}
        for k, v in list(self.attrs.items()):
            if isinstance(v, bytes):
                self.attrs[k] = v.decode()
            elif hasattr(v, "dims") and hasattr(v, "data_type"):  # a TensorProto
                self.attrs[k] = onnx.numpy_helper.to_array(v)


class OnnxModel:
    """An ONNX graph as an ndflow callable: `model(x)` or `model(x1, x2)` or
    `model(input_name=x)`; `trainable_variables` for fine-tuning; `function` the same
    computation compiled with `ndflow.function`."""

    def __init__(self, proto: Any) -> None:
        onnx = onnx_module()
        g = proto.graph
        opsets = {o.domain: o.version for o in proto.opset_import}
        self.opset = opsets.get("", opsets.get("ai.onnx", 0))
        for dom in opsets:
            if dom not in ("", "ai.onnx"):
                used = any(n.domain == dom for n in g.node)
                if used:
                    raise InvalidArgumentError(f"ONNX import: operators of domain {dom!r} are "
                                               "not supported (only the default ONNX domain)")
        self.variables: list[Variable] = []
        self._consts: dict[str, Any] = {}
        for init in g.initializer:
            arr = onnx.numpy_helper.to_array(init)
            if arr.dtype.kind == "f" and arr.size > 1:
                v = Variable(arr.copy(), name=init.name.replace("/", "_") or "weight")
                self.variables.append(v)
                self._consts[init.name] = v
            else:
                self._consts[init.name] = np.array(arr)
        self.input_names = [i.name for i in g.input if i.name not in self._consts]
        self.output_names = [o.name for o in g.output]
        self._nodes = [_Node(n, onnx) for n in g.node]
        missing = sorted({n.op_type for n in self._nodes} - set(_IMPL))
        if missing:
            raise InvalidArgumentError(
                f"ONNX import: expected operators ndflow can run, got unsupported operator(s) "
                f"{missing}. Supported: {sorted(_IMPL)}")
        self.function = tf.function(self.__call__)

    @property
    def trainable_variables(self) -> list[Variable]:
        return [v for v in self.variables if v.trainable]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and isinstance(args[0], dict):
            kwargs, args = dict(args[0]), ()
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and len(self.input_names) > 1:
            args = tuple(args[0])
        if len(args) + len(kwargs) != len(self.input_names):
            raise InvalidArgumentError(f"ONNX model: expected {len(self.input_names)} inputs "
                                       f"({self.input_names}), got {len(args) + len(kwargs)}")
        env: dict[str, Any] = dict(self._consts)
        for name, x in zip(self.input_names, args):
            env[name] = tf.convert_to_tensor(x)
        for name, x in kwargs.items():
            if name not in self.input_names:
                raise InvalidArgumentError(f"ONNX model: expected inputs named "
                                           f"{self.input_names}, got {name!r}")
            env[name] = tf.convert_to_tensor(x)
        for node in self._nodes:
            ins = [env[i] if i else None for i in node.inputs]
            try:
                outs = _IMPL[node.op_type](self, node, *ins)
            except InvalidArgumentError as e:
                raise InvalidArgumentError(f"ONNX import, node {node.name!r} "
                                           f"({node.op_type}): {e}") from None
            if not isinstance(outs, (list, tuple)):
                outs = (outs,)
            for name, o in zip(node.outputs, outs):
                if name:
                    env[name] = o
        res = [env[n] for n in self.output_names]
        res = [tf.convert_to_tensor(r) if isinstance(r, np.ndarray) else r for r in res]
        return res[0] if len(res) == 1 else res

    def predict(self, x: Any, batch_size: int = 128) -> Any:
        """Run in batches through the compiled function; NumPy results."""
        x = np.asarray(x)
        outs = [self.function(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        if isinstance(outs[0], list):
            return [np.concatenate([o[j].numpy() for o in outs]) for j in range(len(outs[0]))]
        return np.concatenate([o.numpy() for o in outs])


def load(path: str | os.PathLike) -> OnnxModel:
    """Load an ONNX file as an `OnnxModel` (a callable of ndflow tensors, fine-tunable).

    The file is parsed as protobuf only (ONNX files hold no code) and checked with
    `onnx.checker` first.
    """
    onnx = onnx_module()
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise InvalidArgumentError(f"ndflow.onnx.load: expected a file under "
                                   f"{MAX_FILE_BYTES} bytes, got {size} bytes ({path})")
    # weights in an external data file (torch.onnx.export's default) load from the model's
    # folder; onnx refuses locations outside it
    proto = onnx.load(path)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as e:
        raise InvalidArgumentError(f"ndflow.onnx.load: {path} is not a valid ONNX model: "
                                   f"{e}") from None
    return OnnxModel(proto)


# --- element-wise --------------------------------------------------------------------------------
def _binary(fn: Callable, npfn: Callable) -> Callable:
    def impl(m: OnnxModel, n: _Node, a: Any, b: Any) -> Any:
        if _all_np(a, b):
            return np.asarray(npfn(a, b))
        return fn(a, b)
    return impl


for _name, _fn, _npfn in [
    ("Add", tf.add, np.add), ("Sub", tf.subtract, np.subtract),
    ("Mul", tf.multiply, np.multiply), ("Equal", tf.equal, np.equal),
    ("Less", tf.less, np.less), ("Greater", tf.greater, np.greater),
    ("LessOrEqual", tf.less_equal, np.less_equal),
    ("GreaterOrEqual", tf.greater_equal, np.greater_equal),
    ("And", tf.logical_and, np.logical_and), ("Or", tf.logical_or, np.logical_or),
    ("Xor", tf.math.logical_xor, np.logical_xor),
]:
    _IMPL[_name] = _binary(_fn, _npfn)


@_op("Div")
def _div(m: OnnxModel, n: _Node, a: Any, b: Any) -> Any:
    if _all_np(a, b):
        return (a // b if a.dtype.kind in "iu" else a / b).astype(a.dtype)
    return tf.math.truediv(a, b) if tf.as_dtype(a.dtype).is_floating else tf.math.floordiv(a, b)


@_op("Pow")
def _pow(m: OnnxModel, n: _Node, a: Any, b: Any) -> Any:
    if isinstance(b, np.ndarray):
        b = b.astype(np.dtype(tf.as_dtype(a.dtype).as_numpy_dtype))
    return tf.pow(a, b)


@_op("Max", "Min", "Sum", "Mean")
def _variadic(m: OnnxModel, n: _Node, *xs: Any) -> Any:
    fn = {"Max": tf.maximum, "Min": tf.minimum, "Sum": tf.add, "Mean": tf.add}[n.op_type]
    out = xs[0]
    for x in xs[1:]:
        out = fn(out, x)
    return tf.divide(out, float(len(xs))) if n.op_type == "Mean" else out


@_op("Mod")
def _mod(m: OnnxModel, n: _Node, a: Any, b: Any) -> Any:
    if n.attrs.get("fmod", 0):
        return tf.subtract(a, tf.multiply(tf.math.truediv(a, b), b))
    return tf.math.floormod(a, b)


def _unary(fn: Callable) -> Callable:
    return lambda m, n, x: fn(x)


for _name, _fn in [
    ("Abs", tf.abs), ("Neg", tf.negative), ("Exp", tf.exp), ("Log", tf.math.log),
    ("Sqrt", tf.sqrt), ("Reciprocal", tf.math.reciprocal), ("Sin", tf.sin), ("Cos", tf.cos),
    ("Tan", tf.tan), ("Asin", tf.math.asin), ("Acos", tf.math.acos), ("Atan", tf.math.atan),
    ("Sinh", tf.sinh), ("Cosh", tf.cosh), ("Asinh", tf.math.asinh), ("Acosh", tf.math.acosh),
    ("Atanh", tf.math.atanh), ("Tanh", tf.tanh), ("Sigmoid", tf.sigmoid), ("Erf", tf.math.erf),
    ("Floor", tf.floor), ("Ceil", tf.ceil), ("Round", tf.round), ("Sign", tf.sign),
    ("IsNaN", tf.math.is_nan), ("Not", tf.logical_not), ("Relu", tf.nn.relu),
    ("Softplus", tf.nn.softplus), ("Softsign", tf.nn.softsign),
]:
    _IMPL[_name] = _unary(_fn)


@_op("IsInf")
def _isinf(m: OnnxModel, n: _Node, x: Any) -> Any:
    return tf.math.is_inf(x)


@_op("Identity", "Dropout")
def _identity(m: OnnxModel, n: _Node, x: Any, *rest: Any) -> Any:
    return x


@_op("Clip")
def _clip(m: OnnxModel, n: _Node, x: Any, lo: Any = None, hi: Any = None) -> Any:
    lo = n.attrs.get("min") if lo is None else lo
    hi = n.attrs.get("max") if hi is None else hi
    if lo is not None:
        x = tf.maximum(x, tf.cast(lo, x.dtype))
    if hi is not None:
        x = tf.minimum(x, tf.cast(hi, x.dtype))
    return x


@_op("LeakyRelu")
def _leaky(m: OnnxModel, n: _Node, x: Any) -> Any:
    return tf.nn.leaky_relu(x, n.attrs.get("alpha", 0.01))


@_op("Elu")
def _elu(m: OnnxModel, n: _Node, x: Any) -> Any:
    alpha = n.attrs.get("alpha", 1.0)
    y = tf.nn.elu(x)
    return y if alpha == 1.0 else tf.where(tf.greater(x, 0.0), y, tf.multiply(y, alpha))


@_op("Selu")
def _selu(m: OnnxModel, n: _Node, x: Any) -> Any:
    alpha = n.attrs.get("alpha", 1.67326319217681884765625)
    gamma = n.attrs.get("gamma", 1.05070102214813232421875)
    neg = tf.multiply(tf.math.expm1(tf.minimum(x, 0.0)), alpha)
    return tf.multiply(tf.where(tf.greater(x, 0.0), x, neg), gamma)


@_op("HardSigmoid")
def _hard_sigmoid(m: OnnxModel, n: _Node, x: Any) -> Any:
    y = tf.add(tf.multiply(x, n.attrs.get("alpha", 0.2)), n.attrs.get("beta", 0.5))
    return tf.clip_by_value(y, 0.0, 1.0)


@_op("Gelu")
def _gelu(m: OnnxModel, n: _Node, x: Any) -> Any:
    return tf.nn.gelu(x, approximate=n.attrs.get("approximate", "none") == "tanh")


@_op("Softmax", "LogSoftmax")
def _softmax(m: OnnxModel, n: _Node, x: Any) -> Any:
    axis = n.attrs.get("axis", -1 if m.opset >= 13 else 1)
    if m.opset < 13 and axis % len(x.shape) != len(x.shape) - 1:
        raise InvalidArgumentError(f"{n.op_type} before opset 13 flattens from axis {axis}; "
                                   "only the last axis is supported")
    fn = tf.nn.softmax if n.op_type == "Softmax" else tf.nn.log_softmax
    return fn(x, axis=axis)


@_op("Where")
def _where(m: OnnxModel, n: _Node, c: Any, a: Any, b: Any) -> Any:
    if _all_np(c, a, b):
        return np.where(c, a, b)
    return tf.where(c, a, b)


@_op("Cast")
def _cast(m: OnnxModel, n: _Node, x: Any) -> Any:
    onnx = onnx_module()
    dt = onnx.helper.tensor_dtype_to_np_dtype(n.attrs["to"])
    return x.astype(dt) if isinstance(x, np.ndarray) else tf.cast(x, dt)


# --- shapes and indexing ------------------------------------------------------------------------
@_op("Shape")
def _shape_op(m: OnnxModel, n: _Node, x: Any) -> Any:
    s = np.asarray(_shape(x), np.int64)
    return s[n.attrs.get("start", 0):n.attrs.get("end", len(s))]


@_op("Size")
def _size(m: OnnxModel, n: _Node, x: Any) -> Any:
    return np.asarray(int(np.prod(_shape(x))), np.int64)


@_op("Constant")
def _constant(m: OnnxModel, n: _Node) -> Any:
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in n.attrs:
            v = n.attrs[key]
            dt = np.float32 if "float" in key else np.int64 if "int" in key else None
            return np.asarray(v, dt) if dt else np.asarray(v)
    raise InvalidArgumentError(f"Constant with attributes {sorted(n.attrs)} is not supported")


@_op("ConstantOfShape")
def _const_of_shape(m: OnnxModel, n: _Node, shape: Any) -> Any:
    v = n.attrs.get("value", np.zeros(1, np.float32))
    return np.full(tuple(int(d) for d in _np(shape, "the shape")), v.reshape(-1)[0], v.dtype)


@_op("Reshape")
def _reshape(m: OnnxModel, n: _Node, x: Any, shape: Any) -> Any:
    shape = [int(d) for d in _np(shape, "the target shape")]
    if not n.attrs.get("allowzero", 0):
        shape = [_shape(x)[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape) if isinstance(x, np.ndarray) else tf.reshape(x, shape)


@_op("Flatten")
def _flatten(m: OnnxModel, n: _Node, x: Any) -> Any:
    axis = n.attrs.get("axis", 1) % max(len(x.shape), 1)
    lead = int(np.prod(_shape(x)[:axis]))
    return tf.reshape(x, (lead, -1))


@_op("Expand")
def _expand(m: OnnxModel, n: _Node, x: Any, shape: Any) -> Any:
    target = np.broadcast_shapes(_shape(x), tuple(int(d) for d in _np(shape, "the shape")))
    return np.broadcast_to(x, target) if isinstance(x, np.ndarray) else tf.broadcast_to(x, target)


def _axes(n: _Node, given: Any) -> list | None:
    if given is not None:
        return [int(a) for a in _np(given, "the axes").reshape(-1)]
    a = n.attrs.get("axes")
    return None if a is None else [int(v) for v in a]


@_op("Squeeze")
def _squeeze(m: OnnxModel, n: _Node, x: Any, axes: Any = None) -> Any:
    ax = _axes(n, axes)
    if isinstance(x, np.ndarray):
        return np.squeeze(x, axis=None if ax is None else tuple(ax))
    return tf.squeeze(x, axis=ax)


@_op("Unsqueeze")
def _unsqueeze(m: OnnxModel, n: _Node, x: Any, axes: Any = None) -> Any:
    ax = _axes(n, axes)
    rank = len(x.shape) + len(ax)
    shape = list(_shape(x))
    for a in sorted(v % rank for v in ax):
        shape.insert(a, 1)
    return x.reshape(shape) if isinstance(x, np.ndarray) else tf.reshape(x, shape)


@_op("Transpose")
def _transpose(m: OnnxModel, n: _Node, x: Any) -> Any:
    perm = n.attrs.get("perm", list(range(len(x.shape)))[::-1])
    return np.transpose(x, perm) if isinstance(x, np.ndarray) else tf.transpose(x, perm)


@_op("Concat")
def _concat(m: OnnxModel, n: _Node, *xs: Any) -> Any:
    if _all_np(*xs):
        return np.concatenate(xs, axis=n.attrs["axis"])
    return tf.concat(list(xs), axis=n.attrs["axis"])


@_op("Split")
def _split(m: OnnxModel, n: _Node, x: Any, sizes: Any = None) -> Any:
    axis = n.attrs.get("axis", 0)
    if sizes is None:
        sizes = n.attrs.get("split")
    if sizes is None:
        k = len(n.outputs)
        d = _shape(x)[axis]
        sizes = [-(-d // k)] * (k - 1)
        sizes.append(d - sum(sizes))
    return tf.split(x, [int(s) for s in _np(np.asarray(sizes), "split sizes")], axis=axis)


@_op("Slice")
def _slice(m: OnnxModel, n: _Node, x: Any, starts: Any, ends: Any, axes: Any = None,
           steps: Any = None) -> Any:
    starts = _np(starts, "starts").reshape(-1)
    ends = _np(ends, "ends").reshape(-1)
    axes = (np.arange(len(starts)) if axes is None else _np(axes, "axes")).reshape(-1)
    steps = np.ones(len(starts), np.int64) if steps is None else _np(steps, "steps").reshape(-1)
    key = [slice(None)] * len(x.shape)
    for s, e, a, st in zip(starts, ends, axes, steps):
        key[int(a)] = slice(int(s), int(e), int(st))
    return x[tuple(key)]


@_op("Gather")
def _gather(m: OnnxModel, n: _Node, x: Any, idx: Any) -> Any:
    axis = n.attrs.get("axis", 0)
    if _all_np(x, idx):
        return np.take(x, idx, axis=axis)
    if isinstance(idx, np.ndarray):
        idx = np.where(idx < 0, idx + _shape(x)[axis], idx)
    return tf.gather(x, idx, axis=axis)


@_op("Tile")
def _tile(m: OnnxModel, n: _Node, x: Any, reps: Any) -> Any:
    return tf.tile(x, [int(r) for r in _np(reps, "repeats")])


@_op("Pad")
def _pad(m: OnnxModel, n: _Node, x: Any, pads: Any = None, value: Any = None,
         axes: Any = None) -> Any:
    pads = [int(p) for p in (_np(pads, "pads") if pads is not None else n.attrs["pads"])]
    rank = len(x.shape)
    ax = list(range(rank)) if axes is None else [int(a) % rank for a in _np(axes, "axes")]
    pairs = [[0, 0] for _ in range(rank)]
    for i, a in enumerate(ax):
        pairs[a] = [pads[i], pads[i + len(ax)]]
    mode = n.attrs.get("mode", "constant")
    if mode not in ("constant", "reflect"):
        raise InvalidArgumentError(f"Pad mode {mode!r} is not supported")
    cv = 0 if value is None else _np(value, "the pad value").reshape(-1)[0].item()
    return tf.pad(x, pairs, mode=mode.upper(), constant_values=cv)


@_op("OneHot")
def _one_hot(m: OnnxModel, n: _Node, idx: Any, depth: Any, values: Any) -> Any:
    values = _np(values, "values")
    d = int(_np(depth, "depth").reshape(-1)[0])
    return tf.one_hot(tf.cast(idx, "int64"), d, on_value=values[1].item(),
                      off_value=values[0].item(), axis=n.attrs.get("axis", -1),
                      dtype=values.dtype)


@_op("CumSum")
def _cumsum(m: OnnxModel, n: _Node, x: Any, axis: Any) -> Any:
    return tf.cumsum(x, int(_np(axis, "axis")), exclusive=bool(n.attrs.get("exclusive", 0)),
                     reverse=bool(n.attrs.get("reverse", 0)))


# --- reductions ---------------------------------------------------------------------------
@_op("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd")
def _reduce(m: OnnxModel, n: _Node, x: Any, axes: Any = None) -> Any:
    ax = _axes(n, axes)
    if ax == [] and n.attrs.get("noop_with_empty_axes", 0):
        return x
    fn = {"ReduceSum": tf.reduce_sum, "ReduceMean": tf.reduce_mean, "ReduceMax": tf.reduce_max,
          "ReduceMin": tf.reduce_min, "ReduceProd": tf.reduce_prod}[n.op_type]
    return fn(x, axis=ax or None, keepdims=bool(n.attrs.get("keepdims", 1)))


@_op("ArgMax", "ArgMin")
def _arg(m: OnnxModel, n: _Node, x: Any) -> Any:
    axis = n.attrs.get("axis", 0)
    fn = tf.argmax if n.op_type == "ArgMax" else tf.argmin
    y = fn(x, axis=axis, output_type="int64")
    return tf.expand_dims(y, axis) if n.attrs.get("keepdims", 1) else y


# --- linear algebra and neural-network ops ---------------------------------------------------
@_op("MatMul")
def _matmul(m: OnnxModel, n: _Node, a: Any, b: Any) -> Any:
    if len(a.shape) >= 2 and len(b.shape) == 2 and len(a.shape) > 2:
        lead = _shape(a)[:-1]
        y = tf.matmul(tf.reshape(a, (-1, _shape(a)[-1])), b)
        return tf.reshape(y, lead + (_shape(b)[-1],))
    return tf.matmul(a, b)


@_op("Gemm")
def _gemm(m: OnnxModel, n: _Node, a: Any, b: Any, c: Any = None) -> Any:
    at = n.attrs
    y = tf.matmul(a, b, transpose_a=bool(at.get("transA", 0)),
                  transpose_b=bool(at.get("transB", 0)))
    if at.get("alpha", 1.0) != 1.0:
        y = tf.multiply(y, at["alpha"])
    if c is not None:
        y = tf.add(y, c if at.get("beta", 1.0) == 1.0 else tf.multiply(c, at["beta"]))
    return y


@_op("Einsum")
def _einsum(m: OnnxModel, n: _Node, *xs: Any) -> Any:
    return tf.einsum(n.attrs["equation"].replace(" ", ""), *xs)


def _spatial_attrs(n: _Node, nd: int) -> tuple:
    strides = list(n.attrs.get("strides", [1] * nd))
    dil = list(n.attrs.get("dilations", [1] * nd))
    pads = list(n.attrs.get("pads", [0] * (2 * nd)))
    if n.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise InvalidArgumentError(f"auto_pad={n.attrs['auto_pad']!r} is not supported; "
                                   "export with explicit pads")
    return strides, dil, pads


def _data_format(nd: int) -> str:
    return {1: "NCW", 2: "NCHW", 3: "NCDHW"}[nd]


@_op("Conv")
def _conv(m: OnnxModel, n: _Node, x: Any, w: Any, b: Any = None) -> Any:
    nd = len(x.shape) - 2
    strides, dil, pads = _spatial_attrs(n, nd)
    kernel = tf.transpose(w, list(range(2, nd + 2)) + [1, 0])  # (O, I, k...) -> (k..., I, O)
    padding = [[0, 0], [0, 0]] + [[pads[i], pads[i + nd]] for i in range(nd)]
    y = tf.nn.conv(x, kernel, strides, padding, data_format=_data_format(nd), dilations=dil,
                   groups=n.attrs.get("group", 1))
    if b is not None:
        y = tf.add(y, tf.reshape(b, (1, -1) + (1,) * nd))
    return y


@_op("ConvTranspose")
def _conv_transpose(m: OnnxModel, n: _Node, x: Any, w: Any, b: Any = None) -> Any:
    nd = len(x.shape) - 2
    if n.attrs.get("group", 1) != 1 or "output_shape" in n.attrs:
        raise InvalidArgumentError("ConvTranspose with group > 1 or output_shape is not "
                                   "supported")
    strides, dil, pads = _spatial_attrs(n, nd)
    out_pad = list(n.attrs.get("output_padding", [0] * nd))
    ks = _shape(w)[2:]
    full = [strides[i] * (_shape(x)[2 + i] - 1) + (ks[i] - 1) * dil[i] + 1 for i in range(nd)]
    kernel = tf.transpose(w, list(range(2, nd + 2)) + [1, 0])  # (I, O, k...) -> (k..., O, I)
    out_shape = [_shape(x)[0], _shape(w)[1]] + full
    y = tf.nn.conv_transpose(x, kernel, out_shape, strides, "VALID",
                             data_format=_data_format(nd), dilations=dil)
    if any(out_pad):
        y = tf.pad(y, [[0, 0], [0, 0]] + [[0, p] for p in out_pad])
    key = (slice(None), slice(None)) + tuple(
        slice(pads[i], full[i] + out_pad[i] - pads[i + nd]) for i in range(nd))
    y = y[key]
    if b is not None:
        y = tf.add(y, tf.reshape(b, (1, -1) + (1,) * nd))
    return y


@_op("MaxPool", "AveragePool")
def _pool(m: OnnxModel, n: _Node, x: Any) -> Any:
    nd = len(x.shape) - 2
    if n.attrs.get("ceil_mode", 0):
        raise InvalidArgumentError("ceil_mode=1 is not supported")
    ks = list(n.attrs["kernel_shape"])
    strides, dil, pads = _spatial_attrs(n, nd)
    if any(d != 1 for d in dil):
        raise InvalidArgumentError("pooling with dilations is not supported")
    padding = [[0, 0], [0, 0]] + [[pads[i], pads[i + nd]] for i in range(nd)]
    fmt = _data_format(nd)
    if n.op_type == "MaxPool":
        if len(n.outputs) > 1 and n.outputs[1]:
            raise InvalidArgumentError("MaxPool's Indices output is not supported")
        return tf.nn.max_pool(x, ks, strides, padding if any(pads) else "VALID", fmt)
    if any(pads) and n.attrs.get("count_include_pad", 0):
        x = tf.pad(x, padding)
        padding = "VALID"
    return tf.nn.avg_pool(x, ks, strides, padding if any(pads) else "VALID", fmt)


@_op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(m: OnnxModel, n: _Node, x: Any) -> Any:
    axes = list(range(2, len(x.shape)))
    fn = tf.reduce_mean if n.op_type == "GlobalAveragePool" else tf.reduce_max
    return fn(x, axis=axes, keepdims=True)


@_op("BatchNormalization")
def _batch_norm(m: OnnxModel, n: _Node, x: Any, scale: Any, bias: Any, mean: Any,
                var: Any) -> Any:
    if n.attrs.get("training_mode", 0):
        raise InvalidArgumentError("BatchNormalization in training mode is not supported")
    nd = len(x.shape) - 2
    shape = (1, -1) + (1,) * nd
    inv = tf.multiply(tf.math.rsqrt(tf.add(var, n.attrs.get("epsilon", 1e-5))), scale)
    shift = tf.subtract(bias, tf.multiply(mean, inv))
    return tf.add(tf.multiply(x, tf.reshape(inv, shape)), tf.reshape(shift, shape))


@_op("LayerNormalization")
def _layer_norm(m: OnnxModel, n: _Node, x: Any, scale: Any, bias: Any = None) -> Any:
    rank = len(x.shape)
    axes = list(range(n.attrs.get("axis", -1) % rank, rank))
    mean = tf.reduce_mean(x, axis=axes, keepdims=True)
    d = tf.subtract(x, mean)
    var = tf.reduce_mean(tf.multiply(d, d), axis=axes, keepdims=True)
    y = tf.multiply(tf.divide(d, tf.sqrt(tf.add(var, n.attrs.get("epsilon", 1e-5)))), scale)
    return y if bias is None else tf.add(y, bias)


# --- indexing by index tensors, sorting, bitwise ---------------------------------------------
@_op("GatherND")
def _gather_nd(m: OnnxModel, n: _Node, x: Any, idx: Any) -> Any:
    if n.attrs.get("batch_dims", 0):
        raise InvalidArgumentError("GatherND with batch_dims > 0 is not supported")
    return tf.gather_nd(x, idx)


@_op("GatherElements")
def _gather_elements(m: OnnxModel, n: _Node, x: Any, idx: Any) -> Any:
    axis = n.attrs.get("axis", 0) % len(x.shape)
    idx = tf.where(tf.less(idx, 0), tf.add(idx, tf.cast(_shape(x)[axis], idx.dtype)), idx) \
        if not isinstance(idx, np.ndarray) else np.where(idx < 0, idx + _shape(x)[axis], idx)
    return _take_along(x, idx, axis)


def _take_along(x: Any, idx: Any, axis: int) -> Any:
    from ndflow.ops.array import take_along_axis

    return take_along_axis(x, idx, axis)


@_op("ScatterND")
def _scatter_nd(m: OnnxModel, n: _Node, data: Any, idx: Any, updates: Any) -> Any:
    reduction = n.attrs.get("reduction", "none")
    if reduction not in ("none", "add"):
        raise InvalidArgumentError(f"ScatterND reduction={reduction!r} is not supported")
    if reduction == "none":
        return tf.tensor_scatter_nd_update(data, idx, updates)
    return tf.tensor_scatter_nd_add(data, idx, updates)


@_op("TopK")
def _top_k(m: OnnxModel, n: _Node, x: Any, k: Any) -> Any:
    axis = n.attrs.get("axis", -1) % len(x.shape)
    k = int(_np(k, "k").reshape(-1)[0])
    largest = bool(n.attrs.get("largest", 1))
    idx = tf.argsort(x, axis=axis, direction="DESCENDING" if largest else "ASCENDING")
    key = tuple(slice(None) if a != axis else slice(0, k) for a in range(len(x.shape)))
    idx = idx[key]
    return _take_along(x, idx, axis), tf.cast(idx, "int64")


def _bitwise(name: str) -> Callable:
    return lambda m, n, *xs: getattr(tf.keras.ops, name)(*xs)


for _name, _fn in [("BitwiseAnd", "bitwise_and"), ("BitwiseOr", "bitwise_or"),
                   ("BitwiseXor", "bitwise_xor"), ("BitwiseNot", "bitwise_invert")]:
    _IMPL[_name] = _bitwise(_fn)

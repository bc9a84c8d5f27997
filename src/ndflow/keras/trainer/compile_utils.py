"""What `Model.compile` builds: the loss over (possibly several) outputs and the metrics.

`CompileLoss` matches losses to outputs (one loss, a list, or a dict by output name), applies
`loss_weights` and tracks each output's loss when there are several. `CompileMetrics` resolves
metric names (``"accuracy"`` becomes binary / categorical / sparse categorical accuracy from
the loss and the shapes, as in Keras) and names them ``<output>_<metric>`` for several outputs.

>>> import numpy as np
>>> tracker = MeanTracker("loss")
>>> tracker.update_state(2.0, sample_weight=1); tracker.update_state(4.0, sample_weight=3)
>>> float(tracker.result())
3.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.graph.trace import host_callable
from ndflow.util import nest


def _to_float(v: Any) -> float:
    if isinstance(v, Tensor):
        return float(v._value) if not v._symbolic else float("nan")
    return float(v)


class MeanTracker:
    """A weighted running mean kept in Python floats (the ``loss`` entry of the logs).

    It has the `Metric` interface: `update_state`, `result`, `reset_state`, `name`.
    """

    def __init__(self, name: str = "mean") -> None:
        self.name = name
        self.total = 0.0
        self.count = 0.0

    @host_callable(retains_args=False)  # inside ndflow.function: runs on every call
    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        if isinstance(values, Tensor) and values._value.ndim:
            arr = np.asarray(values._value, dtype=np.float64)
            w = 1.0 if sample_weight is None else float(np.asarray(sample_weight).mean())
            self.total += float(arr.sum()) * w
            self.count += arr.size * w
            return
        w = 1.0 if sample_weight is None else float(sample_weight)
        self.total += _to_float(values) * w
        self.count += w

    @host_callable(returns=True)
    def result(self) -> Tensor:
        return Tensor(np.asarray(self.total / self.count if self.count else 0.0, np.float32))

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    reset_states = reset_state

    @property
    def variables(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"<MeanTracker name={self.name}>"


# --- structure matching -------------------------------------------------------------------------
def _name_of(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def match_outputs(what: str, value: Any, y_pred: Any, output_names: list) -> list:
    """Flatten ``value`` (y_true, losses, weights ...) to one entry per model output."""
    n = len(nest.flatten(y_pred))
    if isinstance(y_pred, dict):
        keys = sorted(y_pred)
    else:
        keys = list(output_names) if len(output_names) == n else [f"output_{i}"
                                                                   for i in range(n)]
    if isinstance(value, dict):
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise ValueError(f"{what}: keys {unknown} do not match any model output; the outputs "
                             f"are {keys}")
        return [value.get(k) for k in keys]
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(f"{what}: expected {n} entries (one per model output {keys}), got "
                             f"{len(value)}")
        return list(value)
    if isinstance(value, (list, tuple)) and n == 1 and len(value) == 1:
        return [value[0]]
    return [value] * n if n > 1 else [value]


def output_keys(y_pred: Any, output_names: list) -> list:
    n = len(nest.flatten(y_pred))
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    return list(output_names) if len(output_names) == n else [f"output_{i}" for i in range(n)]


# --- losses -------------------------------------------------------------------------------------
class _FunctionLoss:
    """A plain ``fn(y_true, y_pred) -> per-sample losses`` made into a mean (with weights)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", "loss")

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        from ndflow.ops import math as m
        from ndflow.ops.reduce import reduce_mean, reduce_sum

        values = self.fn(y_true, y_pred)
        values = convert_to_tensor(values) if not isinstance(values, Tensor) else values
        if sample_weight is None:
            return reduce_mean(values)
        sw = convert_to_tensor(sample_weight)
        if sw.dtype != values.dtype:
            sw = m.cast(sw, values.dtype)
        while len(sw.shape) > len(values.shape) and sw.shape[-1] == 1:
            from ndflow.ops.array import squeeze

            sw = squeeze(sw, -1)
        while len(sw.shape) < len(values.shape):
            from ndflow.ops.array import expand_dims

            sw = expand_dims(sw, -1)
        n = 1
        for d in values.shape:
            n *= d
        return m.divide(reduce_sum(m.multiply(values, sw)), float(max(n, 1)))


def get_loss(identifier: Any) -> Any:
    """A callable ``(y_true, y_pred, sample_weight) -> scalar`` for a loss identifier."""
    if identifier is None:
        return None
    from ndflow.keras import losses as losses_module

    obj = losses_module.get(identifier)
    if obj is None:
        raise ValueError(f"compile: could not interpret loss {identifier!r}")
    if isinstance(obj, type):
        obj = obj()
    if hasattr(obj, "reduction") or hasattr(obj, "get_config") and hasattr(obj, "call"):
        return obj
    wrapper = getattr(losses_module, "LossFunctionWrapper", None)
    if wrapper is not None and not isinstance(identifier, str) and callable(obj):
        try:
            return wrapper(obj, name=getattr(obj, "__name__", None))
        except TypeError:
            pass
    if wrapper is not None and isinstance(identifier, str):
        try:
            return wrapper(obj, name=identifier)
        except TypeError:
            pass
    return _FunctionLoss(obj)


class CompileLoss:
    """The total loss of a compiled model: per-output losses times `loss_weights`, summed."""

    def __init__(self, loss: Any, loss_weights: Any = None, output_names: list | None = None
                 ) -> None:
        self._loss = loss
        self._loss_weights = loss_weights
        self._output_names = list(output_names or [])
        self.built = False
        self.metrics: list = []
        self._fns: list = []
        self._weights: list = []
        self._keys: list = []
        self._single = True
        # validate names early: unknown strings fail at compile time
        for item in nest.flatten(loss) if not isinstance(loss, dict) else loss.values():
            if item is not None and not isinstance(item, (list, tuple)):
                get_loss(item)

    def build(self, y_true: Any, y_pred: Any) -> None:
        keys = output_keys(y_pred, self._output_names)
        losses = match_outputs("compile(loss=...)", self._loss, y_pred, keys)
        if self._loss_weights is None:
            weights = [1.0] * len(keys)
        elif isinstance(self._loss_weights, (int, float)):
            weights = [float(self._loss_weights)] * len(keys)
        else:
            weights = match_outputs("compile(loss_weights=...)", self._loss_weights, y_pred, keys)
            weights = [1.0 if w is None else float(w) for w in weights]
        self._fns = [get_loss(x) if x is not None else None for x in losses]
        if all(f is None for f in self._fns):
            raise ValueError("compile: no loss is configured for any output")
        self._weights = weights
        self._keys = keys
        self._single = len(keys) == 1
        self.metrics = [] if self._single else [MeanTracker(f"{k}_loss") for k, f in
                                                  zip(keys, self._fns) if f is not None]
        self.built = True

    def loss_names(self) -> list:
        return [_name_of(x) for x in nest.flatten(self._loss)]

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if not self.built:
            self.build(y_true, y_pred)
        if self._single:
            yp = y_pred if isinstance(y_pred, Tensor) else nest.flatten(y_pred)[0]
            yt = y_true
            if isinstance(yt, (list, tuple)) and len(yt) == 1:
                yt = yt[0]
            elif isinstance(yt, dict) and len(yt) == 1:
                yt = next(iter(yt.values()))
            if isinstance(sample_weight, (list, tuple)) and len(sample_weight) == 1:
                sample_weight = sample_weight[0]
            elif isinstance(sample_weight, dict) and len(sample_weight) == 1:
                sample_weight = next(iter(sample_weight.values()))
            value = self._fns[0](yt, yp, sample_weight=sample_weight)
            w = self._weights[0]
            return value if w == 1.0 else value * w
        flat_pred = nest.flatten(y_pred)
        if y_true is None:
            raise ValueError("The model has several outputs but no targets (y) were given")
        trues = match_outputs("y", y_true, y_pred, self._keys)
        sws = (match_outputs("sample_weight", sample_weight, y_pred, self._keys)
               if sample_weight is not None else [None] * len(flat_pred))
        total = None
        ti = 0
        for fn, w, yt, yp, sw in zip(self._fns, self._weights, trues, flat_pred, sws):
            if fn is None:
                continue
            if yt is None:
                raise ValueError(f"No target (y) was given for output "
                                 f"'{self._keys[flat_pred.index(yp)]}' which has a loss")
            value = fn(yt, yp, sample_weight=sw)
            self.metrics[ti].update_state(value, sample_weight=_batch_size(yp))
            ti += 1
            value = value if w == 1.0 else value * w
            total = value if total is None else total + value
        return total

    def reset_state(self) -> None:
        for mt in self.metrics:
            mt.reset_state()


def _batch_size(t: Any) -> int:
    shape = getattr(t, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) and shape[0] is not None else 1


# --- metrics ------------------------------------------------------------------------------------
_ACC = ("accuracy", "acc")
_CE = ("crossentropy", "ce")


def _kind_from_loss(loss: Any) -> str | None:
    name = _name_of(loss).lower() if loss is not None else ""
    if "sparse" in name and "categorical" in name:
        return "sparse"
    if "binary" in name or "hinge" in name and "categorical" not in name:
        return "binary" if "binary" in name else None
    if "categorical" in name:
        return "categorical"
    return None


def _kind_from_shapes(y_true: Any, y_pred: Any) -> str:
    yp = tuple(getattr(y_pred, "shape", ()))
    yt = tuple(getattr(y_true, "shape", np.shape(y_true)))
    if not yp or yp[-1] == 1:
        return "binary"
    if len(yt) < len(yp) or (len(yt) == len(yp) and yt[-1] == 1):
        return "sparse"
    return "categorical"


def resolve_metric(identifier: Any, y_true: Any, y_pred: Any, loss: Any) -> Any:
    """A metric object for ``identifier``, with Keras's meaning of "accuracy" and friends."""
    from ndflow.keras import metrics as metrics_module

    if isinstance(identifier, str) and identifier.lower() in _ACC + _CE:
        ident = identifier.lower()
        kind = _kind_from_loss(loss) or _kind_from_shapes(y_true, y_pred)
        if ident in _ACC:
            cls = {"binary": "BinaryAccuracy", "sparse": "SparseCategoricalAccuracy",
                   "categorical": "CategoricalAccuracy"}[kind]
        else:
            cls = {"binary": "BinaryCrossentropy", "sparse": "SparseCategoricalCrossentropy",
                   "categorical": "CategoricalCrossentropy"}[kind]
        return getattr(metrics_module, cls)(name=identifier)
    obj = metrics_module.get(identifier)
    if isinstance(obj, type):
        obj = obj()
    if hasattr(obj, "update_state") and hasattr(obj, "result"):
        if isinstance(identifier, str):  # Keras names a metric by the string given
            _rename(obj, identifier)
        return obj
    if callable(obj):
        wrapper = getattr(metrics_module, "MeanMetricWrapper", None)
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "metric")
        if wrapper is not None:
            return wrapper(obj, name=name)
        return _FunctionMetric(obj, name)
    raise ValueError(f"compile: could not interpret metric {identifier!r}")


def _rename(metric: Any, name: str) -> None:
    try:
        metric.name = name
    except AttributeError:
        metric._name = name


class _FunctionMetric:
    """Running mean of ``fn(y_true, y_pred)``: a plain function used as a metric."""

    def __init__(self, fn: Any, name: str) -> None:
        self.fn = fn
        self.name = name
        self._mean = MeanTracker(name)

    @host_callable(retains_args=False)
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self.fn(y_true, y_pred)
        arr = np.asarray(values, dtype=np.float64)
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64).reshape(arr.shape[:1] + (1,) * (
                arr.ndim - 1)) if arr.ndim else np.asarray(sample_weight, np.float64)
            self._mean.total += float((arr * sw).sum())
            self._mean.count += float(np.broadcast_to(sw, arr.shape).sum())
        else:
            self._mean.total += float(arr.sum())
            self._mean.count += arr.size

    def result(self) -> Tensor:
        return self._mean.result()

    def reset_state(self) -> None:
        self._mean.reset_state()


def _validate_metric_identifier(identifier: Any) -> None:
    if identifier is None:
        return
    if isinstance(identifier, str):
        if identifier.lower() in _ACC + _CE:
            return
        from ndflow.keras import metrics as metrics_module

        metrics_module.get(identifier)  # raises a clear error for unknown names


class CompileMetrics:
    """The metrics given to `compile`, as one container metric named ``compile_metrics``.

    `result()` is a dict ``{metric_name: value}``; `update_state(y_true, y_pred,
    sample_weight)` updates every metric (``weighted_metrics`` receive the sample weights).
    """

    def __init__(self, metrics: Any, weighted_metrics: Any = None,
                 output_names: list | None = None, loss: Any = None) -> None:
        self.name = "compile_metrics"
        self._spec = metrics
        self._wspec = weighted_metrics
        self._output_names = list(output_names or [])
        self._loss = loss
        self.built = False
        self._per_output: list = []  # [(output index, metric, weighted)]
        for spec in (metrics, weighted_metrics):
            if spec is None:
                continue
            items = spec.values() if isinstance(spec, dict) else (
                spec if isinstance(spec, (list, tuple)) else [spec])
            for item in items:
                for ident in (item if isinstance(item, (list, tuple)) else [item]):
                    _validate_metric_identifier(ident)

    def _expand(self, spec: Any, y_pred: Any, keys: list) -> list:
        n = len(keys)
        if spec is None:
            return [[] for _ in range(n)]
        if isinstance(spec, dict):
            unknown = [k for k in spec if k not in keys]
            if unknown:
                raise ValueError(f"compile(metrics=...): keys {unknown} do not match any model "
                                 f"output; the outputs are {keys}")
            return [_as_list(spec.get(k)) for k in keys]
        if not isinstance(spec, (list, tuple)):
            return [[spec] for _ in range(n)]
        if n > 1 and len(spec) == n and all(isinstance(s, (list, tuple)) or s is None
                                            for s in spec):
            return [_as_list(s) for s in spec]
        return [list(spec) for _ in range(n)]

    def build(self, y_true: Any, y_pred: Any) -> None:
        keys = output_keys(y_pred, self._output_names)
        flat_pred = nest.flatten(y_pred)
        n = len(keys)
        trues = (match_outputs("y", y_true, y_pred, keys) if n > 1 else
                 [y_true[0] if isinstance(y_true, (list, tuple)) and len(y_true) == 1 else
                  y_true])
        losses = (match_outputs("loss", self._loss, y_pred, keys) if n > 1
                  else [self._loss if not isinstance(self._loss, (list, tuple, dict))
                        else nest.flatten(self._loss)[0]])
        self._per_output = []
        for weighted, spec in ((False, self._spec), (True, self._wspec)):
            for i, idents in enumerate(self._expand(spec, y_pred, keys)):
                for ident in idents:
                    if ident is None:
                        continue
                    metric = resolve_metric(ident, trues[i], flat_pred[i], losses[i])
                    if n > 1:
                        _rename(metric, f"{keys[i]}_{metric.name}")
                    self._per_output.append((i, metric, weighted))
        self._keys = keys
        self.built = True

    @property
    def metrics(self) -> list:
        return [m for _, m, _ in self._per_output]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.built:
            self.build(y_true, y_pred)
        if not self._per_output:
            return
        flat_pred = nest.flatten(y_pred)
        if len(flat_pred) == 1:
            trues = [y_true[0] if isinstance(y_true, (list, tuple)) and len(y_true) == 1
                     else (next(iter(y_true.values())) if isinstance(y_true, dict)
                           and len(y_true) == 1 else y_true)]
            sws = [sample_weight[0] if isinstance(sample_weight, (list, tuple)) else
                   sample_weight]
        else:
            trues = match_outputs("y", y_true, y_pred, self._keys)
            sws = (match_outputs("sample_weight", sample_weight, y_pred, self._keys)
                   if sample_weight is not None else [None] * len(flat_pred))
        for i, metric, weighted in self._per_output:
            if weighted and sws[i] is not None:
                metric.update_state(trues[i], flat_pred[i], sample_weight=sws[i])
            else:
                metric.update_state(trues[i], flat_pred[i])

    def result(self) -> dict:
        return {m.name: m.result() for _, m, _ in self._per_output}

    def reset_state(self) -> None:
        for _, m, _ in self._per_output:
            m.reset_state()

    reset_states = reset_state

    @property
    def variables(self) -> list:
        out: list = []
        for _, m, _ in self._per_output:
            out.extend(getattr(m, "variables", []))
        return out


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]

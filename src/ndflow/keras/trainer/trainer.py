"""`Trainer`: `compile`, `fit`, `evaluate`, `predict` and the one-batch variants of `Model`.

The per-step path is kept short: batches are slices of the input arrays wrapped as tensors,
`train_step` runs forward + loss under a `GradientTape`, the optimizer updates the weights in
place, and metrics accumulate; logs become Python floats only when a callback reads them (the
progress bar redraws at most every 0.05 s).

>>> import numpy as np
>>> from ndflow import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=0)
>>> sorted(history.history)
['loss']
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ndflow.core.tape import GradientTape
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.distribute import _context as _distribute_context
from ndflow.keras.trainer import data_adapter as _da
from ndflow.keras.trainer import distributed as _distributed
from ndflow.keras.trainer.compile_utils import CompileLoss, CompileMetrics, MeanTracker
from ndflow.util import nest


def _add(a: Any, b: Any) -> Any:
    return b if a is None else a + b


def _batch_size_of(x: Any) -> int:
    if isinstance(x, Tensor):
        s = x.shape
        return int(s[0]) if len(s) and s[0] is not None else 1
    for t in nest.flatten(x):
        if hasattr(t, "shape") and len(t.shape) and t.shape[0] is not None:
            return int(t.shape[0])
    return 1


def _pythonify(logs: Any) -> dict:
    from ndflow.keras.callbacks.callback_list import pythonify_logs

    return pythonify_logs(logs)


class _Keras2CompiledLoss:
    """``model.compiled_loss(y, y_pred, sample_weight, regularization_losses)`` (Keras 2)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 regularization_losses: Any = None) -> Tensor:
        model = self._model
        total = None
        if model._compile_loss is not None:
            total = model._compile_loss(y_true, y_pred, sample_weight)
        for extra in regularization_losses or []:
            total = _add(total, extra)
        if total is None:
            raise ValueError("compiled_loss: the model was compiled without a loss")
        model._loss_tracker.update_state(total, sample_weight=_batch_size_of(y_pred))
        return total

    @property
    def metrics(self) -> list:
        m = self._model
        return [m._loss_tracker] + (m._compile_loss.metrics if m._compile_loss else [])


class _Keras2CompiledMetrics:
    """``model.compiled_metrics.update_state(y, y_pred, sample_weight)`` (Keras 2)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        cm = self._model._compile_metrics
        if cm is not None:
            cm.update_state(y_true, y_pred, sample_weight)

    def reset_state(self) -> None:
        cm = self._model._compile_metrics
        if cm is not None:
            cm.reset_state()

    @property
    def metrics(self) -> list:
        cm = self._model._compile_metrics
        return cm.metrics if cm is not None else []


class Trainer:
    """Training methods of `Model` (mixed in; see `Model`)."""

    def __init__(self) -> None:
        d = self.__dict__
        d["compiled"] = False
        d["optimizer"] = None
        d["_compile_loss"] = None
        d["_compile_metrics"] = None
        d["_loss_tracker"] = None
        d["stop_training"] = False
        d["history"] = None
        d["_run_eagerly"] = False
        d["_compile_config"] = None
        d["train_function"] = None
        d["test_function"] = None
        d["predict_function"] = None
        d["_train_vars_cache"] = None
        d["_reg_cache"] = None
        d["loss"] = None

    # --- compile ------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True, **kwargs: Any) -> None:
        """Configure training: optimizer, loss(es), metrics.

        ``loss`` and ``metrics`` may be names (``"sparse_categorical_crossentropy"``,
        ``"accuracy"``), objects or functions; for several outputs, lists (by position) or
        dicts (by output name). ``loss_weights`` scales each output's loss.

        >>> from ndflow import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        """
        if kwargs:
            raise TypeError(f"compile: unrecognized arguments {sorted(kwargs)}")
        from ndflow.keras import optimizers

        if optimizer is None:
            raise ValueError("compile: an optimizer is required (e.g. optimizer='rmsprop')")
        self.optimizer = optimizers.get(optimizer)
        policy = getattr(getattr(self, "dtype_policy", None), "name", None)
        if auto_scale_loss and policy == "mixed_float16" and \
                not isinstance(self.optimizer, optimizers.LossScaleOptimizer):
            # float16 gradients underflow without loss scaling (as Keras, wrap the optimizer)
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer,
                                                           name="loss_scale_optimizer")
        names = self._output_names_for_compile()
        self._compile_loss = (CompileLoss(loss, loss_weights, names) if loss is not None
                              else None)
        self.loss = loss
        self._compile_metrics = (CompileMetrics(metrics, weighted_metrics, names, loss)
                                 if metrics or weighted_metrics else None)
        self._loss_tracker = MeanTracker("loss")
        self._run_eagerly = bool(run_eagerly)
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile
        self._compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                                "loss_weights": loss_weights,
                                "weighted_metrics": weighted_metrics}
        self.compiled = True
        self.train_function = self.test_function = self.predict_function = None

    def get_compile_config(self) -> dict:
        """The arguments `compile` was called with, serialized as Keras 3 does (optimizer,
        loss, metrics ...); ``{}`` if the model is not compiled. `.keras` files store it and
        loading calls `compile_from_config` with it.

        >>> from ndflow import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> model.get_compile_config()["loss"]
        'mse'
        """
        from ndflow.keras.saving import serialization_lib

        return serialization_lib.default_compile_config(self) or {}

    def compile_from_config(self, config: dict) -> None:
        """Compile the model from `get_compile_config`'s output (used when loading)."""
        from ndflow.keras.saving import serialization_lib

        if not isinstance(config, dict):
            raise ValueError(f"compile_from_config: expected the dict get_compile_config "
                             f"returns, got {type(config).__name__}")
        serialization_lib.default_compile_from_config(self, config, None)
        if self.optimizer is not None and getattr(self, "built", False):
            self.optimizer.build(self.trainable_variables)  # type: ignore[attr-defined]

    def _output_names_for_compile(self) -> list:
        try:
            return list(self.output_names)  # type: ignore[attr-defined]
        except (AttributeError, ValueError, TypeError):
            return []

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self._run_eagerly = bool(value)
        self.train_function = self.test_function = self.predict_function = None

    @property
    def compiled_loss(self) -> _Keras2CompiledLoss:
        return _Keras2CompiledLoss(self)

    @property
    def compiled_metrics(self) -> _Keras2CompiledMetrics:
        return _Keras2CompiledMetrics(self)

    @property
    def metrics(self) -> list:
        """Loss tracker, compiled metrics (as one container), per-output losses, then metrics
        assigned as attributes of the model."""
        out: list = []
        own = self._attribute_metrics()
        if self.compiled:
            if self._compile_loss is not None or not any(getattr(m, "name", None) == "loss"
                                                         for m in own):
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(own)
        return out

    def _attribute_metrics(self) -> list:
        cached = self.__dict__.get("_attr_metrics_cache")
        if cached is not None:
            return cached
        from ndflow.keras.layers.layer import _UNTRACKED, Layer

        out = []
        seen: set = set()
        # the model's own metric attributes, then its layers' (Keras 3 reports metrics that a
        # layer updates in `call` in the fit logs)
        for layer in [self] + [la for la in self._flatten_layers(include_self=False)
                               if not isinstance(la, type(self)) or la is not self]:
            for k, v in layer.__dict__.items():
                if k in _UNTRACKED or isinstance(v, Layer) or id(v) in seen:
                    continue
                if layer is not self and k.startswith("_"):
                    continue
                if hasattr(v, "update_state") and hasattr(v, "result") and hasattr(
                        v, "reset_state") and not isinstance(v, type):
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def metrics_names(self) -> list:
        return list(self._flatten_results(self.get_metrics_result()))

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self) -> dict:
        """Current value of every metric, as a flat dict ``{name: tensor}``."""
        out: dict = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return out

    @staticmethod
    def _flatten_results(logs: dict) -> dict:
        out: dict = {}
        for k, v in logs.items():
            if isinstance(v, dict):
                out.update(Trainer._flatten_results(v))
            else:
                out[k] = v
        return out

    def _metrics_or_logs(self, logs: Any) -> dict:
        """The metric results, or the last step's logs when a custom step returned other
        names (as Keras does)."""
        results = _pythonify(self.get_metrics_result())
        if isinstance(logs, dict):
            flat = _pythonify(logs)
            if set(flat) != set(results):
                return flat
        return results

    def _assert_compiled(self, caller: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"You must call model.compile(optimizer, loss, ...) before using "
                f"model.{caller}() on model '{self.name}'.")  # type: ignore[attr-defined]

    # --- losses & metrics in a step -----------------------------------------------------------
    def _extra_losses(self) -> list:
        cache = self._reg_cache
        if cache is None:
            return list(self.losses)  # type: ignore[attr-defined]
        from ndflow.keras.layers.layer import _STATE

        out = []
        if _STATE.loss_layers:
            for layer in _STATE.loss_layers:
                out.extend(layer._losses)
        for var, reg in cache:
            if var._auto_watch:
                out.append(reg(var))
        return out

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Tensor:
        """Total loss: the compiled loss(es) plus losses added by layers (regularizers,
        `add_loss`)."""
        total = None
        if self._compile_loss is not None:
            if y is None:
                raise ValueError(
                    f"Model '{self.name}' was compiled with a loss, but no targets (y) were "  # type: ignore[attr-defined]
                    "given; pass y to fit/evaluate or yield (x, y) batches")
            total = self._compile_loss(y, y_pred, sample_weight)
        for extra in self._extra_losses():
            if isinstance(extra, Tensor) and total is not None and extra.dtype != total.dtype:
                from ndflow.ops.math import cast

                extra = cast(extra, total.dtype)
            total = _add(total, extra)
        if total is None:
            raise ValueError(
                "No loss to compute: provide a loss argument to compile(), or add losses with "
                "self.add_loss() in a layer.")
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Update the compiled metrics and return all current metric results."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    # --- steps --------------------------------------------------------------------------------
    def train_step(self, data: Any) -> dict:
        """One optimization step on one batch; returns the metric results."""
        x, y, sample_weight = _da.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)  # type: ignore[operator]
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
            # loss scaling (loss_scale_factor, LossScaleOptimizer): apply() unscales
            scaled = self.optimizer.scale_loss(loss)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        variables = self._train_vars_cache
        if variables is None:
            variables = self.trainable_variables  # type: ignore[attr-defined]
            if not variables:
                raise ValueError(f"Model '{self.name}' has no trainable weights to train")  # type: ignore
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply(grads, variables)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict:
        """One evaluation step: forward, loss, metrics."""
        x, y, sample_weight = _da.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)  # type: ignore[operator]
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """One prediction step: the model's outputs for a batch."""
        x, _, _ = _da.unpack_x_y_sample_weight(data)
        return self(x, training=False)  # type: ignore[operator]

    def _maybe_compile(self, step: Any) -> Any:
        """The step as an `ndflow.function` (compiled graph) unless `run_eagerly`."""
        if self.run_eagerly:
            return step
        from ndflow.autograph.conversion import Entry
        from ndflow.graph.trace import Function

        # AutoGraph converts an overridden train_step (and the layers' call) as tf.keras does
        return Function(Entry(step), name=f"{getattr(self, 'name', 'model')}_{step.__name__}")

    def make_train_function(self, force: bool = False) -> Any:
        if self.train_function is None or force:
            self.train_function = self._maybe_compile(self.train_step)
        return self.train_function

    def make_test_function(self, force: bool = False) -> Any:
        if self.test_function is None or force:
            self.test_function = self._maybe_compile(self.test_step)
        return self.test_function

    def make_predict_function(self, force: bool = False) -> Any:
        if self.predict_function is None or force:
            self.predict_function = self._maybe_compile(self.predict_step)
        return self.predict_function

    def _prepare_step_caches(self, first_batch: Any) -> None:
        """Build the model on the first batch, then cache its trainable weights and
        regularizers so each step does not walk the layer tree."""
        if not getattr(self, "built", False):
            self._train_vars_cache = None
            self._reg_cache = None
            return
        self._train_vars_cache = list(self.trainable_variables)  # type: ignore[attr-defined]
        regs = []
        for layer in self._flatten_layers(include_self=True):  # type: ignore[attr-defined]
            for v in layer._direct_variables():
                reg = getattr(v, "regularizer", None)
                if reg is not None:
                    regs.append((v, reg))
        self._reg_cache = regs
        self.__dict__["_attr_metrics_cache"] = None
        self.__dict__["_attr_metrics_cache"] = self._attribute_metrics()

    def _clear_step_caches(self) -> None:
        self._train_vars_cache = None
        self._reg_cache = None
        self.__dict__["_attr_metrics_cache"] = None

    # --- fit ----------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool | str = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1,
            **kwargs: Any) -> Any:
        """Train the model for ``epochs`` epochs; returns a `History`.

        >>> import numpy as np
        >>> from ndflow import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> h = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=3, verbose=0)
        >>> len(h.history["loss"])
        3
        """
        if kwargs:
            raise TypeError(f"fit: unrecognized arguments {sorted(kwargs)}")
        self._assert_compiled("fit")
        from ndflow.keras.callbacks.callback_list import CallbackList

        verbose = _verbosity(verbose)
        _check_count("fit", "epochs", epochs, minimum=0, optional=False)
        _check_count("fit", "initial_epoch", initial_epoch, minimum=0, optional=False)
        _check_count("fit", "steps_per_epoch", steps_per_epoch)
        _check_count("fit", "validation_steps", validation_steps)
        _check_count("fit", "validation_batch_size", validation_batch_size)
        _check_count("fit", "validation_freq", validation_freq, optional=False)
        _check_shuffle(shuffle)
        if not isinstance(validation_split, (int, float, np.number)) or \
                isinstance(validation_split, bool):
            raise ValueError(f"fit: expected validation_split to be a float in [0, 1), got "
                             f"{validation_split!r}")
        sync = _distributed.WorkerSync.for_model(self)  # None unless several workers
        if sync is not None and not sync.is_chief:
            verbose = 0
        if validation_split and validation_data is None:
            if not _da.is_array_data(x):
                raise ValueError(
                    "fit: validation_split is only supported for NumPy arrays and tensors; "
                    f"x is a {type(x).__name__}. Pass validation_data instead.")
        x = _distributed.global_batches(x)  # fit splits them itself, weighting exactly
        adapter = _da.get_adapter(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                  class_weight, caller="fit")
        _check_model_inputs(self, getattr(adapter, "x", None), "fit")
        val_adapter = None
        if validation_split and validation_data is None:
            adapter, (vx, vy, vsw) = adapter.split(float(validation_split))
            val_adapter = _da.ArrayAdapter(vx, vy, vsw, validation_batch_size or
                                           adapter.batch_size, validation_steps, False)
        elif validation_data is not None:
            val_adapter = self._validation_adapter(validation_data, validation_batch_size or
                                                   batch_size, validation_steps)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=adapter.num_batches,
                           _in_fit=True)
        self.stop_training = False
        train_fn = self.make_train_function()
        self._clear_step_caches()
        self.__dict__.pop("_initial_epoch", None)
        self.__dict__.pop("_initial_step", None)
        cbs.on_train_begin()
        # a callback (BackupAndRestore) may resume from a saved epoch and step
        resumed = self.__dict__.pop("_initial_epoch", None)
        if resumed is not None:
            initial_epoch = max(int(resumed), initial_epoch)
        skip = int(self.__dict__.pop("_initial_step", 0) or 0)
        if sync is not None:
            initial_epoch, skip = sync.start(self, initial_epoch, skip)
            _distribute_context.stack.append(sync.strategy)  # the optimizer sums over workers
        epoch_logs: dict = {}
        logs: Any = {}
        prepared = False
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                if sync is not None:
                    sync.epoch_begin()
                cbs.on_epoch_begin(epoch)
                steps = 0
                batches = adapter.epoch() if sync is None else sync.batches(adapter.epoch(), x,
                                                                              train=True)
                for step, batch in enumerate(batches):
                    if skip:
                        skip -= 1
                        steps += 1
                        continue
                    cbs.on_train_batch_begin(step)
                    logs = train_fn(batch)
                    if not prepared:
                        self._prepare_step_caches(batch)
                        prepared = getattr(self, "built", False)
                    cbs.on_train_batch_end(step, logs)
                    steps += 1
                    if sync is not None:
                        self.stop_training = sync.any(self.stop_training)
                    if self.stop_training:
                        break
                if steps == 0:
                    warnings.warn(
                        "fit: your input ran out of data; interrupting training. Make sure the "
                        "data can generate at least steps_per_epoch * epochs batches (a Python "
                        "generator is consumed once).", stacklevel=2)
                    break
                if sync is not None:
                    sync.reduce_metrics(self.metrics)
                epoch_logs = self._metrics_or_logs(logs)
                if val_adapter is not None and (epoch + 1) % max(int(validation_freq), 1) == 0:
                    val_logs = self._run_evaluate(val_adapter, cbs, verbose=0, in_fit=True,
                                                  sync=sync, data=validation_data)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            if sync is not None:
                sync.end()
                _distribute_context.stack.remove(sync.strategy)
            self._clear_step_caches()
            _release_buffers(train_fn)
            if val_adapter is not None:
                _release_buffers(self.test_function)
        opt = getattr(self, "optimizer", None)
        if opt is not None and hasattr(opt, "finalize_variable_values") and epochs > 0:
            # with use_ema the weights become their moving averages, as Keras's fit ends
            opt.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(epoch_logs)
        return cbs._history

    def _validation_adapter(self, validation_data: Any, batch_size: Any, steps: Any) -> Any:
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and \
                _da.is_array_data(validation_data[0]):
            vx, vy, vsw = _da.unpack_x_y_sample_weight(tuple(validation_data))
            return _da.ArrayAdapter(vx, vy, vsw, batch_size, steps, False)
        if isinstance(validation_data, (tuple, list)) and _da.is_array_data(validation_data):
            raise ValueError("fit: validation_data must be a tuple (x_val, y_val) or "
                             "(x_val, y_val, sample_weight_val), or a dataset/generator")
        return _da.get_adapter(validation_data, None, None, None, steps, False, None,
                               caller="fit(validation_data)")

    # --- evaluate -----------------------------------------------------------------------------
    def _run_evaluate(self, adapter: Any, cbs: Any, verbose: int, in_fit: bool = False,
                      sync: Any = None, data: Any = None) -> dict:
        # Validation inside fit calls the test hooks too, as Keras's fit does through
        # evaluate (SwapEMAWeights validates with the averaged weights, TensorBoard logs it);
        # ProgbarLogger draws no separate bar then.
        test_fn = self.make_test_function()
        self.reset_metrics()
        cbs.on_test_begin()
        logs: Any = {}
        batches = adapter.epoch() if sync is None else sync.batches(adapter.epoch(), data,
                                                                      train=False)
        for step, batch in enumerate(batches):
            cbs.on_test_batch_begin(step)
            logs = test_fn(batch)
            cbs.on_test_batch_end(step, logs)
        if sync is not None:
            sync.reduce_metrics(self.metrics)
        logs = self._metrics_or_logs(logs)
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Any = None, return_dict: bool = False, **kwargs: Any) -> Any:
        """Loss and metric values on the given data: a scalar (loss only), a list in the
        order of `metrics_names`, or a dict with ``return_dict=True``."""
        if kwargs:
            raise TypeError(f"evaluate: unrecognized arguments {sorted(kwargs)}")
        self._assert_compiled("evaluate")
        from ndflow.keras.callbacks.callback_list import CallbackList

        verbose = _verbosity(verbose)
        _check_count("evaluate", "steps", steps)
        sync = _distributed.WorkerSync.for_model(self)  # None unless several workers
        if sync is not None and not sync.is_chief:
            verbose = 0
        adapter = _da.get_adapter(x, y, sample_weight, batch_size, steps, False, None,
                                  caller="evaluate")
        _check_model_inputs(self, getattr(adapter, "x", None), "evaluate")
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=adapter.num_batches)
        try:
            logs = self._run_evaluate(adapter, cbs, verbose, sync=sync, data=x)
        finally:
            _release_buffers(self.test_function)
        if return_dict:
            return logs
        return self._ordered_values(logs)

    def _ordered_values(self, logs: dict) -> Any:
        """Log values as Keras lists them: loss, each output's loss, then the metrics."""
        first = ["loss"] + ([m.name for m in self._compile_loss.metrics]
                            if self._compile_loss is not None else [])
        keys = [k for k in first if k in logs] + [k for k in logs if k not in first]
        values = [logs[k] for k in keys]
        return values[0] if len(values) == 1 else values

    # --- predict ------------------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Any = None, **kwargs: Any) -> Any:
        """The model's outputs for ``x``, batch by batch, as NumPy arrays (same structure as
        the outputs)."""
        if kwargs:
            raise TypeError(f"predict: unrecognized arguments {sorted(kwargs)}")
        from ndflow.keras.callbacks.callback_list import CallbackList

        verbose = _verbosity(verbose)
        _check_count("predict", "steps", steps)
        adapter = _da.get_adapter(x, None, None, batch_size, steps, False, None,
                                  caller="predict")
        _check_model_inputs(self, getattr(adapter, "x", None), "predict")
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=adapter.num_batches)
        predict_fn = self.make_predict_function()
        cbs.on_predict_begin()
        outputs = _BatchOutputs(getattr(adapter, "num_samples", 0))
        struct = None
        try:
            for step, batch in enumerate(adapter.epoch()):
                cbs.on_predict_batch_begin(step)
                out = predict_fn(batch)
                struct = out
                outputs.add([np.asarray(t) for t in nest.flatten(out)])
                cbs.on_predict_batch_end(step, {"outputs": out})
        finally:
            _release_buffers(predict_fn)
        cbs.on_predict_end()
        if struct is None:
            raise ValueError("predict: the data yielded no batches")
        return nest.pack_sequence_as(struct, outputs.joined())

    # --- one batch ----------------------------------------------------------------------------
    def _batch_data(self, x: Any, y: Any, sample_weight: Any, class_weight: Any = None
                    ) -> tuple:
        ad = _da.ArrayAdapter(x, y, sample_weight, batch_size=max(_n_samples(x), 1),
                              shuffle=False, class_weight=class_weight)
        return next(iter(ad.epoch()))

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:
        """One optimization step on exactly this batch; returns the metric values."""
        self._assert_compiled("train_on_batch")
        self.reset_metrics()
        logs = self._metrics_or_logs(self.make_train_function()(
            self._batch_data(x, y, sample_weight, class_weight)))
        if return_dict:
            return logs
        return self._ordered_values(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss and metrics on exactly this batch (no update)."""
        self._assert_compiled("test_on_batch")
        self.reset_metrics()
        logs = self._metrics_or_logs(self.make_test_function()(
            self._batch_data(x, y, sample_weight)))
        if return_dict:
            return logs
        return self._ordered_values(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's outputs for exactly this batch, as NumPy arrays."""
        out = self.make_predict_function()(self._batch_data(x, None, None))
        return nest.map_structure(lambda t: np.asarray(t), out)


class _BatchOutputs:
    """Predict's per-batch outputs, joined along the batch axis. When the sample count is known
    (array inputs) the batches are written into arrays allocated once, instead of a list of
    batches and then a concatenated copy (half the peak memory of the outputs)."""

    def __init__(self, total: int) -> None:
        self.total = int(total or 0)
        self.arrays: list | None = None
        self.filled = 0
        self.batches: list = []

    def _fits(self, flat: list) -> bool:
        n = flat[0].shape[0] if flat and flat[0].ndim else -1
        return n >= 0 and len(flat) == len(self.arrays) and self.filled + n <= self.total \
            and all(a.ndim and a.shape[0] == n and a.shape[1:] == r.shape[1:]
                    and a.dtype == r.dtype for a, r in zip(flat, self.arrays))

    def add(self, flat: list) -> None:
        if self.arrays is None and not self.batches and self.total and flat \
                and all(a.ndim for a in flat) and len({a.shape[0] for a in flat}) == 1:
            self.arrays = [np.empty((self.total,) + a.shape[1:], a.dtype) for a in flat]
        if self.arrays is not None:
            if self._fits(flat):
                n = flat[0].shape[0]
                for a, r in zip(flat, self.arrays):
                    r[self.filled:self.filled + n] = a
                self.filled += n
                return
            # an unexpected batch: keep what was written as one batch, then list batches
            self.batches = [[r[:self.filled].copy() for r in self.arrays]] if self.filled \
                else []
            self.arrays = None
        self.batches.append(flat)

    def joined(self) -> list:
        if self.arrays is not None:
            return [r if self.filled == self.total else r[:self.filled].copy()
                    for r in self.arrays]
        b = self.batches
        return [np.concatenate([x[i] for x in b], axis=0) if b[0][i].ndim
                else np.stack([x[i] for x in b]) for i in range(len(b[0]))]


def _release_buffers(step_fn: Any) -> None:
    """A compiled step's pooled buffers are freed when its loop ends (the next
    loop allocates them again), so a model holds no more memory after fit/evaluate/predict
    than with run_eagerly=True."""
    release = getattr(step_fn, "_release_buffers", None)
    if release is not None:
        release()


def _n_samples(x: Any) -> int:
    for a in nest.flatten(x):
        if hasattr(a, "shape") and len(a.shape):
            return int(a.shape[0])
        if isinstance(a, (list, tuple)):
            return len(a)
    if isinstance(x, (list, tuple)):
        return len(x)
    return 1


def _check_count(caller: str, name: str, value: Any, minimum: int = 1,
                 optional: bool = True) -> None:
    """``value`` must be a whole number >= ``minimum`` (or None where ``optional``)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        hint = (f" (use {name}={int(value)})" if isinstance(value, float) and
                float(value).is_integer() and value >= minimum else "")
        raise ValueError(f"{caller}: expected {name} to be {what}"
                         f"{' or None' if optional else ''}, got {value!r}{hint}")


def _check_shuffle(shuffle: Any) -> None:
    if not isinstance(shuffle, (bool, np.bool_)) and shuffle != "batch":
        raise ValueError(f"fit: expected shuffle to be True, False or 'batch', got {shuffle!r}")


def _check_model_inputs(model: Any, x: Any, caller: str) -> None:
    """Data whose kind cannot feed the model's declared inputs (text into a numeric input,
    unknown input names) fails here, naming x and the input, before any step runs."""
    try:
        inputs = list(model.inputs or []) if getattr(model, "built", False) else []
    except (AttributeError, ValueError, TypeError):  # subclassed models have no inputs
        inputs = []
    if not inputs or x is None:
        return
    if isinstance(x, dict):
        names = [getattr(t, "name", None) for t in inputs]
        unknown = sorted(k for k in x if k not in names)
        if unknown and all(isinstance(n, str) for n in names):
            raise ValueError(f"{caller}: x has keys {unknown} that match no input of model "
                             f"'{model.name}'; its inputs are named {names}. Name the dict "
                             "keys after the keras.Input names.")
        return
    leaves = nest.flatten(x)
    if len(leaves) != len(inputs):
        return
    for i, (leaf, t) in enumerate(zip(leaves, inputs)):
        kind = getattr(getattr(leaf, "dtype", None), "kind", None)
        try:
            numeric = np.dtype(t.dtype.name).kind in "biufc"
        except TypeError:  # a string or other non-NumPy input dtype
            numeric = False
        if kind in ("U", "S", "O") and numeric:
            texty = kind in "US" or (leaf.size and isinstance(leaf.flat[0], (bytes, str)))
            what = "strings" if texty else "Python objects"
            where = "x" if len(inputs) == 1 else f"x[{i}]"
            raise ValueError(
                f"{caller}: {where} holds {what} (dtype {leaf.dtype}), but input {i} of model "
                f"'{model.name}' expects numeric inputs ({t.dtype.name}), got a string "
                f"array{'' if texty else ' or objects'}. Turn text into numbers first "
                "(e.g. with keras.layers.TextVectorization), or give the model an input of "
                "dtype 'string' that such a layer reads.")


def _verbosity(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2, True, False):
        return int(verbose)
    raise ValueError(f"verbose: expected 'auto', 0, 1 or 2, got {verbose!r}")


def convert_targets(y: Any) -> Any:
    """Targets as tensors (kept for custom loops that pass NumPy arrays)."""
    return nest.map_structure(lambda v: v if isinstance(v, Tensor) else convert_to_tensor(v), y)

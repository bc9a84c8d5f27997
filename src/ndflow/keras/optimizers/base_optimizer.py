"""`Optimizer`: the base of every Keras optimizer, with in-place NumPy/CuPy updates.

Each built-in optimizer writes its update rule as `_update(var, grad, slots, lr, step)` over
raw backend arrays. The element-wise part of a rule is declared once, as assignments over the
variable, its gradient, its slots and per-step scalars (`ElementwiseUpdate`); the graph
compiler's code generator turns it into one compiled loop (``ndflow[jit]``) or an in-place ufunc
sequence writing into the variable, its slot buffers and shared scratch buffers, so a training
step allocates no new parameter-sized arrays. Both paths give bitwise equal values.

Subnormal floats: the state of a parameter whose gradient stays zero (a dead ReLU unit) decays
geometrically (``v *= rho``) and after a few hundred steps falls below float32's smallest normal
number. x86 CPUs handle subnormals in microcode, tens to hundreds of times slower (XLA and
TensorFlow avoid this by running with flush-to-zero). NumPy cannot set flush-to-zero, so every
`_flush_every` steps the decaying state buffers are scanned and entries below
``finfo.tiny / finfo.eps`` (about 1e-31 in float32: far below any value that can change a
float32 result, e.g. ``v + 1e-7``) are set to zero. The scan period is chosen from the
optimizer's fastest decay factor so that no entry above the threshold can become subnormal
before the next scan. The scan costs about three passes over the state every few hundred steps.

>>> import ndflow as tf
>>> from ndflow.keras import optimizers
>>> v = tf.Variable([1.0, 2.0])
>>> opt = optimizers.SGD(learning_rate=0.1)
>>> _ = opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
>>> v.numpy().tolist()
[0.8999999761581421, 1.899999976158142]
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from typing import Any

import numpy as np

from ndflow.graph.codegen import elementwise as _codegen
from ndflow.graph.trace import host_callable
from ndflow.backend import parallel
from ndflow.backend.devices import get_array_module
from ndflow.backend.jit import flat_operands
from ndflow.core.elementwise import parse_assignments
from ndflow.core.tensor import Tensor, to_array
from ndflow.core.variable import Variable
from ndflow.distribute import _context as _distribute
from ndflow.keras.optimizers import schedules as _schedules

_ndarray = np.ndarray


def _xp(a: Any) -> Any:
    return np if type(a) is _ndarray else get_array_module(a)


def _new_variable(value: Any, name: str, trainable: bool = False, path: str | None = None
                  ) -> Variable:
    try:
        from ndflow.keras.variables import KerasVariable
    except ImportError:  # pragma: no cover - the engine package is always present with keras
        return Variable(value, trainable=trainable, name=name)
    return KerasVariable(value, trainable=trainable, name=name, path=path or name)


def _var_label(v: Any) -> str:
    return getattr(v, "path", None) or getattr(v, "_name", None) or "variable"


class ElementwiseUpdate:
    """An optimizer's per-element update, written once as lines ``name = expression`` over
    arrays (the variable, its gradient, its slots) and per-step scalars; each line sees the
    values assigned before it, and the assigned arrays are updated in place.

    Calling it runs the code generator's kernel for the arrays' dtype: the compiled loop when
    numba is on and the arrays allow it (`ndflow.backend.jit.flat_operands`), else the in-place
    ufunc sequence of the arrays' module (NumPy, or CuPy: the group's CuPy elementwise kernel,
    `MultiKernel.cupy`, waits for a GPU to be checked on). Scalars are cast to the arrays'
    dtype first, as NumPy casts Python scalars, so the float operations are the same on every
    path.

    >>> import numpy as np
    >>> sgd = ElementwiseUpdate("var = var - g * lr", arrays=("var", "g"), scalars=("lr",))
    >>> w = np.ones(2, np.float32)
    >>> sgd([w, np.full(2, 0.5, np.float32)], (0.1,))
    >>> w.tolist()
    [0.949999988079071, 0.949999988079071]
    """

    def __init__(self, source: str, arrays: tuple[str, ...], scalars: tuple[str, ...]) -> None:
        self.source = source
        self.arrays = tuple(arrays)
        self.scalars = tuple(scalars)
        outs = parse_assignments(source, self.arrays + self.scalars)
        self.dests = tuple(i for i, _ in outs)
        self.trees = tuple(t for _, t in outs)
        self._kernels: dict = {}

    def kernel(self, dtype: Any) -> _codegen.MultiKernel:
        """The generated kernels for arrays of `dtype`."""
        dtype = np.dtype(dtype)
        k = self._kernels.get(dtype)
        if k is None:
            specs = [((1,), dtype)] * len(self.arrays) + [((), dtype)] * len(self.scalars)
            k = self._kernels[dtype] = _codegen.multi_kernel(self.trees, self.dests, specs)
        return k

    def __call__(self, arrays: list, scalars: tuple, scratch: Any = None) -> None:
        """Update `arrays` in place; `scratch(k)` gives the k-th scratch buffer shaped like
        them (fresh arrays when None)."""
        var = arrays[0]
        k = self._kernels.get(var.dtype) or self.kernel(var.dtype)
        t = var.dtype.type
        values = [t(s) for s in scalars]
        flat = flat_operands(*arrays)  # None unless compiled kernels are on and may take them
        if flat is not None:
            parallel.flat_loop(k._loop or k.loop(), flat, *values)
            return
        xp = _xp(var)
        buffers = [scratch(i) if scratch is not None else xp.empty_like(var)
                   for i in range(k.n_scratch)]
        k.numpy(xp)(*arrays, *values, *buffers)


class Optimizer:
    """Base class of Keras optimizers.

    Args:
        learning_rate: a float or a `keras.optimizers.schedules.LearningRateSchedule`.
        weight_decay: if set, every step first shrinks each variable by
            ``variable * weight_decay * learning_rate`` (decoupled weight decay).
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together so their global L2 norm is at most this.
        use_ema: keep an exponential moving average of the weights (``ema_momentum``); with
            ``ema_overwrite_frequency`` the weights are replaced by it every that many steps;
            `finalize_variable_values` copies it into the weights.
        loss_scale_factor: gradients are divided by this factor (`scale_loss` multiplies it).
        gradient_accumulation_steps: apply the mean gradient of every that many steps.
        name: the optimizer's name.

    Subclass it like Keras 3: override `build` (call ``super().build(variables)``, then create
    state with `add_variable_from_reference`) and `update_step(gradient, variable,
    learning_rate)` using `assign`/`assign_add`/`assign_sub`.
    """

    # Decay factors of the optimizer's decaying state (for the subnormal flush period).
    _decays: tuple = ()
    _FLUSH_CAP = 1000

    def __init__(self, learning_rate: Any, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        cls = type(self).__name__
        if "lr" in kwargs:
            raise ValueError(f"{cls}: the argument `lr` is not supported; use `learning_rate` "
                             f"(got lr={kwargs['lr']!r})")
        if "decay" in kwargs:
            raise ValueError(f"{cls}: the argument `decay` is not supported in Keras 3; use a "
                             "learning-rate schedule from keras.optimizers.schedules instead")
        if kwargs:
            raise ValueError(f"{cls}: argument(s) not recognized: {sorted(kwargs)}")
        set_clips = [n for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                    ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(set_clips) > 1:
            raise ValueError(f"{cls}: only one of clipnorm, clipvalue and global_clipnorm can "
                             f"be set, got {set_clips}")
        for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                     ("global_clipnorm", global_clipnorm)):
            if v is not None and not float(v) > 0:
                raise ValueError(f"{cls}: expected {n} > 0, got {v!r}")
        if gradient_accumulation_steps is not None:
            if int(gradient_accumulation_steps) < 2:
                raise ValueError(f"{cls}: expected gradient_accumulation_steps >= 2, got "
                                 f"{gradient_accumulation_steps!r}")
            gradient_accumulation_steps = int(gradient_accumulation_steps)
        if use_ema and not 0 <= float(ema_momentum) <= 1:
            raise ValueError(f"{cls}: expected ema_momentum in [0, 1], got {ema_momentum!r}")
        if ema_overwrite_frequency is not None and int(ema_overwrite_frequency) < 1:
            raise ValueError(f"{cls}: expected ema_overwrite_frequency >= 1, got "
                             f"{ema_overwrite_frequency!r}")
        self.name = name or cls.lower()
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.use_ema = bool(use_ema)
        self.ema_momentum = float(ema_momentum)
        self.ema_overwrite_frequency = (None if ema_overwrite_frequency is None
                                        else int(ema_overwrite_frequency))
        self.loss_scale_factor = None if loss_scale_factor is None else float(loss_scale_factor)
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list = []
        self._index: dict[int, int] = {}
        self._slots: list[list[Variable]] = []
        self._ema: list[Variable] = []
        self._accum: list[Variable] = []
        self._exclude_ids: set[int] = set()
        self._exclude_names: list[str] = []
        self._scratch: dict[Any, Any] = {}
        self._iterations = _new_variable(np.zeros((), np.int64), "iteration")
        self._variables.append(self._iterations)
        self._learning_rate: Any = None
        self._lr_var: Variable | None = None
        self._set_learning_rate(learning_rate)
        self._flush_every = self._flush_period()
        # made under strategy.scope(): its gradients are summed over the replicas (tf.distribute)
        self._distribution_strategy = _distribute.current()

    # --- learning rate and iterations ---------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """The number of update steps applied so far (an int64 variable)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self._iterations.assign(int(value))

    @property
    def learning_rate(self) -> Any:
        """The learning-rate variable, or the schedule's value at the current step."""
        if self._lr_var is not None:
            return self._lr_var
        return self._learning_rate(self._iterations)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._set_learning_rate(value)

    def _set_learning_rate(self, value: Any) -> None:
        cls = type(self).__name__
        if isinstance(value, _schedules.LearningRateSchedule):
            self._learning_rate = value
            self._lr_var = None
            return
        if callable(value) and not isinstance(value, Tensor):
            self._learning_rate = value
            self._lr_var = None
            return
        try:
            lr = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{cls}: expected learning_rate to be a float or a "
                             f"LearningRateSchedule, got {value!r}") from None
        if self._lr_var is None:
            if self._learning_rate is not None:
                raise TypeError(
                    f"{cls}: this optimizer was created with a learning-rate schedule, so its "
                    "learning rate cannot be set to a float; set a new schedule instead")
            self._lr_var = _new_variable(np.asarray(lr, np.float32), "learning_rate")
            self._learning_rate = self._lr_var
            self._variables.append(self._lr_var)
        else:
            self._lr_var._value[...] = lr

    def _current_lr(self) -> float:
        if self._lr_var is not None:
            return float(self._lr_var._value)
        return float(self._learning_rate(self._iterations))

    # --- state ------------------------------------------------------------------------------
    @property
    def variables(self) -> list[Variable]:
        """All optimizer state: iterations, learning rate, then the per-variable slots."""
        return list(self._variables)

    def add_variable(self, shape: Any, initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "none", name: str | None = None) -> Variable:
        """Create an optimizer state variable of `shape` (zeros or ones or a constant)."""
        from ndflow.keras import config

        dt = np.dtype(dtype or config.floatx())
        shape = tuple(int(d) for d in shape)
        if isinstance(initializer, str):
            if initializer not in ("zeros", "ones"):
                raise ValueError(f"{type(self).__name__}.add_variable: expected initializer "
                                 f"'zeros', 'ones' or a number, got {initializer!r}")
            val = np.zeros(shape, dt) if initializer == "zeros" else np.ones(shape, dt)
        elif callable(initializer):
            val = np.asarray(initializer(shape, dt), dt)
        else:
            val = np.full(shape, initializer, dt)
        v = _new_variable(val, name or "variable")
        self._variables.append(v)
        return v

    def add_variable_from_reference(self, reference_variable: Any, name: str | None = None,
                                    initializer: Any = "zeros") -> Variable:
        """A state variable shaped like `reference_variable`, e.g. a momentum slot."""
        ref = reference_variable._value
        label = _var_label(reference_variable).replace("/", "_")
        xp = _xp(ref)
        if isinstance(initializer, str) and initializer in ("zeros", "ones"):
            val = xp.zeros(ref.shape, ref.dtype) if initializer == "zeros" else xp.ones(
                ref.shape, ref.dtype)
        else:
            val = xp.full(ref.shape, float(initializer), ref.dtype)
        v = _new_variable(val, f"{label}_{name}" if name else label)
        self._variables.append(v)
        return v

    def build(self, variables: list) -> None:
        """Create the optimizer state for `variables` (called on the first update)."""
        self._register(list(variables))
        self.built = True

    def _register(self, variables: list) -> None:
        new = []
        for v in variables:
            if not hasattr(v, "_value"):
                raise TypeError(f"{type(self).__name__}: expected variables (tf.Variable or "
                                f"Keras weights), got {type(v).__name__}")
            if id(v) in self._index or any(v is w for w in new):
                continue
            new.append(v)
        if not new:
            return
        first = len(self._trainable_variables)
        for v in new:
            self._index[id(v)] = len(self._trainable_variables)
            self._trainable_variables.append(v)
            self._slots.append([])
        # Creation order follows Keras 3 (EMA and accumulators first, then each slot group,
        # names within a group interleaved per variable), so `variables` lines up with it.
        if self.use_ema:
            self._ema.extend(self.add_variable_from_reference(v, "average") for v in new)
        if self.gradient_accumulation_steps:
            self._accum.extend(self.add_variable_from_reference(v, "gradient_accumulator")
                               for v in new)
        for group in self._slot_groups():
            for i, v in enumerate(new):
                for name in group:
                    slot = self._slot_variable(v, name)
                    if slot is not None:
                        self._slots[first + i].append(slot)

    def _slot_groups(self) -> list[tuple]:
        """Names of the per-variable state of a built-in optimizer (overridden)."""
        return []

    def _slot_initial_value(self, name: str) -> Any:
        return "zeros"

    def _slot_variable(self, variable: Any, name: str) -> Variable | None:
        """The state `name` of `variable` (overridden where a slot's shape differs from the
        variable's or a slot exists only for some variables: then None)."""
        return self.add_variable_from_reference(variable, name,
                                                initializer=self._slot_initial_value(name))

    def _scratch_for(self, arr: Any, k: int = 0) -> Any:
        """A reusable buffer shaped like `arr` (shared by all variables of that shape)."""
        key = (arr.shape, arr.dtype, k, type(arr))
        buf = self._scratch.get(key)
        if buf is None:
            buf = _xp(arr).empty(arr.shape, arr.dtype)
            self._scratch[key] = buf
        return buf

    def _scratch_fn(self, arr: Any) -> Any:
        """`_scratch_for` bound to `arr`: the scratch buffers of an `ElementwiseUpdate`."""
        return functools.partial(self._scratch_for, arr)

    # --- the update -------------------------------------------------------------------------
    # Inside ndflow.function the update runs as a host call on every step (in place, on the
    # step's gradient arrays, which it does not keep: the executor may reuse their buffers).
    @host_callable(retains_args=False)
    def apply_gradients(self, grads_and_vars: Any) -> Variable:
        """Apply ``[(gradient, variable), ...]``; returns `iterations`."""
        pairs = list(grads_and_vars)
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        self.apply(grads, variables)
        return self._iterations

    @host_callable(retains_args=False)
    def apply(self, grads: list, trainable_variables: list | None = None) -> Variable:
        """Update `trainable_variables` in place with `grads` (same order)."""
        cls = type(self).__name__
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{cls}.apply: the optimizer is not built; pass "
                                 "trainable_variables or call build(variables) first")
            trainable_variables = self._trainable_variables
        grads = list(grads)
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{cls}.apply: expected one gradient per variable, got "
                             f"{len(grads)} gradients for {len(trainable_variables)} variables")
        pairs = []
        skipped = []
        for g, v in zip(grads, trainable_variables):
            if g is None:
                skipped.append(_var_label(v))
                continue
            pairs.append((self._grad_array(g, v), v))
        if skipped:
            warnings.warn(f"{cls}: gradients do not exist for variables {skipped} when "
                          "minimizing the loss; they are not updated. If using "
                          "`model.compile()`, did you forget to provide a `loss` argument?",
                          stacklevel=2)
        if not pairs:
            return self._iterations
        if not self.built:
            self.build([v for _, v in pairs])
        else:
            new = [v for _, v in pairs if id(v) not in self._index]
            if new:
                self._register(new)
        garrs = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        strategy = self._distribution_strategy or _distribute.current()
        if strategy is not None and strategy.num_replicas_in_sync > 1:
            garrs = strategy._aggregate_gradients(garrs)
        if self.loss_scale_factor is not None:
            inv = 1.0 / self.loss_scale_factor
            garrs = [g * g.dtype.type(inv) for g in garrs]
        if self.gradient_accumulation_steps:
            n = self.gradient_accumulation_steps
            accs = [self._accum[self._index[id(v)]]._value for v in variables]
            if (int(self._iterations._value) + 1) % n != 0:
                for a, g in zip(accs, garrs):
                    a += g
                self._iterations._value += 1
                return self._iterations
            scale = 1.0 / n
            garrs = [(a + g) * g.dtype.type(scale) for a, g in zip(accs, garrs)]
            for a in accs:
                a[...] = 0
        self._update_all(garrs, variables)
        self._iterations._value += 1
        return self._iterations

    def minimize(self, loss: Any, var_list: Any, tape: Any = None) -> Variable:
        """Compute gradients of `loss` (a zero-argument callable, or a tensor recorded on
        `tape`) with respect to `var_list` (a list or a callable returning one) and apply
        them (the `tf.keras` 2 API)."""
        from ndflow.core.tape import GradientTape

        if callable(loss):
            with GradientTape() as tape:
                if callable(var_list):
                    var_list = var_list()
                for v in var_list:
                    tape.watch(v)
                value = loss()
        else:
            if tape is None:
                raise ValueError(f"{type(self).__name__}.minimize: a loss tensor needs the "
                                 "GradientTape that recorded it (tape=...), or pass a callable")
            value = loss
            if callable(var_list):
                var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(value, var_list)
        return self.apply_gradients(zip(grads, var_list))

    def _grad_array(self, g: Any, v: Any) -> Any:
        var = v._value
        if isinstance(g, Tensor):
            if g._symbolic:
                raise TypeError(f"{type(self).__name__}: the gradient for variable "
                                f"{_var_label(v)} is symbolic (no value)")
            arr = g._value
        else:
            arr = to_array(g, None, type(self).__name__)
            if arr.dtype != var.dtype and arr.dtype.kind in "fiu" and var.dtype.kind == "f" \
                    and not isinstance(g, np.ndarray):
                arr = arr.astype(var.dtype)
        if arr.shape != var.shape:
            raise ValueError(
                f"{type(self).__name__}: expected the gradient for variable {_var_label(v)} to "
                f"have the variable's shape {list(var.shape)}, got shape {list(arr.shape)}. "
                "Check that gradients and variables are passed in the same order.")
        if arr.dtype != var.dtype:
            raise ValueError(
                f"{type(self).__name__}: expected the gradient for variable {_var_label(v)} to "
                f"have dtype {var.dtype.name}, got {arr.dtype.name}. Cast the gradient (or the "
                "loss) to the variable's dtype.")
        return arr

    def _clip(self, garrs: list) -> list:
        if self.clipnorm is not None:
            out = []
            c = self.clipnorm
            for g in garrs:
                n = math.sqrt(float(_sqsum(g)))
                out.append(g * g.dtype.type(c / n) if n > c else g)
            return out
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float(_sqsum(g)) for g in garrs))
            c = self.global_clipnorm
            if not math.isfinite(total):
                return [g * g.dtype.type(np.nan) for g in garrs]
            if total > c:
                return [g * g.dtype.type(c / total) for g in garrs]
            return garrs
        if self.clipvalue is not None:
            c = self.clipvalue
            return [_xp(g).clip(g, -c, c) for g in garrs]
        return garrs

    def _update_all(self, garrs: list, variables: list) -> None:
        garrs = self._clip(garrs)
        lr = self._current_lr()
        step = int(self._iterations._value) + 1
        self._apply_weight_decay(variables, lr)
        custom = type(self).update_step is not Optimizer.update_step
        self._prepare_step(step, lr)
        if custom:
            lr_t = self.learning_rate
            for g, v in zip(garrs, variables):
                self.update_step(Tensor(g), v, lr_t)
        else:
            index = self._index
            slots = self._slots
            update = self._update
            for g, v in zip(garrs, variables):
                update(v._value, g, [s._value for s in slots[index[id(v)]]], lr, step)
        for v in variables:
            c = getattr(v, "_constraint", None)
            if c is not None:
                v.assign(c(v))
        if self.use_ema:
            self._update_ema(variables)
        if self._flush_every and step % self._flush_every == 0:
            self._flush_subnormals()

    def _apply_weight_decay(self, variables: list, lr: float) -> None:
        """Decoupled weight decay: ``var *= 1 - lr * weight_decay`` (before the update)."""
        if self.weight_decay:
            for v in variables:
                if self._use_weight_decay(v):
                    arr = v._value
                    arr *= arr.dtype.type(1.0 - lr * self.weight_decay)

    def _prepare_step(self, step: int, lr: float) -> None:
        """Per-step scalars shared by all variables (overridden, e.g. by Nadam)."""

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        raise TypeError(f"{type(self).__name__}: a custom optimizer must override "
                        "update_step(gradient, variable, learning_rate)")

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Update one variable (override in Keras-3-style custom optimizers)."""
        raise TypeError(f"{type(self).__name__}: a custom optimizer must override "
                        "update_step(gradient, variable, learning_rate)")

    # Keras 3 helpers for custom update steps.
    def assign(self, variable: Any, value: Any) -> None:
        variable.assign(value)

    def assign_add(self, variable: Any, value: Any) -> None:
        variable.assign_add(value)

    def assign_sub(self, variable: Any, value: Any) -> None:
        variable.assign_sub(value)

    def _update_ema(self, variables: list) -> None:
        first = int(self._iterations._value) == 0
        m = self.ema_momentum
        for v in variables:
            avg = self._ema[self._index[id(v)]]._value
            var = v._value
            if first:
                avg[...] = var
            else:
                avg *= avg.dtype.type(m)
                avg += var * var.dtype.type(1.0 - m)
        freq = self.ema_overwrite_frequency
        if freq and (int(self._iterations._value) + 1) % freq == 0:
            for v in variables:
                v._value[...] = self._ema[self._index[id(v)]]._value

    def finalize_variable_values(self, var_list: list) -> None:
        """With ``use_ema``, replace the weights with their moving averages (end of fit)."""
        if self.use_ema:
            for v in var_list:
                i = self._index.get(id(v))
                if i is not None:
                    v._value[...] = self._ema[i]._value

    def scale_loss(self, loss: Any) -> Any:
        """Multiply the loss by ``loss_scale_factor`` (if set)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # --- weight decay -----------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list: list | None = None,
                                  var_names: list | None = None) -> None:
        """Exclude variables (objects or name substrings/regexes) from weight decay."""
        if self.built:
            raise ValueError(f"{type(self).__name__}.exclude_from_weight_decay: call it before "
                             "the optimizer is built (before the first update)")
        for v in var_list or []:
            self._exclude_ids.add(id(v))
        self._exclude_names.extend(var_names or [])

    def _use_weight_decay(self, v: Any) -> bool:
        if id(v) in self._exclude_ids:
            return False
        if self._exclude_names:
            label = _var_label(v)
            short = getattr(v, "_name", label)
            for pat in self._exclude_names:
                if re.search(pat, label) or re.search(pat, short):
                    return False
        return True

    # --- subnormal flush --------------------------------------------------------------------
    def _flush_period(self) -> int:
        decays = [float(d) for d in self._decays if 0 < float(d) < 1]
        if not decays:
            return 0
        d = min(decays)
        # A value above tiny/eps stays normal for log(1/eps)/log(1/d) steps (float32: 2**23).
        k = int(math.log(2.0 ** 23) / -math.log(d))
        return max(1, min(k, self._FLUSH_CAP))

    def _flush_subnormals(self) -> None:
        for slots in self._slots:
            for s in slots:
                a = s._value
                if a.dtype == np.float32 or a.dtype == np.float64:
                    fi = np.finfo(a.dtype)
                    xp = _xp(a)
                    buf = self._scratch_for(a, 7)
                    xp.abs(a, out=buf)
                    xp.putmask(a, buf < fi.tiny / fi.eps, 0) if xp is np else \
                        xp.copyto(a, 0, where=buf < fi.tiny / fi.eps)

    # --- saving (the .keras format stores `variables` in order) -----------------------------
    def save_own_variables(self, store: Any) -> None:
        """Write every optimizer variable into `store` under keys "0", "1", ..."""
        for i, v in enumerate(self.variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Restore the variables written by `save_own_variables` (build the optimizer first)."""
        variables = self.variables
        if len(store.keys()) != len(variables):
            msg = (f"Skipping variable loading for optimizer '{self.name}': it has "
                   f"{len(variables)} variables but the saved optimizer has "
                   f"{len(store.keys())}.")
            if not self.built:
                msg += " Build it first with optimizer.build(model.trainable_variables)."
            warnings.warn(msg, stacklevel=2)
            return
        for i, v in enumerate(variables):
            v.assign(np.asarray(store[str(i)]).astype(v._value.dtype, copy=False))

    # --- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, as JSON-friendly values."""
        if self._lr_var is not None:
            lr: Any = float(self._lr_var._value)
        elif isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(self._learning_rate)
        else:
            raise TypeError(f"{type(self).__name__}.get_config: the learning rate is a plain "
                            "callable and cannot be serialized; use a LearningRateSchedule")
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _schedules.deserialize(lr, custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _sqsum(g: Any) -> Any:
    f = g.reshape(-1)
    return _xp(g).dot(f, f) if g.dtype.kind == "f" else (f * f).sum()

"""`GradientTape`: reverse-mode automatic differentiation of eagerly executed ops.

>>> import ndflow as tf
>>> x = tf.Variable(3.0)
>>> with tf.GradientTape() as tape:
...     y = x * x
>>> float(tape.gradient(y, x))
6.0
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError
from ndflow.util import nest


class UnconnectedGradients(enum.Enum):
    """What `gradient` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Record operations for automatic differentiation.

    A tape records the ops of the thread that opened it only (as in TensorFlow), so ops that
    input-pipeline threads run meanwhile never land on a training step's tape.

    Args:
        persistent: allow several `gradient` calls on the same tape.
        watch_accessed_variables: watch trainable variables used inside the block.

    As in TensorFlow, the gradient of a non-scalar target is the gradient of its sum, and a
    gradient uses the variable values read while recording (assigning a variable afterwards
    does not change it). Set ``GradientTape.strict_targets = True`` to make a non-scalar target
    without `output_gradients` an error instead (a guard against forgetting a reduction).

    >>> import ndflow as tf
    >>> x = tf.Variable([1.0, 2.0])
    >>> with tf.GradientTape() as tape:
    ...     y = x * x                  # a vector target: d(sum(y))/dx
    >>> _ = x.assign([10.0, 10.0])     # does not affect the recorded values
    >>> tape.gradient(y, x).numpy().tolist()
    [2.0, 4.0]
    """

    # Opt-in strictness: refuse a non-scalar target when no output_gradients are given.
    strict_targets: bool = False

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._watched: dict[int, Any] = {}
        self._variables: dict[int, Any] = {}
        self._nodes: list[dispatch.Node] = []
        # id of a variable's recorded snapshot -> id of the variable (see dispatch.record)
        self._aliases: dict[int, int] = {}
        self._recording = False
        self._stack: list | None = None  # the thread's tape stack it records on
        self._used = False

    # --- context -------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pop()

    def _push(self) -> None:
        if self._recording:
            raise RuntimeError("GradientTape: this tape is already recording (nested `with` of "
                               "the same tape)")
        self._recording = True
        self._stack = dispatch.push_tape(self)

    def _pop(self) -> None:
        if self._recording:
            dispatch.pop_tape(self, self._stack)
            self._recording = False

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Ops run inside this block are not recorded on this tape."""
        if not self._recording:
            raise ValueError("GradientTape.stop_recording: the tape is not recording")
        self._pop()
        try:
            yield
        finally:
            self._push()

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self._watched.clear()
        self._variables.clear()
        self._nodes.clear()
        self._aliases.clear()
        self._used = False

    # --- watching ------------------------------------------------------------------------
    def watch(self, tensor: Any) -> None:
        """Watch a tensor (or a nested structure of tensors/variables)."""
        for t in nest.flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"GradientTape.watch: expected a tensor or variable, got {type(t).__name__}. "
                    "Convert the value with tf.constant first."
                )
            if t._symbolic or t.dtype.is_floating or t.dtype.is_complex:
                self._watched[id(t)] = t
                if hasattr(t, "assign"):
                    self._variables[id(t)] = t

    def _watch_variable(self, var: Any) -> None:
        self._watched[id(var)] = var
        self._variables[id(var)] = var

    def watched_variables(self) -> tuple:
        return tuple(self._variables.values())

    # --- differentiation -------------------------------------------------------------------
    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE
                 ) -> Any:
        """Gradients of `target` with respect to `sources` (same nested structure as sources).

        Without `output_gradients`, a non-scalar target's gradient is that of its sum (as in
        TensorFlow), unless ``GradientTape.strict_targets`` is set.
        """
        if self._used and not self._persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on a non-persistent tape; "
                "create the tape with GradientTape(persistent=True) to compute several gradients"
            )
        unconnected = UnconnectedGradients(
            unconnected_gradients.value if isinstance(unconnected_gradients, UnconnectedGradients)
            else unconnected_gradients)
        targets = nest.flatten(target)
        flat_sources = nest.flatten(sources)
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise ValueError(
                    f"GradientTape.gradient: sources must be tensors or variables, got "
                    f"{type(s).__name__}"
                )
        if output_gradients is None:
            out_grads: list = [None] * len(targets)
        else:
            out_grads = nest.flatten(output_gradients)
            if len(out_grads) != len(targets):
                raise InvalidArgumentError(
                    f"GradientTape.gradient: expected {len(targets)} output_gradients (one per "
                    f"target), got {len(out_grads)}"
                )
        seeds = {}
        for t, g in zip(targets, out_grads):
            if not isinstance(t, Tensor):
                raise ValueError(f"GradientTape.gradient: target must be a tensor, got "
                                 f"{type(t).__name__}")
            if g is None:
                if self.strict_targets and t.shape.num_elements() != 1:
                    raise InvalidArgumentError(
                        f"GradientTape.gradient: target must be a scalar when output_gradients "
                        f"is not given (GradientTape.strict_targets is set), got a target of "
                        f"shape {t.shape}. Reduce it first (e.g. tf.reduce_mean), or pass "
                        "output_gradients=tf.ones_like(target) for the gradient of its sum"
                    )
                g = _ones_like(t)
            else:
                g = convert_to_tensor(g, dtype=t.dtype)
                if tuple(g.shape) != tuple(t.shape):
                    raise InvalidArgumentError(
                        f"GradientTape.gradient: output_gradients must match the target's shape "
                        f"{t.shape}, got {g.shape}"
                    )
            seeds[id(t)] = g if id(t) not in seeds else seeds[id(t)] + g
        # A persistent tape inside its `with` block records the gradient computation too, so
        # that it can differentiate its own gradients (as in TF); other tapes step aside.
        step_aside = self._recording and not self._persistent
        if step_aside:
            self._pop()
        try:
            grads = self._backward(seeds, {id(s) for s in flat_sources})
        finally:
            if step_aside:
                self._push()
        if not self._persistent:
            self._used = True
            self._nodes = []
            self._aliases = {}
        result = []
        for s in flat_sources:
            g = grads.get(id(s))
            if g is None and unconnected is UnconnectedGradients.ZERO:
                g = _zeros_like(s)
            result.append(g)
        return nest.pack_sequence_as(sources, result)

    def _backward(self, grads: dict[int, Any], source_ids: set[int]) -> dict[int, Any]:
        watched = self._watched
        aliases = self._aliases
        for node in reversed(self._nodes):
            outs = node.outputs
            if type(outs) is tuple:
                gs = [grads.get(id(o)) for o in outs]
                if all(g is None for g in gs):
                    continue
                # outputs without a gradient get None: multi-output grad rules handle it
                for o in outs:
                    if id(o) not in source_ids:
                        grads.pop(id(o), None)
                ins = node.inputs
                node.needs = needs = [id(t) in watched for t in ins]
                in_grads = node.op.grad(node, *gs)
            else:
                k = id(outs)
                g = grads.get(k)
                if g is None:
                    continue
                if k not in source_ids:
                    del grads[k]
                ins = node.inputs
                node.needs = needs = [id(t) in watched for t in ins]
                in_grads = node.op.grad(node, g)
            for t, ig, need in zip(ins, in_grads, needs):
                if ig is None or not need:
                    continue
                k = id(t)
                if aliases:
                    k = aliases.get(k, k)
                prev = grads.get(k)
                grads[k] = ig if prev is None else prev + ig
        return grads

    def jacobian(self, target: Any, sources: Any,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
                 parallel_iterations: int | None = None, experimental_use_pfor: bool = True
                 ) -> Any:
        """Jacobian of `target` w.r.t. each source: shape `target.shape + source.shape`."""
        from ndflow.ops import array as array_ops

        persistent, self._persistent = self._persistent, True
        was_recording = self._recording
        self._pop()  # the rows of a Jacobian are not recorded
        try:
            n = int(target.shape.num_elements())
            flat_sources = nest.flatten(sources)
            rows: list[list] = [[] for _ in flat_sources]
            # one-hot seeds from the target's shape and dtype only (no values: this also runs
            # while ndflow.function traces, where the target has none yet)
            xp_base = np.zeros(n, np.dtype(target.dtype.as_numpy_dtype))
            for i in range(n):
                seed = xp_base.copy()
                seed[i] = 1
                g = self.gradient(target, flat_sources,
                                  output_gradients=seed.reshape(tuple(target.shape)),
                                  unconnected_gradients=unconnected_gradients)
                for j, gj in enumerate(g):
                    rows[j].append(gj)
        finally:
            self._persistent = persistent
            if was_recording:
                self._push()
        if not persistent:
            self._used = True
        out = []
        for s, r in zip(flat_sources, rows):
            if any(g is None for g in r):
                out.append(None)
                continue
            stacked = array_ops.stack(r)
            out.append(array_ops.reshape(stacked, tuple(target.shape) + tuple(s.shape)))
        return nest.pack_sequence_as(sources, out)

    def batch_jacobian(self, target: Any, source: Any, **kwargs: Any) -> Any:
        """Per-example Jacobian: `target[i]` w.r.t. `source[i]`, for batch-major tensors."""
        from ndflow.ops import array as array_ops

        full = self.jacobian(target, source, **kwargs)
        if full is None:
            return None
        b = target.shape[0]
        parts = [_take_diag(full, i, target.ndim) for i in range(b)]
        return array_ops.stack(parts)


def _take_diag(full: Tensor, i: int, target_rank: int) -> Tensor:
    idx = (i,) + (slice(None),) * (target_rank - 1) + (i,)
    return full[idx]


def _ones_like(t: Tensor) -> Tensor:
    from ndflow.ops.creation import ones_like

    return ones_like(t)


def _zeros_like(t: Tensor) -> Tensor:
    from ndflow.ops.creation import zeros_like

    return zeros_like(t)

"""`MultiOptimizer` and `OptimizerMap`: different optimizers for different variables.

>>> import ndflow as tf
>>> from ndflow.keras import optimizers
>>> omap = optimizers.OptimizerMap(optimizers.SGD(0.1), {"encoder/.*": optimizers.Adam()})
>>> type(omap["encoder/dense/kernel"]).__name__, type(omap["head/kernel"]).__name__
('Adam', 'SGD')
>>> opt = optimizers.MultiOptimizer(omap)
>>> [type(o).__name__ for o in opt.optimizers]  # mapped ones first, then the default
['Adam', 'SGD']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from ndflow.graph.trace import host_callable
from ndflow.core.variable import Variable
from ndflow.keras.optimizers.base_optimizer import Optimizer, _var_label


class OptimizerMap(MutableMapping):
    """Map variable paths to optimizers: an exact key, else the one key that matches as a
    regex (`re.fullmatch`), else `default_optimizer`.

    Args:
        default_optimizer: the optimizer of unmapped variables.
        optimizer_map: ``{path or regex: optimizer}``.
    """

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"OptimizerMap: expected default_optimizer to be a Keras Optimizer, "
                            f"got {type(default_optimizer).__name__}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: expected optimizer_map to be a dict, got "
                            f"{type(optimizer_map).__name__}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = {}
        for k, v in (optimizer_map or {}).items():
            self[k] = v

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        hits = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(hits) > 1:
            raise ValueError(f"OptimizerMap: variable {key!r} matches several keys {hits}; "
                             "make the patterns disjoint")
        return self._optimizer_map[hits[0]] if hits else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: expected a string key (a path or regex), got "
                             f"{key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: key {key!r} is already mapped to "
                             f"{self._optimizer_map[key].name!r}; keys must be unique")
        _check_inner(optimizer, "OptimizerMap")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __call__(self, variable: Any) -> Optimizer:
        return self[_var_label(variable)]

    def get_config(self) -> dict:
        from ndflow.keras import optimizers

        return {"default_optimizer": optimizers.serialize(self._default_optimizer),
                "optimizer_map": {k: optimizers.serialize(v)
                                  for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        from ndflow.keras import optimizers

        if not isinstance(config, dict) or "default_optimizer" not in config:
            raise ValueError(f"OptimizerMap.from_config: expected a dict with "
                             f"'default_optimizer', got {config!r}")
        default = optimizers.deserialize(config["default_optimizer"], custom_objects)
        omap = config.get("optimizer_map") or {}
        if not isinstance(omap, dict):
            raise ValueError(f"OptimizerMap.from_config: expected 'optimizer_map' to be a dict, "
                             f"got {type(omap).__name__}")
        return cls(default, {k: optimizers.deserialize(v, custom_objects)
                             for k, v in omap.items()})


def _check_inner(optimizer: Any, who: str) -> None:
    from ndflow.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer

    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"{who}: expected a Keras Optimizer, got {type(optimizer).__name__}")
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError(f"{who}: a LossScaleOptimizer cannot be used inside a MultiOptimizer")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError(f"{who}: a MultiOptimizer cannot be used inside a MultiOptimizer")


class MultiOptimizer(Optimizer):
    """Delegate each variable to the optimizer that `optimizer_map` gives it (an
    `OptimizerMap`, or a callable ``variable -> optimizer``). The sub-optimizers keep their own
    learning rates and iterations (see `optimizers`); this one has no learning rate.

    Args:
        optimizer_map: an `OptimizerMap` or a callable returning an optimizer per variable.
        loss_scale_factor: overrides the sub-optimizers' loss scale factor.
        name: the optimizer's name.
    """

    def __init__(self, optimizer_map: OptimizerMap | Callable, loss_scale_factor: float | None
                 = None, name: str | None = None) -> None:
        if not callable(optimizer_map):
            raise TypeError(f"MultiOptimizer: expected an OptimizerMap or a callable "
                            f"variable -> optimizer, got {type(optimizer_map).__name__}")
        super().__init__(0.0, loss_scale_factor=loss_scale_factor,
                         name=name or "multi_optimizer")
        self._optimizer_map = optimizer_map
        self._inner_optimizers: list[Optimizer] = []
        self._var_to_optimizer: dict[int, int] = {}
        inner = list(optimizer_map.values()) if isinstance(optimizer_map, OptimizerMap) else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for opt in inner + ([default] if default is not None else []):
            self._add_inner(opt)

    def _add_inner(self, opt: Optimizer) -> int:
        for i, o in enumerate(self._inner_optimizers):
            if o is opt:
                return i
        opt.loss_scale_factor = self.loss_scale_factor
        self._inner_optimizers.append(opt)
        return len(self._inner_optimizers) - 1

    @property
    def optimizers(self) -> list[Optimizer]:
        """The sub-optimizers, in the order their variables are saved."""
        return list(self._inner_optimizers)

    def _saveable_children(self) -> list:
        return [("optimizers", list(self._inner_optimizers))]

    @property
    def variables(self) -> list[Variable]:
        out = list(self._variables)
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self) -> Any:
        raise AttributeError("MultiOptimizer has no learning rate: read it on the "
                             "sub-optimizers (MultiOptimizer.optimizers)")

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        raise AttributeError("MultiOptimizer has no learning rate: set it on the "
                             "sub-optimizers (MultiOptimizer.optimizers)")

    def build(self, variables: list) -> None:
        if self.built:
            return
        groups: dict[int, list] = {}
        for v in variables:
            opt = self._optimizer_map(v)
            _check_inner(opt, f"MultiOptimizer (variable {_var_label(v)})")
            i = self._add_inner(opt)
            self._var_to_optimizer[id(v)] = i
            groups.setdefault(i, []).append(v)
        for i, opt in enumerate(self._inner_optimizers):
            if i in groups:
                opt.build(groups[i])
        self._trainable_variables = list(variables)
        self._index = {id(v): k for k, v in enumerate(variables)}
        self.built = True

    @host_callable(retains_args=False)
    def apply(self, grads: list, trainable_variables: list | None = None) -> Variable:
        """Hand each (gradient, variable) pair to its sub-optimizer."""
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError("MultiOptimizer.apply: the optimizer is not built; pass "
                                 "trainable_variables or call build(variables) first")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not grads:
            return self._iterations
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"MultiOptimizer.apply: expected one gradient per variable, got "
                             f"{len(grads)} gradients for {len(trainable_variables)} variables")
        parts: list[tuple[list, list]] = [([], []) for _ in self._inner_optimizers]
        for g, v in zip(grads, trainable_variables):
            i = self._var_to_optimizer.get(id(v))
            if i is None:
                raise ValueError(f"MultiOptimizer.apply: variable {_var_label(v)} was not in "
                                 "the variables the optimizer was built with")
            parts[i][0].append(g)
            parts[i][1].append(v)
        for opt, (gs, vs) in zip(self._inner_optimizers, parts):
            if vs:
                opt.apply(gs, vs)
        self._iterations._value += 1
        return self._iterations

    def finalize_variable_values(self, var_list: list) -> None:
        parts: list[list] = [[] for _ in self._inner_optimizers]
        for v in var_list:
            i = self._var_to_optimizer.get(id(v))
            if i is not None:
                parts[i].append(v)
        for opt, vs in zip(self._inner_optimizers, parts):
            if vs:
                opt.finalize_variable_values(vs)

    def get_config(self) -> dict:
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise TypeError("MultiOptimizer.get_config: a callable optimizer_map cannot be "
                            "serialized; use an OptimizerMap")
        return {"optimizer_map": {"module": "keras.optimizers", "class_name": "OptimizerMap",
                                  "config": self._optimizer_map.get_config(),
                                  "registered_name": None},
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        config = dict(config)
        omap = config.get("optimizer_map")
        if not (isinstance(omap, dict) and omap.get("class_name") == "OptimizerMap"):
            raise ValueError(f"MultiOptimizer.from_config: expected 'optimizer_map' to be a "
                             f"serialized OptimizerMap, got {omap!r}")
        config["optimizer_map"] = OptimizerMap.from_config(omap.get("config", {}),
                                                           custom_objects)
        return cls(**config)

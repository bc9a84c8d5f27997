"""`LossScaleOptimizer`: dynamic loss scaling around another optimizer (for float16 training).

The loss is multiplied by a scale before differentiation (`scale_loss`); `apply` divides the
gradients by it and, if they are all finite, lets the inner optimizer step; otherwise it skips
the step and halves the scale. After ``dynamic_growth_steps`` finite steps in a row the scale
doubles.

>>> import ndflow as tf
>>> from ndflow.keras import optimizers
>>> opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0)
>>> v = tf.Variable([1.0])
>>> _ = opt.apply([tf.constant([float("inf")])], [v])  # overflow: skipped, scale halved
>>> float(opt.dynamic_scale.numpy()), v.numpy().tolist()
(4.0, [1.0])
>>> _ = opt.apply([tf.constant([4.0])], [v])  # unscaled gradient 1.0
>>> v.numpy().tolist()
[0.8999999761581421]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.graph.trace import host_callable
from ndflow.core.tensor import Tensor, to_array
from ndflow.core.variable import Variable
from ndflow.keras.optimizers.base_optimizer import Optimizer, _xp

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Wrap `inner_optimizer` with a dynamic loss scale (Keras 3 API).

    Args:
        inner_optimizer: the optimizer that applies the unscaled gradients.
        initial_scale: the starting loss scale (``2**15``).
        dynamic_growth_steps: finite steps in a row before the scale doubles (2000).
        name: the optimizer's name.
    """

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0 ** 15,
                 dynamic_growth_steps: int = 2000, name: str | None = None,
                 **kwargs: Any) -> None:
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer: dynamic=False is not supported; set "
                             "loss_scale_factor on the inner optimizer for a fixed scale")
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(f"LossScaleOptimizer: `{key}` is not supported; set it on "
                                 "the inner_optimizer instead")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer: argument(s) not recognized: {sorted(kwargs)}")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer: expected inner_optimizer to be a Keras "
                            f"Optimizer, got {type(inner_optimizer).__name__}")
        if not float(initial_scale) > 0:
            raise ValueError(f"LossScaleOptimizer: expected initial_scale > 0, got "
                             f"{initial_scale!r}")
        if int(dynamic_growth_steps) < 1:
            raise ValueError(f"LossScaleOptimizer: expected dynamic_growth_steps >= 1, got "
                             f"{dynamic_growth_steps!r}")
        super().__init__(0.0, name=name or "loss_scale_optimizer")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        inner_optimizer.loss_scale_factor = None
        # Made now rather than in build (Keras makes them there, in the same order): a traced
        # train step reads the scale variable from its first trace on.
        self.step_counter = self.add_variable((), dtype="int32", name="step_counter")
        self.dynamic_scale = self.add_variable((), initializer=self.initial_scale,
                                               dtype="float32", name="dynamic_scale")

    def build(self, variables: list) -> None:
        if self.built:
            return
        self.inner_optimizer.build(variables)
        self._trainable_variables = list(variables)
        self.built = True

    def _saveable_children(self) -> list:
        return [("inner_optimizer", self.inner_optimizer)]

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables) + self.inner_optimizer.variables

    @property
    def learning_rate(self) -> Any:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self) -> Variable:
        return self.inner_optimizer.iterations

    @host_callable(retains_args=False)
    def apply(self, grads: list, trainable_variables: list | None = None) -> Variable:
        """Unscale `grads`; step the inner optimizer if all are finite, else skip and halve
        the scale."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError("LossScaleOptimizer.apply: the optimizer is not built; pass "
                                 "trainable_variables or call build(variables) first")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        arrays = [None if g is None else (g._value if isinstance(g, Tensor)
                                          else to_array(g, None, "LossScaleOptimizer"))
                  for g in grads]
        finite = all(bool(_xp(a).isfinite(a).all()) for a in arrays if a is not None)
        counter, scale = self.step_counter._value, self.dynamic_scale._value
        if not finite:
            counter[...] = 0
            scale *= np.float32(0.5)
            return self.iterations
        s = float(scale)
        unscaled = [None if a is None else a / a.dtype.type(s) for a in arrays]
        self.inner_optimizer.apply(unscaled, trainable_variables)
        if int(counter) == self.dynamic_growth_steps - 1:
            counter[...] = 0
            scale *= np.float32(2.0)
        else:
            counter += 1
        return self.iterations

    def scale_loss(self, loss: Any) -> Any:
        """The loss times the current scale (``initial_scale`` before the first step)."""
        return loss * self.dynamic_scale

    def finalize_variable_values(self, var_list: list) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict:
        from ndflow.keras import optimizers

        return {"name": self.name, "inner_optimizer": optimizers.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        from ndflow.keras import optimizers

        config = dict(config)
        inner = optimizers.deserialize(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)

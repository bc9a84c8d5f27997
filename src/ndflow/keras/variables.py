"""Keras variables: ndflow `Variable`s that know their layer path, regularizer and constraint.

>>> from ndflow.keras.variables import KerasVariable
>>> v = KerasVariable([1.0, 2.0], name="kernel", path="dense/kernel")
>>> v.path, v.name, v.numpy().tolist()
('dense/kernel', 'kernel', [1.0, 2.0])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.variable import Variable


class KerasVariable(Variable):
    """A weight created by `Layer.add_weight`.

    Compared with a plain `tf.Variable` it carries `path` (``"layer_name/weight_name"``), a
    `regularizer` (called by `Layer.losses`) and a `constraint` (applied by optimizers after
    each update). `name` is the short name, as in Keras 3.
    """

    __slots__ = ("_path", "regularizer")

    def __init__(self, initial_value: Any, trainable: bool = True, name: str | None = None,
                 dtype: Any = None, constraint: Any = None, regularizer: Any = None,
                 path: str | None = None) -> None:
        super().__init__(initial_value, trainable=trainable, name=name or "variable",
                         dtype=dtype, constraint=constraint)
        self._path = path or self._name
        self.regularizer = regularizer

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str:
        return self._path

    @property
    def constraint(self) -> Any:
        return self._constraint

    @constraint.setter
    def constraint(self, value: Any) -> None:
        self._constraint = value

    def __repr__(self) -> str:
        return (f"<KerasVariable shape={tuple(self.shape)}, dtype={self.dtype.name}, "
                f"path={self._path}>")

    def __deepcopy__(self, memo: dict) -> KerasVariable:
        return KerasVariable(self._value.copy(), trainable=self._trainable, name=self._name,
                             constraint=self._constraint, regularizer=self.regularizer,
                             path=self._path)


Variable_ = KerasVariable

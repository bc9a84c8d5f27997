"""`UnitNormalization`: scale each sample to unit L2 norm along `axis`.

>>> from ndflow.keras import layers
>>> [round(float(v), 3) for v in layers.UnitNormalization()([[3.0, 4.0]]).numpy()[0]]
[0.6, 0.8]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops.linalg import l2_normalize


class UnitNormalization(Layer):
    """`x / max(||x||_2, sqrt(1e-12))` along `axis` (an int or list of ints, default -1).

    >>> UnitNormalization(axis=[1, 2]).get_config()["axis"]
    [1, 2]
    """

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(f"UnitNormalization: expected axis to be an int or a list of ints, "
                            f"got {axis!r}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        nd = len(inputs.shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for a in axes:
            if not -nd <= a < nd:
                raise ValueError(f"UnitNormalization layer '{self.name}': axis {a} is out of "
                                 f"range for inputs of shape {tuple(inputs.shape)}")
        return l2_normalize(inputs, axis=self.axis if isinstance(self.axis, int) else
                            tuple(self.axis), epsilon=1e-12)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config

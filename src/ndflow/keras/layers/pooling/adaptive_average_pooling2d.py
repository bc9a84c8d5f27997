"""`AdaptiveAveragePooling2D`: average pooling of 2D data into a fixed `output_size`,
whatever the input's spatial size (PyTorch's adaptive windows).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.zeros((2, 9, 9, 3), "float32")
>>> tuple(layers.AdaptiveAveragePooling2D(4)(x).shape)
(2, 4, 4, 3)
"""

from __future__ import annotations

from ndflow.keras.layers.pooling.base_adaptive_pooling import BaseAdaptivePooling


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Adaptive average pooling over two spatial axes.

    Args:
        output_size: int or tuple of 2 ints, the spatial size of the output.
        data_format: `"channels_last"` (default, `keras.config.image_data_format()`) or
            `"channels_first"`.

    >>> AdaptiveAveragePooling2D(2).get_config()["output_size"]
    (2, 2)
    """

    _ndims = 2
    _mode = "average"

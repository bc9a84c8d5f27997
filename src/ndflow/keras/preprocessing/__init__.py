"""`keras.preprocessing`: Keras 3's namespace of data utilities, the same functions as in
`keras.utils` (as in Keras, where both names lead to one implementation).

>>> from ndflow import keras
>>> keras.preprocessing.sequence.pad_sequences([[1, 2], [3]]).tolist()
[[1, 2], [0, 3]]
"""

from __future__ import annotations

from ndflow.keras.preprocessing import image, sequence
from ndflow.keras.utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]

"""`keras.utils`: data helpers (`to_categorical`, `normalize`), seeding (`set_random_seed`),
downloads (`get_file`) and the progress bar.

>>> from ndflow import keras
>>> keras.utils.to_categorical([1, 0], num_classes=2).tolist()
[[0.0, 1.0], [1.0, 0.0]]
"""

from ndflow.keras.utils.file_utils import get_file
from ndflow.keras.utils.numerical_utils import normalize, to_categorical
from ndflow.keras.utils.progbar import Progbar
from ndflow.keras.utils.py_dataset import PyDataset
from ndflow.keras.utils.rng_utils import SeedGenerator, set_random_seed

__all__ = ["Progbar", "PyDataset", "SeedGenerator", "get_file", "normalize", "set_random_seed",
           "to_categorical"]

# --- sequences, timeseries and text data (issue 13, text helper) ---
from ndflow.keras.utils.sequence_utils import pad_sequences  # noqa: E402
from ndflow.keras.utils.text_dataset_utils import text_dataset_from_directory  # noqa: E402
from ndflow.keras.utils.timeseries_dataset_utils import (  # noqa: E402
    timeseries_dataset_from_array,
)

__all__ += ["pad_sequences", "text_dataset_from_directory", "timeseries_dataset_from_array"]

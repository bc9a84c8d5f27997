"""`keras.utils`: data helpers (`to_categorical`, `normalize`), seeding (`set_random_seed`),
downloads (`get_file`), the progress bar and model pictures (`plot_model`).

>>> from ndflow import keras
>>> keras.utils.to_categorical([1, 0], num_classes=2).tolist()
[[0.0, 1.0], [1.0, 0.0]]
"""

from ndflow.keras.utils.file_utils import get_file
from ndflow.keras.utils.model_visualization import model_to_dot, plot_model
from ndflow.keras.utils.numerical_utils import normalize, to_categorical
from ndflow.keras.utils.progbar import Progbar
from ndflow.keras.utils.py_dataset import PyDataset
from ndflow.keras.utils.rng_utils import SeedGenerator, set_random_seed

__all__ = ["Progbar", "PyDataset", "SeedGenerator", "get_file", "model_to_dot", "normalize",
           "plot_model", "set_random_seed", "to_categorical"]

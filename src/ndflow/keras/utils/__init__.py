"""`keras.utils`: data helpers (`to_categorical`, `normalize`, `split_dataset`,
`image_dataset_from_directory`, image files), seeding, downloads (`get_file`), the progress
bar, model pictures (`plot_model`), object registration and (de)serialization, `Config`.

>>> from ndflow import keras
>>> keras.utils.to_categorical([1, 0], num_classes=2).tolist()
[[0.0, 1.0], [1.0, 0.0]]
"""

from ndflow.keras.backend import clear_session
from ndflow.keras.saving import (
    CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects,
    get_registered_name, get_registered_object, register_keras_serializable,
    serialize_keras_object,
)
from ndflow.keras.trainer.data_adapter import pack_x_y_sample_weight, unpack_x_y_sample_weight
from ndflow.keras.utils import bounding_boxes, legacy
from ndflow.keras.utils.audio_dataset_utils import audio_dataset_from_directory
from ndflow.keras.utils.config import Config
from ndflow.keras.utils.dataset_split import split_dataset
from ndflow.keras.utils.dtype_utils import standardize_dtype
from ndflow.keras.utils.file_utils import get_file
from ndflow.keras.utils.image_dataset_utils import image_dataset_from_directory
from ndflow.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from ndflow.keras.utils.io_utils import (
    disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled,
)
from ndflow.keras.utils.keras_tensor_utils import get_source_inputs, is_keras_tensor
from ndflow.keras.utils.model_visualization import model_to_dot, plot_model
from ndflow.keras.utils.numerical_utils import normalize, to_categorical
from ndflow.keras.utils.progbar import Progbar
from ndflow.keras.utils.py_dataset import PyDataset
from ndflow.keras.utils.rng_utils import SeedGenerator, set_random_seed

Sequence = PyDataset  # Keras 3 keeps the Keras 2 name as an alias

__all__ = ["Config", "CustomObjectScope", "Progbar", "PyDataset", "SeedGenerator", "Sequence",
           "array_to_img", "audio_dataset_from_directory",
           "bounding_boxes", "clear_session", "custom_object_scope",
           "deserialize_keras_object", "disable_interactive_logging",
           "enable_interactive_logging", "get_custom_objects", "get_file", "get_registered_name",
           "get_registered_object", "get_source_inputs", "image_dataset_from_directory",
           "img_to_array", "is_interactive_logging_enabled", "is_keras_tensor", "legacy",
           "load_img", "model_to_dot", "normalize", "pack_x_y_sample_weight", "plot_model",
           "register_keras_serializable", "save_img", "serialize_keras_object", "set_random_seed",
           "split_dataset", "standardize_dtype", "to_categorical", "unpack_x_y_sample_weight"]

# --- sequences, timeseries and text data (issue 13, text helper) ---
from ndflow.keras.utils.sequence_utils import pad_sequences  # noqa: E402
from ndflow.keras.utils.text_dataset_utils import text_dataset_from_directory  # noqa: E402
from ndflow.keras.utils.timeseries_dataset_utils import (  # noqa: E402
    timeseries_dataset_from_array,
)

__all__ += ["pad_sequences", "text_dataset_from_directory", "timeseries_dataset_from_array"]

# --- structured data (issue 19) ---
from ndflow.keras.layers.preprocessing.feature_space import FeatureSpace  # noqa: E402

__all__ += ["FeatureSpace"]

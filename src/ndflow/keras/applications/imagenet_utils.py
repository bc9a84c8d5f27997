"""`keras.applications.imagenet_utils`: the ImageNet input preprocessing modes, the decoding
of 1000-class predictions, and the input-shape rules the application models share.

>>> import numpy as np
>>> preprocess_input(np.full((1, 2, 2, 3), 255.0), mode="tf")[0, 0, 0].tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.keras import config

CLASS_INDEX: dict | None = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"  # md5, as Keras checks it

_MODES = ("caffe", "tf", "torch")
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _channel_shape(ndim: int, data_format: str) -> tuple:
    if data_format == "channels_first":
        return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (1,) * (ndim - 1) + (3,)


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch of RGB images with values in [0, 255] the way an ImageNet model was
    trained: "caffe" (RGB to BGR, minus the ImageNet channel means), "tf" (to [-1, 1]) or
    "torch" (to [0, 1], then per-channel ImageNet mean and std).

    A float NumPy array is modified in place, as in Keras (pass ``np.copy(x)`` to keep it);
    an ndflow tensor gives a new tensor.

    >>> import numpy as np
    >>> preprocess_input(np.zeros((1, 1, 1, 3)), mode="caffe")[0, 0, 0].round(3).tolist()
    [-103.939, -116.779, -123.68]
    """
    if mode not in _MODES:
        raise fail("preprocess_input", "mode one of 'caffe', 'tf', 'torch'",
                              repr(mode), "'caffe' for VGG/ResNet, 'tf' for Inception/"
                              "MobileNet, 'torch' for DenseNet")
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise fail("preprocess_input", "data_format 'channels_first' or "
                              "'channels_last'", repr(data_format), "leave it None to use "
                              "keras.config.image_data_format()")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
        x = np.flip(x, axis=axis)
        mean, std = _CAFFE_MEAN_BGR, None
    shape = _channel_shape(x.ndim, data_format)
    x -= np.asarray(mean, dtype=x.dtype).reshape(shape)
    if std is not None:
        x /= np.asarray(std, dtype=x.dtype).reshape(shape)
    return x


def _preprocess_tensor(x: Any, data_format: str, mode: str) -> Any:
    from ndflow.keras import ops

    x = ops.convert_to_tensor(x)
    if not str(x.dtype).startswith("float"):
        x = ops.cast(x, config.floatx())
    if mode == "tf":
        return x / 127.5 - 1.0
    ndim = len(x.shape)
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        axis = -1 if data_format == "channels_last" else (0 if ndim == 3 else 1)
        x = ops.flip(x, axis=axis)
        mean, std = _CAFFE_MEAN_BGR, None
    shape = _channel_shape(ndim, data_format)
    x = x - ops.convert_to_tensor(np.asarray(mean).reshape(shape), dtype=x.dtype)
    if std is not None:
        x = x / ops.convert_to_tensor(np.asarray(std).reshape(shape), dtype=x.dtype)
    return x


def _class_index() -> dict:
    global CLASS_INDEX
    if CLASS_INDEX is None:
        from ndflow.keras.utils.file_utils import get_file

        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds: Any, top: int = 5) -> list:
    """The ``top`` classes of each row of ImageNet predictions, as
    ``(class_name, class_description, score)`` tuples, best first.

    The class index (``imagenet_class_index.json``) is read from the Keras cache
    (``~/.keras/models``) or downloaded there once, as Keras does.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise fail("decode_predictions", "a batch of predictions of shape "
                              "(samples, 1000)", f"shape {preds.shape}",
                              "pass the output of a 1000-class ImageNet model")
    index = _class_index()
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        row = [tuple(index[str(i)]) + (pred[i],) for i in best]
        row.sort(key=lambda r: r[2], reverse=True)
        results.append(row)
    return results


def obtain_input_shape(input_shape: Any, default_size: int, min_size: int, data_format: str,
                       require_flatten: bool, weights: Any = None) -> tuple:
    """The model's input shape: `input_shape` checked (3 dims, at least `min_size` pixels,
    3 channels for ImageNet weights, fixed when a Flatten top needs it) or the default."""
    first = data_format == "channels_first"
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        ch = input_shape[0] if first else input_shape[-1]
        if ch not in (1, 3):
            warnings.warn(f"This model usually expects 1 or 3 input channels, got an "
                          f"input_shape with {ch} channels.", stacklevel=3)
        default_shape = ((ch, default_size, default_size) if first
                         else (default_size, default_size, ch))
    else:
        default_shape = (3, default_size, default_size) if first else \
            (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise fail("input_shape", f"{default_shape} with include_top=True and "
                                  "weights='imagenet'", str(input_shape),
                                  "use include_top=False to pick another image size")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise fail("input_shape", "a tuple of three integers (height, width, "
                                  "channels)", str(input_shape), "e.g. input_shape=(224, 224, "
                                  "3)")
        ch = input_shape[0] if first else input_shape[-1]
        spatial = input_shape[1:] if first else input_shape[:2]
        if ch != 3 and weights == "imagenet":
            raise fail("input_shape", "3 channels with weights='imagenet'",
                                  str(input_shape), "convert the images to RGB")
        if any(s is not None and s < min_size for s in spatial):
            raise fail("input_shape", f"an input size of at least {min_size}x"
                                  f"{min_size}", str(input_shape), "resize the images")
    else:
        if require_flatten:
            input_shape = default_shape
        else:
            input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise fail("input_shape", "a static shape when include_top=True",
                              str(input_shape), "give input_shape=(height, width, channels)")
    return input_shape


def correct_pad(inputs: Any, kernel_size: Any) -> tuple:
    """The ((top, bottom), (left, right)) zero padding before a strided 'valid' convolution
    that makes it match TensorFlow's 'same' padding."""
    axis = 2 if config.image_data_format() == "channels_first" else 1
    size = tuple(inputs.shape[axis:axis + 2])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """Pretrained classifiers allow only ``None`` or ``"softmax"`` as the top activation."""
    if weights is None:
        return
    from ndflow.keras import activations

    act = activations.get(classifier_activation)
    if act not in (activations.get("softmax"), activations.get(None)):
        raise fail("classifier_activation", "None or 'softmax' with pretrained "
                              "weights", repr(classifier_activation),
                              "use weights=None to train another top activation")


__all__ = ["decode_predictions", "preprocess_input"]

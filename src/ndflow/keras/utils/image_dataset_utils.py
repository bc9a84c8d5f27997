"""`image_dataset_from_directory`: a folder of images (one subfolder per class) as a batched
`ndflow.data.Dataset` of ``(images, labels)``, with Keras's arguments, file order, labels,
class names, validation split and seeded shuffling. `index_directory` lists the files as
Keras does (sorted, then shuffled by NumPy's RandomState(seed)). Images are read with Pillow
(``pip install "ndflow[image]"``).

>>> from ndflow import keras
>>> ds = keras.utils.image_dataset_from_directory("photos/", image_size=(64, 64),
...                                               validation_split=0.2, subset="training",
...                                               seed=1)  # doctest: +SKIP
>>> ds.class_names                                        # doctest: +SKIP
['cats', 'dogs']
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ndflow.keras.utils.io_utils import print_msg

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest")


def _valid_files(directory: str, follow_links: bool, formats: tuple) -> list:
    out = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda w: w[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                out.append(os.path.join(root, fname))
    return out


def index_directory(directory: str, labels: Any, formats: tuple, class_names: Any = None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True) -> tuple[list, Any, Any]:
    """``(file_paths, labels, class_names)`` for the files under `directory` whose names end
    with one of `formats`. With ``labels="inferred"`` each subfolder is a class (sorted, or in
    the order of `class_names`); with a list, the labels of the sorted files; with None, no
    labels. `shuffle` permutes paths and labels with ``np.random.RandomState(seed)``."""
    if not os.path.isdir(directory):
        raise ValueError(f"index_directory: expected a directory, got {directory!r} (not "
                         "found or not a folder)")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(f"The `class_names` passed do not match the subfolders of "
                                 f"{directory}: expected {subdirs} (or a subset), got "
                                 f"class_names={list(class_names)}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(
                "When `labels=None` (no labels), argument `class_names` cannot be specified."
                if labels is None else
                "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels).")
        subdirs = [""]
    names = list(subdirs)
    paths: list = []
    found: list = []
    for i, sub in enumerate(subdirs):
        sub_files = _valid_files(os.path.join(directory, sub), follow_links, formats)
        paths += [os.path.join(directory, sub, os.path.relpath(f, os.path.join(directory, sub)))
                  if sub else os.path.join(directory, os.path.relpath(f, directory))
                  for f in sub_files]
        found += [i] * len(sub_files)
    if labels == "inferred":
        label_arr: Any = np.asarray(found, dtype="int32")
    elif labels is None:
        label_arr, names = None, None
    else:
        if len(labels) != len(paths):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(paths)} files in directory {directory}.")
        label_arr = list(labels)
        names = [str(v) for v in sorted(set(labels))]
    if verbose:
        if label_arr is None:
            print_msg(f"Found {len(paths)} files.")
        else:
            print_msg(f"Found {len(paths)} files belonging to {len(names)} classes.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(paths)
        if label_arr is not None:
            np.random.RandomState(seed).shuffle(label_arr)
    return paths, label_arr, names


def check_validation_split_arg(validation_split: Any, subset: Any, shuffle: bool,
                               seed: Any) -> None:
    """Keras's checks of `validation_split`, `subset` and `seed`."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between "
                         "the training and validation subset.")


def training_or_validation_split(samples: list, labels: Any, validation_split: Any,
                                 subset: Any) -> tuple:
    """The last ``int(validation_split * n)`` samples for "validation", the rest for
    "training" (all of them without a split)."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - n_val} files for training.")
        return samples[:-n_val], None if labels is None else labels[:-n_val]
    if subset == "validation":
        print_msg(f"Using {n_val} files for validation.")
        return samples[-n_val:], None if labels is None else labels[-n_val:]
    raise ValueError(f'`subset` must be either "training" or "validation", received: '
                     f"{subset}")


def _load_image(path: str, image_size: tuple, num_channels: int, interpolation: str,
                data_format: str, crop_to_aspect_ratio: bool,
                pad_to_aspect_ratio: bool) -> np.ndarray:
    from ndflow.keras.utils.image_utils import _pil
    from ndflow.ops.image import resize

    Image = _pil()
    with open(path, "rb") as f:
        img = Image.open(f)
        img.load()
    mode = {1: ("L", ("L", "I;16", "I")), 3: ("RGB", ("RGB",)), 4: ("RGBA", ("RGBA",))}
    target, ok = mode[num_channels]
    if img.mode not in ok:
        img = img.convert(target)
    x = np.asarray(img, dtype=np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    h, w = x.shape[:2]
    th, tw = image_size
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        h0, w0 = int(float(h - ch) / 2), int(float(w - cw) / 2)
        x = x[h0:h0 + ch, w0:w0 + cw]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        h0, w0 = int(float(ph - h) / 2), int(float(pw - w) / 2)
        x = np.pad(x, ((h0, h0), (w0, w0), (0, 0)))
    if x.shape[:2] != (th, tw):
        x = resize(x, (th, tw), method=interpolation).numpy().astype(np.float32)
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    return x


def _labels_array(labels: Any, label_mode: str | None, num_classes: int) -> Any:
    if labels is None or label_mode is None:
        return None
    arr = np.asarray(labels)
    if label_mode == "binary":
        return arr.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[arr.astype(np.int64)]
    return arr.astype("int32")


def paths_and_labels_to_dataset(image_paths: list, image_size: tuple, num_channels: int,
                                labels: Any, label_mode: str | None, num_classes: int,
                                interpolation: str, data_format: str,
                                crop_to_aspect_ratio: bool = False,
                                pad_to_aspect_ratio: bool = False, shuffle: bool = False,
                                seed: int | None = None, batch_size: int | None = None) -> Any:
    """A Dataset that reads and resizes the images batch by batch; with `shuffle`, each
    pass over it visits the files in a new order drawn from `seed`."""
    from ndflow.data.dataset import Dataset

    lab = _labels_array(labels, label_mode, num_classes)
    n = len(image_paths)
    order = Dataset.from_tensor_slices(np.arange(n))
    if shuffle:
        order = order.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    args = (tuple(image_size), num_channels, interpolation, data_format, crop_to_aspect_ratio,
            pad_to_aspect_ratio)

    def make(ctx: Any = None) -> Any:  # (Dataset passes an iteration context)
        idx = np.fromiter((int(i) for i in order.as_numpy_iterator()), dtype=np.int64, count=n)
        step = batch_size or 1
        for s in range(0, n, step):
            sel = idx[s:s + step]
            imgs = np.stack([_load_image(image_paths[i], *args) for i in sel])
            if batch_size is None:
                imgs = imgs[0]
            if lab is None:
                yield imgs
            else:
                yield (imgs, lab[sel] if batch_size else lab[sel[0]])

    card = n if batch_size is None else -(-n // batch_size)
    return Dataset(make, card)


def image_dataset_from_directory(directory: str, labels: Any = "inferred",
                                 label_mode: str | None = "int", class_names: Any = None,
                                 color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size: tuple = (256, 256), shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False, data_format: str | None = None,
                                 format: str = "tf", verbose: bool = True) -> Any:
    """A `Dataset` of ``(images, labels)`` batches (float32 images of `image_size`) from
    the image files under `directory` (bmp, gif, jpeg, jpg, png), as Keras gives it: labels
    inferred from subfolders (int32, one-hot float32 with ``"categorical"``, float32 (n, 1)
    with ``"binary"``), ``.class_names`` and ``.file_paths`` attributes, the last
    `validation_split` of the (seed-shuffled) files for ``subset="validation"`` (``"both"``
    returns ``[training, validation]``). `format` is accepted for Keras compatibility (an
    ndflow Dataset is returned). Interpolation: "bilinear" or "nearest"."""
    from ndflow.keras.utils.image_utils import _data_format

    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of "
                             "the same size as the number of image files in the target "
                             "directory. If you wish to infer the labels from the "
                             "subdirectory names in the target directory, pass "
                             f'`labels="inferred"`. Received: labels={labels!r}')
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels='inferred'`. "
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    interpolation = str(interpolation).lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"image_dataset_from_directory: `interpolation` expected one of "
                         f"{_INTERPOLATIONS}, got {interpolation!r} (bicubic, area, lanczos "
                         "and the other Keras methods are not implemented in ndflow)")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be "
                         "set to `True`.")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: '
                         f"format={format}")
    image_size = tuple(int(s) for s in image_size)
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labs, names = index_directory(os.fspath(directory), labels, IMAGE_FORMATS,
                                         class_names=class_names, shuffle=shuffle, seed=seed,
                                         follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    data_format = _data_format(data_format)
    common = {"image_size": image_size, "num_channels": channels, "label_mode": label_mode,
              "num_classes": len(names) if names else 0, "interpolation": interpolation,
              "data_format": data_format, "crop_to_aspect_ratio": crop_to_aspect_ratio,
              "pad_to_aspect_ratio": pad_to_aspect_ratio, "batch_size": batch_size}

    def make(subset_name: str | None, shuffled: bool) -> Any:
        p, lab = training_or_validation_split(paths, labs, validation_split, subset_name)
        if not p:
            raise ValueError(f"No {'' if subset_name is None else subset_name + ' '}images "
                             f"found in directory {directory}. Allowed formats: "
                             f"{IMAGE_FORMATS}")
        ds = paths_and_labels_to_dataset(p, labels=lab, shuffle=shuffled, seed=seed, **common)
        ds.class_names = names
        ds.file_paths = p
        return ds

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)

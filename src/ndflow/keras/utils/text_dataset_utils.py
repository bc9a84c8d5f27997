"""`text_dataset_from_directory`: a labelled text dataset from a folder of class folders of
`.txt` files, with Keras's arguments, file order, shuffling seed and validation split.

    main_directory/
        class_a/  a_text_1.txt  a_text_2.txt
        class_b/  b_text_1.txt

Files are read lazily, one batch at a time; texts are string tensors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ndflow.data.dataset import Dataset
from ndflow.keras.utils.image_dataset_utils import check_validation_split_arg


def _index_directory(directory: str, labels: Any, class_names: Any, shuffle: bool, seed: int,
                     follow_links: bool, verbose: bool) -> tuple[list, Any, Any]:
    """Keras's file indexing: sorted class folders, files sorted within each (recursively),
    then one shuffle of paths and labels with `np.random.RandomState(seed)`."""
    if not os.path.isdir(directory):
        raise ValueError(f"text_dataset_from_directory: directory {directory!r} does not exist "
                         "or is not a folder")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 f"subdirectories of the target directory. Expected: {subdirs} "
                                 f"(or a subset of it), but received: class_names={class_names}")
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            raise ValueError("When `labels` is not 'inferred', `class_names` cannot be given.")
    filenames: list = []
    label_list: list = []
    for index, sub in enumerate(subdirs):
        root_dir = os.path.join(directory, sub)
        walk = sorted(os.walk(root_dir, followlinks=follow_links), key=lambda w: w[0])
        if not follow_links:
            walk = [w for w in walk if not os.path.islink(w[0]) or w[0] == root_dir]
        for root, _, files in walk:
            for fname in sorted(files):
                if fname.lower().endswith(".txt"):
                    filenames.append(os.path.join(root, fname))
                    label_list.append(index)
    if labels == "inferred":
        out_labels: Any = np.asarray(label_list, np.int32)
        names: Any = subdirs
    elif labels is None:
        out_labels, names = None, None
    else:
        if len(labels) != len(filenames):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        out_labels = np.asarray(labels)
        names = [str(v) for v in sorted(set(labels))]
    if verbose:
        if out_labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(names)} classes.")
    if shuffle:
        rng = np.random.RandomState(seed)
        rng.shuffle(filenames)
        if out_labels is not None:
            rng = np.random.RandomState(seed)
            rng.shuffle(out_labels)
    return filenames, out_labels, names


def _split(paths: list, labels: Any, validation_split: float | None, subset: str | None,
           verbose: bool) -> tuple[list, Any]:
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    if subset == "training":
        if verbose:
            print(f"Using {len(paths) - n_val} files for training.")
        return paths[:len(paths) - n_val], None if labels is None else labels[:len(paths) - n_val]
    if verbose:
        print(f"Using {n_val} files for validation.")
    return paths[len(paths) - n_val:], None if labels is None else labels[len(paths) - n_val:]


def _dataset(paths: list, labels: Any, label_mode: str | None, num_classes: int,
             max_length: int | None, batch_size: int | None, shuffle: bool,
             seed: int) -> Dataset:
    rng = np.random.RandomState(seed)

    def read(idx: np.ndarray) -> Any:
        texts = np.empty(len(idx), object)
        for j, i in enumerate(idx):
            with open(paths[i], "rb") as f:
                data = f.read()
            texts[j] = data[:max_length] if max_length is not None else data
        if label_mode is None:
            return texts
        y = labels[idx]
        if label_mode == "binary":
            y = y.astype(np.float32)[:, None]
        elif label_mode == "categorical":
            y = np.eye(num_classes, dtype=np.float32)[y]
        else:
            y = y.astype(np.int32)
        return texts, y

    def make(ctx: Any = None) -> Iterator:  # (Dataset passes an iteration context)
        order = np.arange(len(paths))
        if shuffle:
            rng.shuffle(order)
        if batch_size is None:
            for i in order:
                el = read(np.asarray([i]))
                yield tuple(a[0] for a in el) if isinstance(el, tuple) else el[0]
            return
        for b in range(0, len(order), batch_size):
            yield read(order[b:b + batch_size])

    card = len(paths) if batch_size is None else -(-len(paths) // batch_size)
    return Dataset(make, card)


def text_dataset_from_directory(directory: str, labels: Any = "inferred",
                                label_mode: str | None = "int", class_names: Any = None,
                                batch_size: int | None = 32, max_length: int | None = None,
                                shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None,
                                subset: str | None = None, follow_links: bool = False,
                                format: str = "tf", verbose: bool = True) -> Any:
    """A `Dataset` of `(texts, labels)` batches read from `directory`'s `.txt` files.

    `labels="inferred"` labels by class folder (sorted names, or `class_names`); `label_mode`
    "int" (int32), "categorical" (one-hot float32), "binary" (float32, shape (batch, 1)) or
    None (texts only). `subset="training"`, `"validation"` or `"both"` with
    `validation_split` takes the same split Keras takes for the same `seed`. The result has a
    `class_names` attribute. `max_length` truncates each text to that many bytes.
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of "
                             "the same size as the number of text files in the target "
                             "directory, 'inferred', or None. Received: labels={labels}")
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels=\"inferred\"`. "
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if format != "tf":
        raise ValueError(f'text_dataset_from_directory: format must be "tf" (an ndflow '
                         f'Dataset), got {format!r}')
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1e6))
    paths, labs, names = _index_directory(directory, labels, class_names, shuffle, seed,
                                          follow_links, verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    num_classes = len(names) if names else 0
    bs = None if batch_size is None else int(batch_size)
    subsets = ["training", "validation"] if subset == "both" else [subset]
    out = []
    for sub in subsets:
        p, lab = _split(paths, labs, validation_split, sub, verbose)
        if not p:
            which = f"{sub} " if sub and subset == "both" else ""
            raise ValueError(f"No {which}text files found in directory {directory}. Allowed "
                             "format: .txt")
        ds = _dataset(p, lab, label_mode, num_classes, max_length, bs,
                      shuffle and not (subset == "both" and sub == "validation"), seed)
        ds.class_names = names
        out.append(ds)
    return out if subset == "both" else out[0]

"""Regenerates keras_reference.json for the data utilities with real Keras 3 (whose
timeseries_dataset_from_array and text_dataset_from_directory need TensorFlow):

    KERAS_BACKEND=tensorflow python make_keras_reference.py
"""

import json
import os
import tempfile

import numpy as np

TIMESERIES = [
    {"sequence_length": 3, "batch_size": 4},
    {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 3},
    {"sequence_length": 5, "sampling_rate": 2, "start_index": 3, "end_index": 30,
     "batch_size": 5},
    {"sequence_length": 2, "batch_size": None, "end_index": 8},
    {"sequence_length": 6, "sequence_stride": 4, "batch_size": 100},
]
PAD = [
    ([[1, 2, 3], [4], [5, 6]], {}),
    ([[1, 2, 3], [4], [5, 6]], {"maxlen": 2}),
    ([[1, 2, 3], [4], [5, 6]], {"maxlen": 2, "padding": "post", "truncating": "post"}),
    ([[1, 2, 3], [], [5, 6]], {"maxlen": 4, "value": -1, "padding": "post"}),
    ([[0.5, 1.5], [2.5]], {"dtype": "float32"}),
    ([[[1, 2], [3, 4]], [[5, 6]]], {"maxlen": 3}),
]


def make_text_tree(root):
    """The folder the tests rebuild: 3 classes, nested subfolder, a non-.txt file."""
    for c, n in (("neg", 7), ("pos", 9), ("zzz", 4)):
        os.makedirs(os.path.join(root, c, "more"), exist_ok=True)
        for i in range(n):
            sub = "more" if i % 3 == 2 else ""
            with open(os.path.join(root, c, sub, f"{c}_{i:02d}.txt"), "w") as f:
                f.write(f"{c} text number {i} " + "x" * i)
    with open(os.path.join(root, "pos", "notes.md"), "w") as f:
        f.write("not a text sample")


def main():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    out = {"keras_version": keras.__version__, "timeseries": [], "pad": [], "text": []}
    data = np.arange(40 * 2).reshape(40, 2).astype("float32")
    targets = np.arange(100, 140)
    for kw in TIMESERIES:
        ds = keras.utils.timeseries_dataset_from_array(data, targets, **kw)
        xs, ys = [], []
        for x, y in ds:
            xs.append(x.numpy().tolist())
            ys.append(y.numpy().tolist())
        out["timeseries"].append({"kwargs": kw, "x": xs, "y": ys})
    for seqs, kw in PAD:
        out["pad"].append({"sequences": seqs, "kwargs": kw,
                           "output": keras.utils.pad_sequences(seqs, **kw).tolist(),
                           "dtype": str(keras.utils.pad_sequences(seqs, **kw).dtype)})
    with tempfile.TemporaryDirectory() as root:
        make_text_tree(root)
        cases = [
            {"shuffle": False, "batch_size": 4},
            {"shuffle": False, "batch_size": 5, "label_mode": "categorical",
             "max_length": 12},
            {"shuffle": False, "batch_size": None, "class_names": ["pos", "neg"],
             "label_mode": "binary"},
            {"shuffle": True, "seed": 1337, "validation_split": 0.25, "subset": "training"},
            {"shuffle": True, "seed": 1337, "validation_split": 0.25, "subset": "validation"},
            {"shuffle": True, "seed": 7, "validation_split": 0.3, "subset": "both"},
        ]
        for kw in cases:
            res = keras.utils.text_dataset_from_directory(root, **kw)
            dss = res if isinstance(res, list) else [res]
            parts = []
            for ds in dss:
                texts, labels = [], []
                for x, y in ds:
                    x, y = np.asarray(x.numpy(), object), np.asarray(y.numpy())
                    if x.ndim == 0:
                        x, y = x[None], y[None]
                    texts += [t.decode() for t in x]
                    labels += y.tolist()
                parts.append({"texts": texts, "labels": labels,
                              "class_names": ds.class_names})
            out["text"].append({"kwargs": kw, "parts": parts})
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "keras_reference.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()

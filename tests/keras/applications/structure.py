"""A model's structure as Keras defines it: its name, the (name, class, weight shapes) of each
layer in order, and its parameter counts. Shared by the tests (ndflow) and by
make_keras_structure.py (real Keras), so both sides summarise models the same way."""

import hashlib
import json


def layer_table(model) -> list:
    return [[la.name, type(la).__name__, [list(map(int, w.shape)) for w in la.weights]]
            for la in model.layers]


def summary(model) -> dict:
    table = layer_table(model)
    digest = hashlib.sha256(json.dumps(table).encode()).hexdigest()
    trainable = sum(_size(w.shape) for w in model.trainable_weights)
    total = sum(_size(w.shape) for w in model.weights)
    return {"name": model.name, "layers": len(table), "digest": digest, "params": total,
            "trainable": trainable}


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n

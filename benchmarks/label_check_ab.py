"""In-process A/B: W1 `fit` with the compiled label checks (the `class_ids` op in the sparse
cross-entropy) against the same step without them (the labels only cast, as before the check
existed). Both models are traced once, then their epochs alternate A B A B in one process, so
machine noise hits both alike; the report gives each pair's ratio and the median.

    PYTHONPATH=src python benchmarks/label_check_ab.py [--pairs 6] [--samples 60000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def build(keras):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.RMSprop(1e-3), "sparse_categorical_crossentropy")
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--samples", type=int, default=60_000)
    args = ap.parse_args()
    import ndflow as tf
    from ndflow import keras
    from ndflow.keras.losses import losses

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.samples, 784)).astype("float32")
    y = rng.integers(0, 10, args.samples).astype("int64")
    warm = 736

    with_check = build(keras)
    with_check.fit(x[:warm], y[:warm], batch_size=128, epochs=1, verbose=0)
    original = losses._sparse_labels

    def cast_only(name, y_true, y_pred, axis):  # the step as it was: no value checks
        t = tf.convert_to_tensor(y_true)
        if len(t.shape) == len(y_pred.shape) and t.shape[-1] == 1:
            t = tf.squeeze(t, -1)
        return tf.cast(t, "int64") if t.dtype.is_floating else t

    losses._sparse_labels = cast_only
    try:
        without = build(keras)
        without.fit(x[:warm], y[:warm], batch_size=128, epochs=1, verbose=0)  # traced now
    finally:
        losses._sparse_labels = original

    def epoch(model) -> float:
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=False)
        return args.samples / (time.perf_counter() - t0)

    print(f"load before: {os.getloadavg()[0]:.2f}; NDFLOW_JIT={os.environ.get('NDFLOW_JIT')}")
    ratios = []
    for i in range(args.pairs):
        a, b = (epoch(with_check), epoch(without)) if i % 2 == 0 else \
            tuple(reversed((epoch(without), epoch(with_check))))
        ratios.append(a / b)
        print(f"pair {i + 1}: with checks {a:,.0f} samples/s, without {b:,.0f}, ratio "
              f"{a / b:.3f}")
    print(f"median ratio with/without: {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); load after: "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

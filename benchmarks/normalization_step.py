"""Forward + backward of one LayerNormalization / BatchNormalization layer (training mode),
eagerly and inside `ndflow.function` (what `fit` runs): the best of N calls in milliseconds.

    python benchmarks/normalization_step.py            # both layers
    PYTHONPATH=/other/src python benchmarks/normalization_step.py   # another tree, for A/B

Shapes: LayerNormalization on (64, 64, 128) over the last axis; BatchNormalization on
(64, 16, 16, 32) over all but the channels. Best-of-N is used because the machine is shared.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def measure(kind: str, calls: int) -> dict:
    import ndflow as tf
    from ndflow import keras

    rng = np.random.default_rng(0)
    if kind == "layer_norm":
        x = rng.standard_normal((64, 64, 128)).astype("float32")
        layer = keras.layers.LayerNormalization()
    else:
        x = rng.standard_normal((64, 16, 16, 32)).astype("float32")
        layer = keras.layers.BatchNormalization()
    layer.build(x.shape)
    xt = tf.constant(x)
    up = tf.constant(rng.standard_normal(x.shape).astype("float32"))

    def grads(v, u):  # noqa: ANN001, ANN202
        with tf.GradientTape() as tape:
            tape.watch(v)
            s = tf.reduce_sum(layer(v, training=True) * u)
        return tape.gradient(s, [v, *layer.trainable_variables])

    out = {}
    for name, fn in (("eager", grads), ("graph", tf.function(grads))):
        fn(xt, up)
        best = float("inf")
        for _ in range(calls):
            t0 = time.perf_counter()
            fn(xt, up)
            best = min(best, time.perf_counter() - t0)
        out[name] = best * 1e3
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=30)
    args = ap.parse_args()
    import os

    print(f"load: {os.getloadavg()}")
    for kind in ("layer_norm", "batch_norm"):
        r = measure(kind, args.calls)
        print(f"{kind}: eager {r['eager']:.2f} ms, graph {r['graph']:.2f} ms (best of "
              f"{args.calls})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

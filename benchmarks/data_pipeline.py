"""Input pipeline overlap: a `map` with simulated I/O (a sleep per element, plus a small NumPy
decode) feeding W1 `fit` (784 -> Dense(512, relu) -> Dense(10, softmax), RMSprop, batch 128).

Each element is a chunk of 16 uint8 samples that takes `--io-ms` (default 2 ms) to "read";
`rebatch(128)` regroups chunks into training batches. Epoch times are reported for:

  compute   the model on in-memory batches (no I/O)
  io        iterating the pipeline alone (no model)
  serial    map without parallelism, no prefetch, feeding fit  (about compute + io)
  overlap   map(num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE) feeding fit
            (about max(compute, io / parallelism))

The same script runs under TensorFlow (`--framework tensorflow`, in an environment that has it)
for the side-by-side numbers. Timings are wall-clock on a shared machine: note the load.

    PYTHONPATH=src python benchmarks/data_pipeline.py
    /work/tfenv/bin/python benchmarks/data_pipeline.py --framework tensorflow
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

CHUNK = 16
BATCH = 128


def load(framework: str):
    if framework == "ndflow":
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
        import ndflow as tf
        from ndflow import keras
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        keras = tf.keras
    return tf, keras


def make_model(keras, seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss="sparse_categorical_crossentropy")
    return model


def pipeline(tf, raw_x, raw_y, io_ms: float, parallel: bool):
    def read(x, y):
        def slow(a):
            time.sleep(io_ms / 1000.0)  # the simulated read: releases the GIL like file I/O
            return (a.astype(np.float32) / 255.0).reshape(CHUNK, 784)  # the "decode"

        x = tf.numpy_function(slow, [x], tf.float32)
        return tf.reshape(x, [CHUNK, 784]), y

    ds = tf.data.Dataset.from_tensor_slices((raw_x, raw_y))
    if parallel:
        ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(read)
    ds = ds.rebatch(BATCH)
    return ds.prefetch(tf.data.AUTOTUNE) if parallel else ds


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--framework", default="ndflow", choices=["ndflow", "tensorflow"])
    p.add_argument("--batches", type=int, default=40, help="training batches per epoch")
    p.add_argument("--io-ms", type=float, default=2.0, help="simulated read time per chunk")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    tf, keras = load(a.framework)

    n = a.batches * BATCH
    rng = np.random.default_rng(0)
    raw_x = rng.integers(0, 256, (n // CHUNK, CHUNK, 28, 28), dtype=np.uint8)
    raw_y = rng.integers(0, 10, (n // CHUNK, CHUNK)).astype(np.int64)
    xs = (raw_x.astype(np.float32) / 255.0).reshape(n, 784)
    ys = raw_y.reshape(n)

    model = make_model(keras)
    mem = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(BATCH)
    serial = pipeline(tf, raw_x, raw_y, a.io_ms, parallel=False)
    overlap = pipeline(tf, raw_x, raw_y, a.io_ms, parallel=True)
    for ds in (mem, serial, overlap):  # warm-up: trace/compile every batch shape once
        model.fit(ds.take(2), epochs=1, verbose=0)

    def iterate(ds):
        for _ in ds:
            pass

    rows = {
        "compute": timed(lambda: model.fit(mem, epochs=1, verbose=0), a.repeats),
        "io (serial map)": timed(lambda: iterate(serial), a.repeats),
        "io (parallel map + prefetch)": timed(lambda: iterate(overlap), a.repeats),
        "serial: map, no prefetch, fit": timed(lambda: model.fit(serial, epochs=1, verbose=0),
                                               a.repeats),
        "overlap: map(AUTOTUNE).prefetch(AUTOTUNE), fit": timed(
            lambda: model.fit(overlap, epochs=1, verbose=0), a.repeats),
    }
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{a.framework}: {n} samples/epoch ({n // CHUNK} chunks of {CHUNK}, {a.io_ms} ms "
          f"simulated I/O per chunk = {n // CHUNK * a.io_ms / 1000:.2f} s serial I/O), "
          f"median of {a.repeats}; load average {load1:.2f} on {os.cpu_count()} CPUs")
    for k, v in rows.items():
        print(f"  {k:48s} {v:7.3f} s/epoch")
    c, io = rows["compute"], rows["io (serial map)"]
    print(f"  {'sum(compute, io) / max(compute, io)':48s} {c + io:7.3f} / {max(c, io):.3f}")


if __name__ == "__main__":
    main()

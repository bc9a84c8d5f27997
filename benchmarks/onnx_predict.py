"""Predict throughput of the W1 MLP and the W2 convnet (WORKLOADS.md): ndflow's
`model.predict` vs onnxruntime running the same model exported with `model.export(format=
"onnx")`, and ndflow running that ONNX file again through `ndflow.onnx.load`.

Each (workload, runtime) runs in its own process with the same environment (no thread
variables set; onnxruntime keeps its default threading). Batch 128 over the workload's
samples; warm-up on 5 batches and one calibration pass, then 3 regions of whole passes, each
region at least `min_time` seconds; the median region gives samples/second.

    PYTHONPATH=src python benchmarks/onnx_predict.py            # ~1-2 min
    PYTHONPATH=src python benchmarks/onnx_predict.py --quick    # smoke run

Needs `ndflow[onnx]`. Prints a Markdown table with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import W1_BATCH, W1_SAMPLES, W2_SAMPLES, w1_data, w1_init_weights  # noqa: E402
from w2_convnet import w2_data, w2_init_weights  # noqa: E402

RUNTIMES = ("ndflow", "onnxruntime", "ndflow-onnx-import")


def build(workload: str):
    from ndflow import keras

    layers = keras.layers
    if workload == "W1":
        model = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        model.set_weights(w1_init_weights())
        return model, w1_data
    model = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2), layers.Flatten(), layers.Dropout(0.5),
        layers.Dense(10, activation="softmax")])
    model.set_weights(w2_init_weights())
    return model, w2_data


def worker(workload: str, runtime: str, quick: bool) -> dict:
    n = {"W1": W1_SAMPLES, "W2": W2_SAMPLES}[workload] // (8 if quick else 1)
    min_time = 0.5 if quick else 3.0
    model, data = build(workload)
    x = data(n)[0]
    bs = W1_BATCH
    if runtime == "ndflow":
        def run(xs):
            return model.predict(xs, batch_size=bs, verbose=0)
    else:
        path = os.path.join(tempfile.mkdtemp(), f"{workload}.onnx")
        model.export(path, format="onnx")
        if runtime == "onnxruntime":
            import onnxruntime as ort

            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            name = sess.get_inputs()[0].name

            def run(xs):
                return np.concatenate([sess.run(None, {name: xs[i:i + bs]})[0]
                                       for i in range(0, len(xs), bs)])
        else:
            import ndflow as tf

            imported = tf.onnx.load(path)

            def run(xs):
                return imported.predict(xs, batch_size=bs)

    def one_pass():
        return run(x)

    warm = x[:5 * bs]  # warm-up, and the check that the outputs agree with ndflow's
    diff = float(np.max(np.abs(run(warm) - model.predict(warm, batch_size=bs, verbose=0))))
    t0 = time.perf_counter()
    one_pass()  # calibration pass
    passes = max(1, math.ceil(min_time * 1.15 / max(time.perf_counter() - t0, 1e-9)))
    regions = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(passes):
            one_pass()
        regions.append(time.perf_counter() - t0)
    return {"samples_per_s": n * passes / statistics.median(regions), "max_abs_diff": diff,
            "samples": n, "passes": passes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "RUNTIME"))
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.quick)))
        return
    load_before = os.getloadavg()
    rows = []
    for workload in ("W1", "W2"):
        res = {}
        for runtime in RUNTIMES:
            cmd = [sys.executable, __file__, "--worker", workload, runtime] + (
                ["--quick"] if args.quick else [])
            out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
            if out.returncode != 0:
                res[runtime] = {"error": out.stderr.strip().splitlines()[-1]}
            else:
                res[runtime] = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((workload, res))
    load_after = os.getloadavg()
    print(f"## Predict throughput, batch {W1_BATCH} (samples/s, median of 3 regions)\n")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} CPUs){'; --quick' if args.quick else ''}\n")
    print("| workload | " + " | ".join(RUNTIMES) + " | ndflow / onnxruntime |")
    print("|---|" + "---|" * (len(RUNTIMES) + 1))
    for workload, res in rows:
        cells = []
        for r in RUNTIMES:
            v = res[r]
            cells.append(f"error: {v['error']}" if "error" in v else
                         f"{v['samples_per_s']:,.0f}" + (
                             f" (max diff {v['max_abs_diff']:.1e})" if r != "ndflow" else ""))
        ratio = ("" if any("error" in res[r] for r in ("ndflow", "onnxruntime")) else
                 f"{res['ndflow']['samples_per_s'] / res['onnxruntime']['samples_per_s']:.2f}")
        print(f"| {workload} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()

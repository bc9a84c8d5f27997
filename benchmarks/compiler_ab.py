"""Graph-compiler A/B: W1, W1g (GELU), W2, W2t (the W2 convnet in `tf.nn` ops under
`ndflow.function`) for ndflow (this tree, and optionally a baseline tree), PyTorch,
TensorFlow (the very same script with `import tensorflow as tf`; Keras 3 on TensorFlow for the
layer workloads) and Keras 3 on JAX (layer workloads), in alternating subprocesses
(A B C A B C ...), every process with the same environment and, by default, one BLAS /
OpenMP / TensorFlow / XLA thread (so a busy core does not collapse a multi-threaded BLAS),
reporting samples/s medians and ratios. The peers need the benchmark interpreter
(benchmarks/make_env.py); a framework that is not importable is reported as an error row.

    python benchmarks/compiler_ab.py                          # this tree vs torch, 2 rounds
    python benchmarks/compiler_ab.py --baseline /path/to/old/src --rounds 3
    python benchmarks/compiler_ab.py --workloads W2,W2t --peers torch,tensorflow,keras-jax
    python benchmarks/compiler_ab.py --threads 0              # each framework's own threads

Short regions (a few seconds): a check of ratios on a noisy machine, not the WORKLOADS.md
method (benchmarks/run.py is that). Keras on TensorFlow's W2 training is bimodal on the
2-core machine: about 6,500 or about 10,000 samples/s from one process to the next (seen in
run.py and here, 2026-12-04, with up to ±16% inside a run); compare it over several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import pin_threads

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
WORKLOADS = ("W1", "W1g", "W2", "W2t")

_CHILD = r'''
import json, sys, time
import numpy as np
impl, workload, seconds, bench_dir = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(0)
conv = workload.startswith("W2")
n = 2048 if conv else 8192
x = rng.random((n, 28, 28, 1) if conv else (n, 784), dtype=np.float32)
y = rng.integers(0, 10, n)
B = 128
out = {}

def timed(step_epoch, samples):
    step_epoch()  # warm-up: traces and compiles
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step_epoch()
        done += samples
    return done / (time.perf_counter() - t0)

if impl == "torch":
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    if conv:
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Dropout(0.5), nn.Linear(1600, 10))
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
        opt = torch.optim.Adam(model.parameters(), 1e-3, eps=1e-7)
    else:
        act = nn.GELU() if workload == "W1g" else nn.ReLU()
        model = nn.Sequential(nn.Linear(784, 512), act, nn.Linear(512, 10))
        xt = torch.from_numpy(x)
        opt = torch.optim.RMSprop(model.parameters(), 1e-3, alpha=0.9, eps=1e-7)
    yt = torch.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()
    batches = [(xt[i:i + B], yt[i:i + B]) for i in range(0, n, B)]

    def epoch():
        model.train()
        for xb, yb in batches:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()

    def predict():
        model.eval()
        with torch.no_grad():
            for xb, _ in batches:
                model(xb)
    out["train"] = timed(epoch, n)
    out["predict"] = timed(predict, n)
else:
    if impl == "ndflow":
        import ndflow as tf
        from ndflow import keras
    else:  # tensorflow, keras-jax: the same script on Keras 3 / TensorFlow
        import keras
        if impl == "tensorflow":
            import tensorflow as tf
    if workload == "W2t":
        def glorot(shape, fi, fo):
            lim = np.sqrt(6.0 / (fi + fo))
            return tf.Variable(rng.uniform(-lim, lim, shape).astype(np.float32))
        params = [glorot((3, 3, 1, 32), 9, 288), tf.Variable(np.zeros(32, np.float32)),
                  glorot((3, 3, 32, 64), 288, 576), tf.Variable(np.zeros(64, np.float32)),
                  glorot((1600, 10), 1600, 10), tf.Variable(np.zeros(10, np.float32))]
        opt = keras.optimizers.Adam(1e-3)

        def forward(xb, training):
            w1, b1, w2, b2, w3, b3 = params
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(xb, w1, 1, "VALID"), b1))
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, w2, 1, "VALID"), b2))
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.reshape(h, (-1, 1600))
            if training:
                h = tf.nn.dropout(h, 0.5)
            return tf.matmul(h, w3) + b3

        @tf.function
        def train_step(xb, yb):
            with tf.GradientTape() as tape:
                logits = forward(xb, True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits))
            opt.apply_gradients(zip(tape.gradient(loss, params), params))
            return loss

        @tf.function
        def predict_step(xb):
            return tf.nn.softmax(forward(xb, False))

        batches = [(tf.constant(x[i:i + B]), tf.constant(y[i:i + B])) for i in range(0, n, B)]

        def epoch():
            for xb, yb in batches:
                train_step(xb, yb)

        def predict():
            for xb, _ in batches:
                predict_step(xb)
    else:
        sys.path.insert(0, bench_dir)
        from common import keras_w1_w2_model
        model = keras_w1_w2_model(keras, workload)

        def epoch():
            model.fit(x, y, batch_size=B, epochs=1, verbose=0)

        def predict():
            model.predict(x, batch_size=B, verbose=0)
    out["train"] = timed(epoch, n)
    out["predict"] = timed(predict, n)
print("RESULT " + json.dumps(out))
'''


PEERS = ("torch", "tensorflow", "keras-jax")


def run_one(impl: str, src: str | None, workload: str, seconds: float, threads: int = 1
            ) -> dict:
    env = pin_threads(dict(os.environ), threads)
    if src:
        env["PYTHONPATH"] = src
    if impl in ("tensorflow", "keras-jax"):
        env["KERAS_BACKEND"] = "jax" if impl == "keras-jax" else "tensorflow"
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    kind = impl if impl in PEERS else "ndflow"
    p = subprocess.run([sys.executable, "-c", _CHILD, kind, workload, str(seconds), str(HERE)],
                       capture_output=True, text=True, env=env, timeout=1800)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (p.stderr or p.stdout)[-400:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", help="src folder of another ndflow tree (before)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--peers", default="torch",
                    help=f"comma-separated subset of {','.join(PEERS)} (default: torch)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/OpenMP/TF/XLA threads per process; 0 = each framework's own")
    args = ap.parse_args()
    impls: dict = {"ndflow": str(SRC)}
    if args.baseline:
        impls["baseline"] = args.baseline
    impls.update({p: None for p in args.peers.split(",") if p})
    results: dict = {}
    print(f"load before: {os.getloadavg()[0]:.1f}; threads per process: "
          f"{args.threads or 'default'}", flush=True)
    for w in args.workloads.split(","):
        for r in range(args.rounds):
            order = list(impls) if r % 2 == 0 else list(impls)[::-1]
            for impl in order:
                if impl in ("torch", "keras-jax") and w == "W2t":
                    continue  # no tf.nn spelling there: their W2 row is the comparison
                res = run_one(impl, impls[impl], w, args.seconds, args.threads)
                results.setdefault((w, impl), []).append(res)
                print(f"{w} {impl} round {r}: {res} (load {os.getloadavg()[0]:.1f})",
                      flush=True)
    print("\n| workload | impl | train samples/s | predict samples/s |")
    print("|---|---|---|---|")
    med: dict = {}
    for (w, impl), rs in results.items():
        ok = [x for x in rs if "train" in x]
        if not ok:
            print(f"| {w} | {impl} | error | {rs[-1].get('error', '')[:60]} |")
            continue
        t = statistics.median(x["train"] for x in ok)
        p = statistics.median(x["predict"] for x in ok)
        med[(w, impl)] = (t, p)
        print(f"| {w} | {impl} | {t:.0f} | {p:.0f} |")
    print("\nratios (ndflow / other, train and predict):")
    for (w, impl), (t, p) in med.items():
        if impl == "ndflow":
            continue
        if (w, "ndflow") in med:
            nt, np_ = med[(w, "ndflow")]
            print(f"- {w}: ndflow / {impl} = {nt / t:.2f} train, {np_ / p:.2f} predict")
    if ("W2t", "ndflow") in med and ("W2", "ndflow") in med:
        print(f"- W2t / W2 (ndflow) = {med[('W2t', 'ndflow')][0] / med[('W2', 'ndflow')][0]:.2f}"
              " train")
    print(f"load after: {os.getloadavg()[0]:.1f} at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()

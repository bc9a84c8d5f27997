"""Scaling report for `ndflow.distribute` (a benchmark, not a test).

1. Measured, 2 workers over TCP on this machine (``mpirun -n 2 --mca btl tcp,self``):
   the all-reduce time of one message against its size (fitted to t = a + b * bytes), and the
   gradient all-reduce time per training step for the W2, W1 and W4 parameter sets, bucketed
   (25 MiB buffers, ndflow's default) against one all-reduce per tensor.
2. Measured, 1 process: the compute time of one training step of W1 and W2 (ndflow `fit`
   path, `train_on_batch`); W4 (no MultiHeadAttention layer in ndflow yet) from its FLOPs at
   the FLOP rate W1 reaches.
3. Predicted: a ring all-reduce alpha-beta model, t(p) = k * 2(p-1) * alpha +
   2(p-1)/p * bytes * beta (k all-reduces per step), with alpha from the measured latency and
   beta from a 10 or 100 Gb/s link; efficiency of weak scaling (each worker keeps the
   workload's batch, no overlap of communication with compute) = t_compute / (t_compute +
   t(p)) for 8-256 workers. This is a model, not a measurement.

    python benchmarks/distribute_scaling.py [--quick]

Timings on a shared machine are noisy: the report states the load average it ran under.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The workloads' trainable tensors (../shared/WORKLOADS.md), shapes as Keras makes them.
W1 = [(784, 512), (512,), (512, 10), (10,)]
W2 = [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (1600, 10), (10,)]
_BLOCK = ([(128, 4, 32), (4, 32)] * 3 + [(4, 32, 128), (128,)]  # MHA q, k, v, output
          + [(128,), (128,)]  # LayerNormalization
          + [(128, 256), (256,), (256, 128), (128,)]  # feed-forward
          + [(128,), (128,)])  # LayerNormalization
W4 = [(10000, 128), (128, 128)] + _BLOCK * 2 + [(128, 1), (1,)]
MODELS = {"W2": W2, "W1": W1, "W4": W4}
# many small tensors (as deep nets' biases and normalization parameters): where fusing pays
MANY_SMALL = [(1000,)] * 200
BATCH = {"W1": 128, "W2": 128, "W4": 32}
# training FLOPs per sample (3x forward), for W4 only (W1 and W2 are timed)
W4_FWD_PER_BLOCK = (3 * 2 * 128 * 128 * 128 + 2 * 2 * 128 * 128 * 128 + 2 * 128 * 128 * 128
                    + 2 * 128 * (128 * 256 * 2))
W4_TRAIN_FLOP_PER_SAMPLE = 3 * 2 * W4_FWD_PER_BLOCK
W1_TRAIN_FLOP_PER_SAMPLE = 3 * 2 * (784 * 512 + 512 * 10)
W2_TRAIN_FLOP_PER_SAMPLE = 3 * (2 * 26 * 26 * 9 * 32 + 2 * 11 * 11 * 9 * 32 * 64 + 2 * 1600 * 10)
FLOP_PER_STEP = {"W1": W1_TRAIN_FLOP_PER_SAMPLE * BATCH["W1"],
                 "W2": W2_TRAIN_FLOP_PER_SAMPLE * BATCH["W2"],
                 "W4": W4_TRAIN_FLOP_PER_SAMPLE * BATCH["W4"]}
NODE_FLOPS = 1e12  # the assumed effective rate of a faster node (a server CPU / small GPU)


# --- worker side (under mpirun) -----------------------------------------------------------------
def _times(fn, comm, reps: int, warmup: int = 2) -> list[float]:
    """[min, median] seconds of `reps` timed calls (on a shared machine the minimum is the
    closer estimate of the uncontended cost; both are reported)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):  # the same count on every worker: a collective per call
        comm.barrier()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return [float(np.min(times)), float(np.median(times))]


def worker(out: str, quick: bool) -> None:
    from ndflow.distribute.collectives import DEFAULT_BUCKET_BYTES, BucketedAllReduce
    from ndflow.distribute.mpi import Communicator

    comm = Communicator.world()
    result: dict = {"size": comm.size, "latency": [], "models": {}}
    for k in range(0, 23, 2 if quick else 1):  # 4 B .. 16 MiB
        buf = np.ones(2 ** k, np.float32)
        reps = 5 if quick else (30 if k < 16 else 8)
        result["latency"].append([buf.nbytes] + _times(lambda b=buf: comm.allreduce_(b), comm,
                                                       reps))
    rng = np.random.default_rng(0)
    for name, shapes in [*MODELS.items(), ("200 x 1k floats", MANY_SMALL)]:
        grads = [rng.normal(size=s).astype(np.float32) for s in shapes]
        row = {"tensors": len(shapes), "bytes": int(sum(g.nbytes for g in grads))}
        ways = {"bucketed": BucketedAllReduce(comm, DEFAULT_BUCKET_BYTES),
                "per_tensor": BucketedAllReduce(comm, 0)}
        samples: dict = {k: [] for k in ways}
        for _ in range(5 if quick else 20):  # alternated, so both see the same machine noise
            for label, ar in ways.items():
                samples[label].append(_times(lambda ar=ar, g=grads: ar(g, 0.5), comm, 1, 1)[0])
        for label, ar in ways.items():
            row[label] = float(np.min(samples[label]))
            row[label + "_median"] = float(np.median(samples[label]))
            row[label + "_messages"] = ar.last_num_buckets
        result["models"][name] = row
    if comm.rank == 0:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(result, f)


# --- launcher side --------------------------------------------------------------------------------
def compute_times(quick: bool) -> dict:
    """Seconds per training step in this one process, for W1 and W2 (ndflow's compiled step)."""
    from ndflow import keras

    out = {}
    rng = np.random.default_rng(0)
    models = {
        "W1": (lambda: keras.Sequential([keras.Input((784,)),
                                         keras.layers.Dense(512, activation="relu"),
                                         keras.layers.Dense(10, activation="softmax")]),
               (784,), "rmsprop"),
        "W2": (lambda: keras.Sequential([
            keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2), keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax")]), (28, 28, 1), "adam"),
    }
    for name, (make, shape, opt) in models.items():
        model = make()
        model.compile(opt, "sparse_categorical_crossentropy")
        x = rng.random((BATCH[name],) + shape, dtype=np.float32)
        y = rng.integers(0, 10, BATCH[name])
        for _ in range(3):
            model.train_on_batch(x, y)
        reps = 5 if quick else 20
        t = []
        for _ in range(reps):
            t0 = time.perf_counter()
            model.train_on_batch(x, y)
            t.append(time.perf_counter() - t0)
        out[name] = float(np.median(t))
    rate = FLOP_PER_STEP["W1"] / out["W1"]
    out["W4"] = FLOP_PER_STEP["W4"] / rate
    out["flop_rate"] = rate
    return out


def fit_alpha_beta(latency: list, size: int) -> tuple[float, float]:
    """alpha (s per ring step) and beta (s per byte) of a ring all-reduce on `size` workers,
    t = 2(p-1) alpha + 2(p-1)/p * bytes * beta: alpha from the smallest messages (<= 1 KiB),
    beta from the median slope of the messages of 64 KiB and more."""
    p = size
    small = [t for b, t, _ in latency if b <= 1024]
    alpha = float(np.median(small)) / (2 * (p - 1))
    big = [(t - 2 * (p - 1) * alpha) / (2 * (p - 1) / p * b) for b, t, _ in latency
           if b >= 65536]
    return alpha, max(float(np.median(big)), 0.0) if big else 0.0


def ring_time(p: int, nbytes: float, messages: int, alpha: float, beta: float) -> float:
    return messages * 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def report(res: dict, comp: dict, load: str) -> str:
    alpha, beta_lo = fit_alpha_beta(res["latency"], res["size"])
    lines = ["# ndflow.distribute scaling report\n",
             f"Machine load (uptime) when measured: {load}. Two workers on one machine over "
             "TCP loopback (`--mca btl tcp,self`).\n",
             "## Measured: one all-reduce against message size (2 workers, TCP)\n",
             "| bytes | min (us) | median (us) |", "|---:|---:|---:|"]
    lines += [f"| {b:,} | {t * 1e6:,.1f} | {m * 1e6:,.1f} |" for b, t, m in res["latency"]]
    lines += ["", f"Fit (ring model, p=2, minima): alpha = {alpha * 1e6:.1f} us per ring step, "
              f"beta = {beta_lo * 1e9:.3f} ns/byte ({8 / beta_lo / 1e9 if beta_lo else 0:.1f}"
              " Gb/s loopback).\n",
              "## Measured: gradient all-reduce per step (2 workers, TCP)\n",
              "Times in ms, minimum (median) of the repetitions.\n",
              "| model | tensors | MB | bucketed: messages, ms | per tensor: messages, ms | "
              "speed-up (min) |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in res["models"].items():
        lines.append(f"| {name} | {r['tensors']} | {r['bytes'] / 1e6:.2f} | "
                     f"{r['bucketed_messages']}, {r['bucketed'] * 1e3:.2f} "
                     f"({r['bucketed_median'] * 1e3:.2f}) | "
                     f"{r['per_tensor_messages']}, {r['per_tensor'] * 1e3:.2f} "
                     f"({r['per_tensor_median'] * 1e3:.2f}) | "
                     f"{r['per_tensor'] / r['bucketed']:.2f}x |")
    lines += ["", "## Measured: compute per training step (1 process)\n",
              "| model | batch | ms per step |", "|---|---:|---:|"]
    for name in ("W2", "W1", "W4"):
        note = " (from FLOPs at W1's rate)" if name == "W4" else ""
        lines.append(f"| {name} | {BATCH[name]} | {comp[name] * 1e3:.1f}{note} |")
    lines += ["", "## Predicted: weak-scaling efficiency, ring all-reduce alpha-beta model\n",
              f"alpha = {alpha * 1e6:.1f} us (measured above); beta from the link rate; "
              "per-worker batch as the workload's; no overlap of communication with compute. "
              "Compute per step: as measured on this machine, or FLOPs per step at an assumed "
              f"{NODE_FLOPS / 1e12:g} TFLOP/s node. A prediction from the model, not a "
              "measurement.\n",
              "| model | compute/step | link | all-reduces/step | " + " | ".join(
                  f"p={p}" for p in (8, 32, 64, 256)) + " |",
              "|---|---|---|---|" + "---:|" * 4]
    for name, r in res["models"].items():
        if name not in MODELS:
            continue
        for where, tc in (("this machine", comp[name]),
                          (f"{NODE_FLOPS / 1e12:g} TFLOP/s", FLOP_PER_STEP[name] / NODE_FLOPS)):
            for gbps in (10, 100):
                beta = 8 / (gbps * 1e9)
                for label, msgs in (("bucketed", r["bucketed_messages"]),
                                    ("per tensor", r["per_tensor_messages"])):
                    effs = []
                    for p in (8, 32, 64, 256):
                        t = ring_time(p, r["bytes"], msgs, alpha, beta)
                        effs.append(f"{100 * tc / (tc + t):.0f}%")
                    lines.append(f"| {name} | {where} ({tc * 1e3:.2f} ms) | {gbps} Gb/s | "
                                 f"{label} ({msgs}) | " + " | ".join(effs) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--worker", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.quick)
        return
    mpirun = shutil.which("mpirun", path=os.pathsep.join(
        [os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    if mpirun is None:
        sys.exit("mpirun not found: pip install 'ndflow[mpi]'")
    load = " ".join(open("/proc/loadavg").read().split()[:3]) if os.path.exists(
        "/proc/loadavg") else "unknown"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"),
                                                       os.environ.get("PYTHONPATH", "")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "res.json")
        cmd = [mpirun, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
               "--mca", "pml", "ob1", "--mca", "btl", "tcp,self", "-n", "2",
               "-x", "OMP_NUM_THREADS=1", "-x", "OPENBLAS_NUM_THREADS=1",
               sys.executable, os.path.abspath(__file__), "--worker", out] + (
                   ["--quick"] if args.quick else [])
        subprocess.run(cmd, env=env, check=True, timeout=600)
        with open(out, encoding="utf-8") as f:
            res = json.load(f)
    sys.path.insert(0, os.path.join(ROOT, "src"))
    comp = compute_times(args.quick)
    print(report(res, comp, load))


if __name__ == "__main__":
    main()

"""Shared pieces of the benchmark workers: the timing method, synthetic data, result output.

The method is the one of ../shared/WORKLOADS.md: warm up, then time regions of at least
`min_steps` steps and at least `min_time` seconds, repeat, report the median.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RESULT_MARK = "@@BENCH_RESULT@@ "

# Method parameters. --quick relaxes them (and says so in the report).
FULL = {"warmup": 5, "min_steps": 20, "min_time": 3.0, "repeats": 3}
QUICK = {"warmup": 2, "min_steps": 5, "min_time": 0.5, "repeats": 1}

# W1 (../shared/WORKLOADS.md): MLP 784 -> 512 (relu) -> 10 (softmax), batch 128, 60,000 samples.
W1_SAMPLES = 60_000
W1_QUICK_SAMPLES = 12_800
W1_BATCH = 128
W1_IN, W1_HIDDEN, W1_OUT = 784, 512, 10
# FLOPs per sample of one training step: 3 x the forward matmul FLOPs (WORKLOADS.md, L).
W1_TRAIN_FLOP_PER_SAMPLE = 3 * 2 * (W1_IN * W1_HIDDEN + W1_HIDDEN * W1_OUT)
W1_PREDICT_FLOP_PER_SAMPLE = 2 * (W1_IN * W1_HIDDEN + W1_HIDDEN * W1_OUT)
W1_LR, W1_RHO, W1_EPS = 1e-3, 0.9, 1e-7  # Keras 3 RMSprop defaults for rho and epsilon

# W2 (../shared/WORKLOADS.md): the small MNIST-shaped convnet, batch 128.
W2_SAMPLES = 6_144  # 48 batches of 128
W2_QUICK_SAMPLES = 512
W2_BATCH = 128
# Conv FLOPs per sample, forward: 2 * out_h * out_w * k * k * cin * cout per conv layer
# (26x26x32 from 1 channel, then 11x11x64 from 32); a training step counts 3x.
W2_CONV_FWD_FLOP_PER_SAMPLE = 2 * 26 * 26 * 3 * 3 * 1 * 32 + 2 * 11 * 11 * 3 * 3 * 32 * 64
W2_CONV_TRAIN_FLOP_PER_SAMPLE = 3 * W2_CONV_FWD_FLOP_PER_SAMPLE


class Skip(Exception):
    """Raised by a runner whose framework (or the part of it a workload needs) is missing."""


# Set by worker.py --repeats; None keeps the method's number of repeats.
REPEATS_OVERRIDE: int | None = None


def method(quick: bool) -> dict:
    m = dict(QUICK if quick else FULL)
    if REPEATS_OVERRIDE is not None:
        m["repeats"] = REPEATS_OVERRIDE
    return m


@dataclass
class Result:
    """What one worker process reports (one JSON line on stdout)."""

    framework: str
    workload: str
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, samples: list[float],
            higher_is_better: bool, **extra: Any) -> None:
        self.metrics[name] = {"value": value, "unit": unit, "samples": samples,
                              "higher_is_better": higher_is_better, **extra}

    def emit(self) -> None:
        self.info["peak_rss_mib"] = peak_rss_mib()
        payload = {"framework": self.framework, "workload": self.workload,
                   "metrics": self.metrics, "info": self.info}
        sys.stdout.write(RESULT_MARK + json.dumps(payload) + "\n")
        sys.stdout.flush()


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kib /= 1024
    return kib / 1024


def time_steps(step: Callable[[], Any], m: dict, sync: Callable[[], Any] | None = None
               ) -> tuple[list[float], list[int]]:
    """Warm up `m['warmup']` calls of `step`, then time `m['repeats']` regions.

    Each region runs `step` until at least `min_steps` calls and `min_time` seconds have
    passed. Returns (seconds per region, steps per region).
    """
    for _ in range(m["warmup"]):
        step()
    if sync is not None:
        sync()
    times, counts = [], []
    for _ in range(m["repeats"]):
        n = 0
        t0 = time.perf_counter()
        while True:
            step()
            n += 1
            if n >= m["min_steps"]:
                if sync is not None:
                    sync()
                if time.perf_counter() - t0 >= m["min_time"]:
                    break
        times.append(time.perf_counter() - t0)
        counts.append(n)
    return times, counts


def per_step_median(times: list[float], counts: list[int]) -> tuple[float, list[float]]:
    """Median seconds per step over the regions, and the per-region values."""
    per = [t / n for t, n in zip(times, counts)]
    return statistics.median(per), per


def add_throughput(res: Result, metric: str, n: int, per_region: int, times: list[float],
                   flop_per_sample: float) -> None:
    """Record samples/s of regions that each processed `per_region` passes over `n` samples
    (median, every region, and the GFLOP/s the median means)."""
    samples = n * per_region
    rates = [samples / t for t in times]
    med = statistics.median(rates)
    res.add(metric, med, "samples/s", rates, higher_is_better=True, region_seconds=times,
            region_samples=samples, gflops=med * flop_per_sample / 1e9)


def fit_region_times(keras: Any, model: Any, x: Any, y: Any, batch_size: int, epochs: int,
                     repeats: int) -> tuple[list[float], float]:
    """One `model.fit` of `repeats x epochs` epochs timed by a callback with epoch hooks only
    (batch hooks would add per-step work to the timed loop); returns each region's seconds
    (the sum of its `epochs` epoch times) and the last epoch's loss."""

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.begin: list[float] = []
            self.end: list[float] = []
            self.loss = float("nan")

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.begin.append(time.perf_counter())

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.end.append(time.perf_counter())
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])

    timer = EpochTimer()
    model.fit(x, y, batch_size=batch_size, epochs=repeats * epochs, verbose=0,
              callbacks=[timer])
    times = [sum(e - b for b, e in zip(timer.begin[r * epochs:(r + 1) * epochs],
                                       timer.end[r * epochs:(r + 1) * epochs]))
             for r in range(repeats)]
    return times, timer.loss


def predict_region_times(model: Any, x: Any, batch_size: int, passes: int,
                         repeats: int) -> tuple[list[float], Any]:
    """`repeats` regions of `passes` whole `model.predict` passes; returns each region's
    seconds and the last output."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(passes):
            out = model.predict(x, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - t0)
    return times, out


def w1_data(n: int = W1_SAMPLES) -> tuple[Any, Any]:
    """The synthetic W1 data: MNIST-shaped float32 inputs in [0, 1) and int labels 0..9."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((n, W1_IN), dtype=np.float32)
    y = rng.integers(0, W1_OUT, size=n).astype(np.int64)
    return x, y


def w1_init_weights() -> list[Any]:
    """Glorot-uniform kernels and zero biases (Keras Dense defaults), same for every framework."""
    import numpy as np

    rng = np.random.default_rng(1)

    def glorot(fan_in: int, fan_out: int) -> Any:
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, size=(fan_in, fan_out)).astype(np.float32)

    return [glorot(W1_IN, W1_HIDDEN), np.zeros(W1_HIDDEN, np.float32),
            glorot(W1_HIDDEN, W1_OUT), np.zeros(W1_OUT, np.float32)]


def w1_batches(x: Any, y: Any, batch: int = W1_BATCH) -> list[tuple[Any, Any]]:
    """Pre-made batches in order (the last one may be smaller, as in `fit`)."""
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]


def keras_w1_w2_model(keras: Any, workload: str) -> Any:
    """The compiled Keras model of W1 (W1g: GELU hidden layer) or W2 (the convnet), built with
    the given `keras` module (ndflow's or Keras 3's)."""
    L = keras.layers
    if workload == "W2":
        model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
                                  L.MaxPooling2D(2), L.Conv2D(64, 3, activation="relu"),
                                  L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5),
                                  L.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        return model
    act = "gelu" if workload == "W1g" else "relu"
    model = keras.Sequential([keras.Input((784,)), L.Dense(512, activation=act),
                              L.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.RMSprop(1e-3), "sparse_categorical_crossentropy")
    return model


def env_info() -> dict[str, Any]:
    keys = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "KERAS_BACKEND", "NDFLOW_JIT")
    return {k: os.environ.get(k) for k in keys if os.environ.get(k) is not None}


def pin_threads(env: dict, threads: int | None) -> dict:
    """Set `threads` BLAS / OpenMP / MKL / TensorFlow threads in a worker's environment (with
    one thread, XLA's multi-threaded Eigen off too); None or 0 leaves each framework's own."""
    if threads:
        for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                    "NDFLOW_INTRA_OP_THREADS"):
            env[key] = str(threads)
        if threads == 1:
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                                " --xla_cpu_multi_thread_eigen=false").strip()
    return env

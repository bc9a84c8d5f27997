"""W2: small convnet on MNIST-shaped data, trained through `model.fit` (Keras API) or a loop
(PyTorch), and predict throughput, both at batch 128.

28x28x1 -> Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu) -> MaxPooling2D(2)
-> Flatten -> Dropout(0.5) -> Dense(10, softmax); Adam(1e-3); sparse categorical
cross-entropy; W2_SAMPLES synthetic samples from numpy.random.default_rng(0).

Timing (the WORKLOADS.md method, sized so slow and fast frameworks both fit in a short run):
- warm-up: one `fit` (or loop) over the first 5 batches, then one calibration epoch over all
  samples (untimed for the result: it also finishes any retracing / caching);
- the calibration epoch's time sets `epochs` per region = the fewest whole epochs that take
  >= min_time (3 s), so every region is >= 3 s; then ONE `fit(epochs=repeats x epochs)`
  timed per epoch by a callback with only epoch hooks (PyTorch: a loop over pre-made batches);
- predict: the same with whole passes of `predict(x, batch_size=128)`.
Frameworks may process different sample counts per region (each just enough for >= 3 s).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from common import (
    W2_BATCH, W2_CONV_FWD_FLOP_PER_SAMPLE, W2_CONV_TRAIN_FLOP_PER_SAMPLE, W2_QUICK_SAMPLES,
    W2_SAMPLES, Result, Skip, add_throughput, fit_region_times, method, predict_region_times,
)

WARMUP_SAMPLES = 5 * W2_BATCH
W2_LR, W2_EPS = 1e-3, 1e-7  # Keras 3 Adam defaults for epsilon (PyTorch is given it)


def w2_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    return x, y


def w2_init_weights() -> list[np.ndarray]:
    """Glorot-uniform kernels (Keras layout) and zero biases, the same for every framework."""
    rng = np.random.default_rng(1)

    def glorot(shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, size=shape).astype(np.float32)

    return [glorot((3, 3, 1, 32), 9, 9 * 32), np.zeros(32, np.float32),
            glorot((3, 3, 32, 64), 9 * 32, 9 * 64), np.zeros(64, np.float32),
            glorot((1600, 10), 1600, 10), np.zeros(10, np.float32)]


def _sizes(quick: bool) -> int:
    return W2_QUICK_SAMPLES if quick else W2_SAMPLES


def _per_region(t_one: float, min_time: float) -> int:
    # 15% margin: a later epoch or pass can run a little faster than the calibration one.
    return max(1, math.ceil(min_time * 1.15 / max(t_one, 1e-9)))


def _finish(res: Result, n: int, epochs: int, passes: int, train_times: list[float],
            pred_times: list[float], loss: float) -> None:
    add_throughput(res, "train_samples_per_s", n, epochs, train_times,
                   W2_CONV_TRAIN_FLOP_PER_SAMPLE)
    add_throughput(res, "predict_samples_per_s", n, passes, pred_times,
                   W2_CONV_FWD_FLOP_PER_SAMPLE)
    res.info["final_loss"] = loss
    res.info["samples"] = n
    res.info["epochs_per_region"] = epochs
    res.info["passes_per_region"] = passes


# --- Keras API (the same script text for ndflow.keras and Keras 3) -------------------------
def run_keras_api(keras: Any, res: Result, quick: bool, run_eagerly: bool = False) -> Result:
    m = method(quick)
    n = _sizes(quick)
    x, y = w2_data(n)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.set_weights(w2_init_weights())
    kwargs = {"run_eagerly": True} if run_eagerly else {}
    model.compile(optimizer=keras.optimizers.Adam(W2_LR),
                  loss="sparse_categorical_crossentropy", **kwargs)

    model.fit(x[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES], batch_size=W2_BATCH, epochs=1, verbose=0)
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=W2_BATCH, epochs=1, verbose=0)  # calibration epoch
    epochs = _per_region(time.perf_counter() - t0, m["min_time"])
    train_times, loss = fit_region_times(keras, model, x, y, W2_BATCH, epochs, m["repeats"])

    model.predict(x[:WARMUP_SAMPLES], batch_size=W2_BATCH, verbose=0)
    t0 = time.perf_counter()
    model.predict(x, batch_size=W2_BATCH, verbose=0)  # calibration pass
    passes = _per_region(time.perf_counter() - t0, m["min_time"])
    pred_times, out = predict_region_times(model, x, W2_BATCH, passes, m["repeats"])
    assert np.asarray(out).shape == (n, 10)
    _finish(res, n, epochs, passes, train_times, pred_times, loss)
    return res


def _ndflow_keras() -> Any:
    try:
        from ndflow import keras

        for path in ("Sequential", "Input", "layers.Conv2D", "layers.MaxPooling2D",
                     "layers.Flatten", "layers.Dropout", "layers.Dense", "optimizers.Adam",
                     "callbacks.Callback"):
            obj = keras
            for part in path.split("."):
                obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise Skip(f"ndflow.keras is not usable yet ({type(e).__name__}: {e})") from e
    return keras


def run_ndflow(quick: bool) -> Result:
    return run_keras_api(_ndflow_keras(), Result("ndflow", "W2"), quick)


def run_ndflow_eager(quick: bool) -> Result:
    return run_keras_api(_ndflow_keras(), Result("ndflow-eager (run_eagerly=True)", "W2"),
                         quick, run_eagerly=True)


def _run_keras3(backend: str, quick: bool) -> Result:
    import os

    os.environ["KERAS_BACKEND"] = backend  # the harness sets it too; this guards direct runs
    import keras

    if keras.backend.backend() != backend:
        raise RuntimeError(f"keras backend is {keras.backend.backend()!r}, wanted {backend!r}")
    res = Result(f"keras-{backend}", "W2")
    res.info["version"] = f"keras {keras.__version__}"
    return run_keras_api(keras, res, quick)


def run_keras_jax(quick: bool) -> Result:
    return _run_keras3("jax", quick)


def run_keras_tensorflow(quick: bool) -> Result:
    return _run_keras3("tensorflow", quick)


# --- PyTorch: a plain loop over pre-made batches (NCHW) ----------------------------------------
def run_torch(quick: bool) -> Result:
    import torch

    res = Result("torch", "W2")
    res.info["version"] = torch.__version__
    res.info["torch_threads"] = torch.get_num_threads()
    m = method(quick)
    n = _sizes(quick)
    x, y = w2_data(n)
    k1, b1, k2, b2, kd, bd = w2_init_weights()
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    # Keras layouts -> PyTorch: conv HWIO -> OIHW; the dense rows from NHWC-flatten (h, w, c)
    # order to NCHW-flatten (c, h, w) order, so both compute the same function.
    kd_t = kd.reshape(5, 5, 64, 10).transpose(2, 0, 1, 3).reshape(1600, 10).T
    vals = (k1.transpose(3, 2, 0, 1), b1, k2.transpose(3, 2, 0, 1), b2, kd_t, bd)
    with torch.no_grad():
        for p, v in zip(model.parameters(), vals):
            p.copy_(torch.from_numpy(np.ascontiguousarray(v)))
    opt = torch.optim.Adam(model.parameters(), lr=W2_LR, eps=W2_EPS)
    loss_fn = nn.CrossEntropyLoss()  # softmax + sparse CCE, fused on the logits
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)
    batches = [(xt[i:i + W2_BATCH], yt[i:i + W2_BATCH]) for i in range(0, n, W2_BATCH)]

    def train_epoch(bs: list) -> list:
        model.train()
        out = []
        for xb, yb in bs:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            out.append(loss.detach())
        return out

    def predict_pass() -> np.ndarray:
        model.eval()
        with torch.inference_mode():
            return np.concatenate([torch.softmax(model(xb), dim=1).numpy()
                                   for xb, _ in batches])

    train_epoch(batches[:WARMUP_SAMPLES // W2_BATCH])
    t0 = time.perf_counter()
    train_epoch(batches)  # calibration epoch
    epochs = _per_region(time.perf_counter() - t0, m["min_time"])
    train_times = []
    losses: list = []
    for _ in range(m["repeats"]):
        t0 = time.perf_counter()
        for _ in range(epochs):
            losses = train_epoch(batches)
        train_times.append(time.perf_counter() - t0)
    loss = sum(float(v) * len(b[1]) for v, b in zip(losses, batches)) / n
    predict_pass()
    t0 = time.perf_counter()
    predict_pass()  # calibration pass
    passes = _per_region(time.perf_counter() - t0, m["min_time"])
    pred_times = []
    for _ in range(m["repeats"]):
        t0 = time.perf_counter()
        for _ in range(passes):
            out = predict_pass()
        pred_times.append(time.perf_counter() - t0)
    assert out.shape == (n, 10)
    _finish(res, n, epochs, passes, train_times, pred_times, loss)
    return res


RUNNERS = {"ndflow": run_ndflow, "ndflow-eager": run_ndflow_eager,
           "keras-jax": run_keras_jax, "keras-tensorflow": run_keras_tensorflow,
           "torch": run_torch}

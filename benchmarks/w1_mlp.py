"""W1: MLP 784 -> Dense(512, relu) -> Dense(10, softmax), sparse categorical cross-entropy,
RMSprop(1e-3), batch 128, on 60,000 synthetic MNIST-shaped samples; and predict at batch 128.

Every framework is timed the same way, on the same samples and the same initial weights:
- warm-up: one `fit` (or loop) over the first 736 samples = 5 batches of 128 and one of 96, so
  both batch shapes of an epoch are compiled/cached before timing;
- training: `repeats` regions of `epochs` full epochs over all samples (469 steps per epoch
  with 60,000 samples, the last batch 96); Keras APIs through ONE `model.fit` call timed by a
  callback that has only epoch hooks, PyTorch and hand-written NumPy by a loop over pre-made
  batches;
- predict: `repeats` regions of `passes` full passes of `predict(x, batch_size=128)`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from common import (
    W1_BATCH, W1_EPS, W1_LR, W1_PREDICT_FLOP_PER_SAMPLE, W1_QUICK_SAMPLES, W1_RHO, W1_SAMPLES,
    W1_TRAIN_FLOP_PER_SAMPLE, Result, Skip, add_throughput, fit_region_times, method,
    predict_region_times, w1_batches, w1_data, w1_init_weights,
)

WARMUP_SAMPLES = 5 * W1_BATCH + 96  # 5 full batches and one batch shaped like the epoch's tail
_TINY = np.finfo(np.float32).tiny


def subnormal_count(arrays: list[Any]) -> int:
    """How many nonzero float32 values in `arrays` are subnormal (|x| < smallest normal)."""
    n = 0
    for a in arrays:
        a = np.asarray(a)
        if a.dtype == np.float32:
            n += int(np.count_nonzero((np.abs(a) < _TINY) & (a != 0)))
    return n


def _finish(res: Result, n: int, epochs: int, passes: int, train_times: list[float],
            pred_times: list[float], loss: float) -> None:
    add_throughput(res, "train_samples_per_s", n, epochs, train_times,
                   W1_TRAIN_FLOP_PER_SAMPLE)
    add_throughput(res, "predict_samples_per_s", n, passes, pred_times,
                   W1_PREDICT_FLOP_PER_SAMPLE)
    res.info["final_loss"] = loss


def _sizes(quick: bool) -> int:
    return W1_QUICK_SAMPLES if quick else W1_SAMPLES


# --- Keras API (the same script text for ndflow.keras and Keras 3) -------------------------
def run_keras_api(keras: Any, res: Result, quick: bool, epochs: int, passes: int,
                  run_eagerly: bool = False) -> Result:
    m = method(quick)
    n = _sizes(quick)
    x, y = w1_data(n)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.set_weights(w1_init_weights())
    # Keras 3 defaults rho=0.9, epsilon=1e-7 are W1_RHO / W1_EPS (the PyTorch and NumPy runs
    # pass them explicitly).
    kwargs = {"run_eagerly": True} if run_eagerly else {}
    model.compile(optimizer=keras.optimizers.RMSprop(W1_LR),
                  loss="sparse_categorical_crossentropy", **kwargs)

    model.fit(x[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES], batch_size=W1_BATCH, epochs=1, verbose=0)
    train_times, loss = fit_region_times(keras, model, x, y, W1_BATCH, epochs, m["repeats"])

    model.predict(x[:WARMUP_SAMPLES], batch_size=W1_BATCH, verbose=0)
    pred_times, out = predict_region_times(model, x, W1_BATCH, passes, m["repeats"])
    assert np.asarray(out).shape == (n, 10)
    try:
        res.info["subnormal_optimizer_state"] = subnormal_count(
            [np.asarray(v) for v in model.optimizer.variables])
    except Exception as e:  # diagnostics only
        res.info["subnormal_optimizer_state"] = f"n/a ({type(e).__name__})"
    _finish(res, n, epochs, passes, train_times, pred_times, loss)
    return res


def _ndflow_keras() -> Any:
    try:
        from ndflow import keras

        # The Keras API the script below uses; ndflow.keras is being built and may lack some.
        for path in ("Sequential", "Input", "layers.Dense", "optimizers.RMSprop",
                     "callbacks.Callback"):
            obj = keras
            for part in path.split("."):
                obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise Skip(f"ndflow.keras is not usable yet ({type(e).__name__}: {e})") from e
    return keras


def run_ndflow(quick: bool, epochs: int, passes: int) -> Result:
    return run_keras_api(_ndflow_keras(), Result("ndflow", "W1"), quick, epochs, passes)


def run_ndflow_eager(quick: bool, epochs: int, passes: int) -> Result:
    """The same script with `run_eagerly=True` in compile (no graph function)."""
    return run_keras_api(_ndflow_keras(), Result("ndflow-eager (run_eagerly=True)", "W1"),
                         quick, epochs, passes, run_eagerly=True)


def _run_keras3(backend: str, quick: bool, epochs: int, passes: int) -> Result:
    import os

    os.environ["KERAS_BACKEND"] = backend  # the harness sets it too; this guards direct runs
    import keras

    if keras.backend.backend() != backend:
        raise RuntimeError(f"keras backend is {keras.backend.backend()!r}, wanted {backend!r}")
    res = Result(f"keras-{backend}", "W1")
    res.info["version"] = f"keras {keras.__version__}"
    if backend == "jax":
        import jax

        res.info["version"] += f", jax {jax.__version__}"
    else:
        import tensorflow as tf

        res.info["version"] += f", tensorflow {tf.__version__}"
    return run_keras_api(keras, res, quick, epochs, passes)


def run_keras_jax(quick: bool, epochs: int, passes: int) -> Result:
    return _run_keras3("jax", quick, epochs, passes)


def run_keras_tensorflow(quick: bool, epochs: int, passes: int) -> Result:
    return _run_keras3("tensorflow", quick, epochs, passes)


# --- loops over pre-made batches ------------------------------------------------------------
def _loop_timing(train_step: Any, predict_batch: Any, x: np.ndarray, y: np.ndarray,
                 batches: list, pred_batches: list, m: dict, epochs: int, passes: int
                 ) -> tuple[list[float], list[float], float]:
    for xb, yb in w1_batches(x[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES]):
        train_step(xb, yb)
    train_times = []
    losses: list = []
    for _ in range(m["repeats"]):
        t0 = time.perf_counter()
        for _ in range(epochs):
            losses = [train_step(xb, yb) for xb, yb in batches]
        train_times.append(time.perf_counter() - t0)
    # the last epoch's mean loss weighted by batch size, as Keras logs it
    loss = sum(float(v) * len(b[1]) for v, b in zip(losses, batches)) / len(x)
    for xb in pred_batches[:6]:
        predict_batch(xb)
    pred_times = []
    for _ in range(m["repeats"]):
        t0 = time.perf_counter()
        for _ in range(passes):
            out = [predict_batch(xb) for xb in pred_batches]
            out = np.concatenate(out)
        pred_times.append(time.perf_counter() - t0)
    assert out.shape == (len(x), 10)
    return train_times, pred_times, loss


def run_torch(quick: bool, epochs: int, passes: int) -> Result:
    import torch

    res = Result("torch", "W1")
    res.info["version"] = torch.__version__
    res.info["torch_threads"] = torch.get_num_threads()
    m = method(quick)
    n = _sizes(quick)
    x, y = w1_data(n)
    w1, b1, w2, b2 = w1_init_weights()
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    with torch.no_grad():
        for p, v in zip(model.parameters(), (w1.T, b1, w2.T, b2)):
            p.copy_(torch.from_numpy(np.ascontiguousarray(v)))
    opt = torch.optim.RMSprop(model.parameters(), lr=W1_LR, alpha=W1_RHO, eps=W1_EPS)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + sparse CCE, fused on the logits
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    batches = [(xt[i:i + W1_BATCH], yt[i:i + W1_BATCH]) for i in range(0, n, W1_BATCH)]
    def train_step(xb: Any, yb: Any) -> Any:
        if isinstance(xb, np.ndarray):
            xb, yb = torch.from_numpy(xb), torch.from_numpy(yb)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    def predict_batch(xb: Any) -> np.ndarray:
        with torch.inference_mode():
            return torch.softmax(model(xb), dim=1).numpy()

    train_times, pred_times, loss = _loop_timing(train_step, predict_batch, x, y, batches,
                                           [b for b, _ in batches], m, epochs, passes)
    res.info["subnormal_optimizer_state"] = subnormal_count(
        [s["square_avg"].numpy() for s in opt.state.values()])
    _finish(res, n, epochs, passes, train_times, pred_times, loss)
    return res


def run_numpy(quick: bool, epochs: int, passes: int) -> Result:
    from numpy_w1 import HandMLP, check_against_float64

    res = Result("numpy (hand-written)", "W1")
    m = method(quick)
    n = _sizes(quick)
    x, y = w1_data(n)
    weights = w1_init_weights()
    res.info["max_rel_diff_vs_float64_textbook"] = check_against_float64(
        weights, x[:W1_BATCH], y[:W1_BATCH])
    model = HandMLP(weights)
    batches = w1_batches(x, y)
    train_times, pred_times, loss = _loop_timing(model.train_step, model.predict, x, y, batches,
                                           [b for b, _ in batches], m, epochs, passes)
    res.info["subnormal_optimizer_state"] = subnormal_count(model.vs)
    _finish(res, n, epochs, passes, train_times, pred_times, loss)
    return res


RUNNERS = {"ndflow": run_ndflow, "ndflow-eager": run_ndflow_eager,
           "keras-jax": run_keras_jax,
           "keras-tensorflow": run_keras_tensorflow, "torch": run_torch,
           "numpy-hand": run_numpy}

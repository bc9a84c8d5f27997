"""Time forward+backward of the W2 convnet's conv/pool stack at batch 128: ndflow vs PyTorch.

28x28x1 -> Conv2D(32, 3, relu) -> MaxPool(2) -> Conv2D(64, 3, relu) -> MaxPool(2), float32.
Prints ms per step and the GFLOP/s the two conv layers reach (forward 2*MACs, backward 2x that:
input and filter gradients; the first layer's input gradient is not needed and not counted),
and the machine's float32 GEMM rate for reference.

Run from the repository root: ``python benchmarks/w2_conv_layers.py``.
"""

from __future__ import annotations

import time

import numpy as np

import ndflow as tf

B = 128


def flops() -> tuple:
    c1 = 2 * B * 26 * 26 * 32 * 9 * 1
    c2 = 2 * B * 11 * 11 * 64 * 9 * 32
    fwd = c1 + c2
    bwd = c1 + 2 * c2  # filter grad of both, input grad of conv2 only
    return fwd, fwd + bwd


def bench_pair(fns: dict, reps: int = 15) -> dict:
    """Run the candidates interleaved (the machine is shared: load hits all of them alike) and
    return each one's (min, median) seconds."""
    for f in fns.values():
        f()
        f()
    ts: dict = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return {k: (float(np.min(v)), float(np.median(v))) for k, v in ts.items()}


def ndflow_step(x, w1, b1, w2, b2):
    def step():
        with tf.GradientTape() as tape:
            h = tf.nn.conv(x, w1, 1, "VALID", bias=b1, activation="relu")
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.nn.conv(h, w2, 1, "VALID", bias=b2, activation="relu")
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            loss = tf.reduce_sum(h)
        return tape.gradient(loss, [w1, b1, w2, b2])
    return step


def ndflow_fwd(x, w1, b1, w2, b2):
    def step():
        h = tf.nn.conv(x, w1, 1, "VALID", bias=b1, activation="relu")
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
        h = tf.nn.conv(h, w2, 1, "VALID", bias=b2, activation="relu")
        return tf.nn.max_pool2d(h, 2, 2, "VALID")
    return step


def main() -> None:
    rng = np.random.default_rng(0)
    xn = rng.standard_normal((B, 28, 28, 1)).astype(np.float32)
    w1n = (rng.standard_normal((3, 3, 1, 32)) * 0.3).astype(np.float32)
    w2n = (rng.standard_normal((3, 3, 32, 64)) * 0.1).astype(np.float32)
    x = tf.constant(xn)
    w1, w2 = tf.Variable(w1n), tf.Variable(w2n)
    b1, b2 = tf.Variable(np.zeros(32, np.float32)), tf.Variable(np.zeros(64, np.float32))
    fwd_fl, step_fl = flops()

    import torch
    import torch.nn.functional as F

    xt = torch.tensor(xn.transpose(0, 3, 1, 2).copy())
    w1t = torch.tensor(w1n.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    w2t = torch.tensor(w2n.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    b1t = torch.zeros(32, requires_grad=True)
    b2t = torch.zeros(64, requires_grad=True)

    def torch_fwd():
        h = F.max_pool2d(F.relu(F.conv2d(xt, w1t, b1t)), 2)
        return F.max_pool2d(F.relu(F.conv2d(h, w2t, b2t)), 2)

    def torch_fwd_nograd():
        with torch.no_grad():
            return torch_fwd()

    def torch_step():
        loss = torch_fwd().sum()
        return torch.autograd.grad(loss, [w1t, b1t, w2t, b2t])

    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    r = bench_pair({"nd_fwd": ndflow_fwd(x, w1, b1, w2, b2), "th_fwd": torch_fwd_nograd,
                    "nd_step": ndflow_step(x, w1, b1, w2, b2), "th_step": torch_step,
                    "gemm": lambda: a @ a})
    gemm = 2 * 1024 ** 3 / r["gemm"][0] / 1e9

    print(f"batch {B}, torch threads {torch.get_num_threads()}; min / median of 15 interleaved "
          "runs")
    print(f"{'':10s}{'fwd ms':>16s}{'fwd+bwd ms':>16s}{'conv GFLOP/s (fwd+bwd, min)':>30s}")
    for name, f, s_ in (("ndflow", "nd_fwd", "nd_step"), ("pytorch", "th_fwd", "th_step")):
        print(f"{name:10s}{r[f][0] * 1e3:8.1f} /{r[f][1] * 1e3:6.1f}"
              f"{r[s_][0] * 1e3:8.1f} /{r[s_][1] * 1e3:6.1f}{step_fl / r[s_][0] / 1e9:30.1f}")
    print(f"float32 GEMM 1024^3 (NumPy): {gemm:.1f} GFLOP/s")


if __name__ == "__main__":
    main()

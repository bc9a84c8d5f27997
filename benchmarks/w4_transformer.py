"""W4: a small transformer encoder on IMDB-shaped synthetic data, ndflow (`model.fit`) beside
PyTorch (a plain loop), each in its own process.

Int tokens (vocabulary 10,000, length 128) -> Embedding(10000, 128) + learned positional
embedding (128, 128) -> 2 x [MultiHeadAttention(num_heads=4, key_dim=32) + residual +
LayerNormalization, Dense(256, relu) -> Dense(128) + residual + LayerNormalization] ->
GlobalAveragePooling1D -> Dense(1, sigmoid); binary cross-entropy; Adam(1e-3); batch 32.
Method (WORKLOADS.md): warm up 5 steps, then time epochs of at least 20 steps and 3 s, three
times; report the median samples/s and peak RSS.

Run: `python benchmarks/w4_transformer.py` (both) or `python benchmarks/w4_transformer.py torch`.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import numpy as np

VOCAB, LENGTH, DIM, HEADS, KEY_DIM, FF, BATCH = 10_000, 128, 128, 4, 32, 256, 32


def data(n: int) -> tuple:
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (n, LENGTH)).astype("int32"), \
        rng.integers(0, 2, (n, 1)).astype("float32")


def _steps_for(seconds_per_step: float) -> int:
    return max(20, int(3.0 / max(seconds_per_step, 1e-6)) + 1)


def _time(run_epoch, make) -> float:
    t0 = time.perf_counter()
    run_epoch(make(5))
    steps = _steps_for((time.perf_counter() - t0) / 5)
    batches = make(steps)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run_epoch(batches)
        times.append(time.perf_counter() - t0)
    return steps * BATCH / float(np.median(times))


def run_ndflow() -> float:
    from ndflow import keras
    from ndflow.keras import layers

    class PositionalEmbedding(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.tokens = layers.Embedding(VOCAB, DIM)
            self.positions = layers.Embedding(LENGTH, DIM)

        def call(self, ids):
            return self.tokens(ids) + self.positions(np.arange(LENGTH, dtype="int32"))

    keras.utils.set_random_seed(0)
    inp = keras.Input((LENGTH,), dtype="int32")
    x = PositionalEmbedding()(inp)
    for _ in range(2):
        a = layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM)(x, x)
        x = layers.LayerNormalization()(x + a)
        f = layers.Dense(DIM)(layers.Dense(FF, activation="relu")(x))
        x = layers.LayerNormalization()(x + f)
    out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    return _time(lambda xy: model.fit(xy[0], xy[1], batch_size=BATCH, epochs=1, verbose=0,
                                      shuffle=False), lambda n: data(n * BATCH))


def run_torch() -> float:
    import torch

    torch.manual_seed(0)

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.att = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True)
            self.ln1, self.ln2 = torch.nn.LayerNorm(DIM, eps=1e-3), torch.nn.LayerNorm(
                DIM, eps=1e-3)
            self.ff = torch.nn.Sequential(torch.nn.Linear(DIM, FF), torch.nn.ReLU(),
                                          torch.nn.Linear(FF, DIM))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.ln1(x + self.att(x, x, x, need_weights=False)[0])
            return self.ln2(x + self.ff(x))

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = torch.nn.Embedding(VOCAB, DIM)
            self.pos = torch.nn.Embedding(LENGTH, DIM)
            self.blocks = torch.nn.Sequential(Block(), Block())
            self.out = torch.nn.Linear(DIM, 1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.tok(ids) + self.pos(torch.arange(LENGTH))
            return torch.sigmoid(self.out(self.blocks(x).mean(1)))

    net = Net()
    opt = torch.optim.Adam(net.parameters(), 1e-3, eps=1e-7)
    lossf = torch.nn.BCELoss()

    def epoch(batches: list) -> None:
        for xb, yb in batches:
            opt.zero_grad()
            lossf(net(xb), yb).backward()
            opt.step()

    def make(n: int) -> list:
        x, y = data(n * BATCH)
        return [(torch.from_numpy(x[i:i + BATCH]).long(), torch.from_numpy(y[i:i + BATCH]))
                for i in range(0, n * BATCH, BATCH)]

    return _time(epoch, make)


def main() -> None:
    which = sys.argv[1:] or ["ndflow", "torch"]
    if len(which) == 1:
        rate = run_ndflow() if which[0] == "ndflow" else run_torch()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"W4 {which[0]}: {rate:,.0f} samples/s, peak RSS {rss:.0f} MiB", flush=True)
        return
    for name in which:
        subprocess.run([sys.executable, __file__, name], check=True)


if __name__ == "__main__":
    main()

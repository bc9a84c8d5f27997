"""W3: LSTM text classifier on IMDB-shaped synthetic data, ndflow (`model.fit`) beside
PyTorch (a plain loop), each in its own process.

Int tokens (vocabulary 10,000, length 100) -> Embedding(10000, 64) -> LSTM(64) ->
Dense(1, sigmoid); binary cross-entropy; Adam(1e-3); batch 64; data from
numpy.random.default_rng(0). Method (WORKLOADS.md): warm up 5 steps, then time whole epochs
of at least 20 steps and 3 s, three times; report the median samples/s and peak RSS.

Run: `python benchmarks/w3_lstm.py` (both frameworks) or `python benchmarks/w3_lstm.py ndflow`.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import numpy as np

VOCAB, LENGTH, EMB, UNITS, BATCH = 10_000, 100, 64, 64, 64


def data(n: int) -> tuple:
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (n, LENGTH)).astype("int32"), \
        rng.integers(0, 2, (n, 1)).astype("float32")


def _steps_for(seconds_per_step: float) -> int:
    return max(20, int(3.0 / max(seconds_per_step, 1e-6)) + 1)


def run_ndflow() -> tuple:
    from ndflow import keras
    from ndflow.keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((LENGTH,), dtype="int32"),
                              layers.Embedding(VOCAB, EMB), layers.LSTM(UNITS),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    x, y = data(5 * BATCH)
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    steps = _steps_for((time.perf_counter() - t0) / 5)
    x, y = data(steps * BATCH)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - t0)
    return steps * BATCH / float(np.median(times))


def run_torch() -> float:
    import torch

    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(VOCAB, EMB)
            self.lstm = torch.nn.LSTM(EMB, UNITS, batch_first=True)
            self.out = torch.nn.Linear(UNITS, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.lstm(self.emb(x))[0][:, -1]
            return torch.sigmoid(self.out(h))

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

    t0 = time.perf_counter()
    epoch(make(5))
    steps = _steps_for((time.perf_counter() - t0) / 5)
    batches = make(steps)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        epoch(batches)
        times.append(time.perf_counter() - t0)
    return steps * BATCH / float(np.median(times))


def main() -> None:
    which = sys.argv[1:] or ["ndflow", "torch"]
    if len(which) == 1:
        rate = run_ndflow() if which[0] == "ndflow" else run_torch()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"W3 {which[0]}: {rate:,.0f} samples/s, peak RSS {rss:.0f} MiB", flush=True)
        return
    for name in which:
        subprocess.run([sys.executable, __file__, name], check=True)


if __name__ == "__main__":
    main()

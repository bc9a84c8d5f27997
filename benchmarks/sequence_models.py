"""W3 (LSTM) and W4 (transformer) training speed: ndflow beside PyTorch and Keras 3 on JAX,
TensorFlow and PyTorch, side by side in one run, in alternating rounds.

W3: int tokens (vocabulary 10,000, length 100) -> Embedding(10000, 64) -> LSTM(64) ->
Dense(1, sigmoid); batch 64. W4: tokens (vocabulary 10,000, length 128) -> Embedding(10000,
128) + learned positional embedding (128, 128) -> 2 x [MultiHeadAttention(4 heads, key_dim 32)
+ residual + LayerNormalization, Dense(256, relu) -> Dense(128) + residual +
LayerNormalization] -> GlobalAveragePooling1D -> Dense(1, sigmoid); batch 32. Both: binary
cross-entropy, Adam(1e-3), data from numpy.random.default_rng(0).

Method: each (framework, round) is its own process with the same environment (only the Keras
runs add KERAS_BACKEND); rounds alternate the frameworks (A B C A B C) so drift in the
machine's load hits all of them. In a process: warm up with 5 steps, size an epoch to >= 3 s
(>= 20 steps), time 3 epochs, keep the median. The report gives each framework's median over
rounds and its ratio to ndflow. The Keras and ndflow runs share one model-building function.

    python benchmarks/sequence_models.py                     # W3 and W4, all frameworks found
    python benchmarks/sequence_models.py W3 --rounds 3 --frameworks ndflow,torch
    python benchmarks/sequence_models.py W3 --threads 1      # one BLAS/OpenMP thread everywhere

Run it with the benchmark interpreter (benchmarks/make_env.py) to have the peers; ndflow runs
from the source tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np
from common import pin_threads

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("ndflow", "torch", "keras-jax", "keras-tensorflow", "keras-torch")
SHAPES = {"W3": dict(vocab=10_000, length=100, batch=64),
          "W4": dict(vocab=10_000, length=128, batch=32)}
EMB, UNITS = 64, 64                       # W3
DIM, HEADS, KEY_DIM, FF = 128, 4, 32, 256  # W4


def data(workload: str, n_batches: int) -> tuple:
    s = SHAPES[workload]
    n = n_batches * s["batch"]
    rng = np.random.default_rng(0)
    return (rng.integers(0, s["vocab"], (n, s["length"])).astype("int32"),
            rng.integers(0, 2, (n, 1)).astype("float32"))


def time_epochs(run_epoch: Callable[[Any], None], make: Callable[[int], Any],
                batch: int) -> float:
    """Samples per second: the median of 3 epochs sized to >= 3 s after a 5-step warm-up."""
    t0 = time.perf_counter()
    run_epoch(make(5))
    per_step = (time.perf_counter() - t0) / 5
    steps = max(20, int(3.0 / max(per_step, 1e-6)) + 1)
    batches = make(steps)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run_epoch(batches)
        times.append(time.perf_counter() - t0)
    return steps * batch / float(np.median(times))


# --- Keras API (ndflow and Keras 3 run the same code) ---------------------------------------
def keras_model(keras: Any, workload: str) -> Any:
    layers = keras.layers
    s = SHAPES[workload]
    keras.utils.set_random_seed(0)
    inp = keras.Input((s["length"],), dtype="int32")
    if workload == "W3":
        h = layers.LSTM(UNITS)(layers.Embedding(s["vocab"], EMB)(inp))
        out = layers.Dense(1, activation="sigmoid")(h)
    else:
        class PositionalEmbedding(layers.Layer):
            def __init__(self, **kw: Any) -> None:
                super().__init__(**kw)
                self.tokens = layers.Embedding(s["vocab"], DIM)
                self.positions = layers.Embedding(s["length"], DIM)

            def call(self, ids: Any) -> Any:
                return self.tokens(ids) + self.positions(
                    np.arange(s["length"], dtype="int32"))

        x = PositionalEmbedding()(inp)
        for _ in range(2):
            a = layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM)(x, x)
            x = layers.LayerNormalization()(x + a)
            f = layers.Dense(DIM)(layers.Dense(FF, activation="relu")(x))
            x = layers.LayerNormalization()(x + f)
        out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    return model


def run_keras(framework: str, workload: str) -> float:
    if framework == "ndflow":
        from ndflow import keras
    else:
        import keras
    model = keras_model(keras, workload)
    batch = SHAPES[workload]["batch"]
    return time_epochs(lambda xy: model.fit(xy[0], xy[1], batch_size=batch, epochs=1,
                                            verbose=0, shuffle=False),
                       lambda n: data(workload, n), batch)


# --- PyTorch (a plain loop over pre-made batches) -------------------------------------------
def torch_model(workload: str) -> Any:
    import torch

    s = SHAPES[workload]
    torch.manual_seed(0)
    if workload == "W3":
        class Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.emb = torch.nn.Embedding(s["vocab"], EMB)
                self.lstm = torch.nn.LSTM(EMB, UNITS, batch_first=True)
                self.out = torch.nn.Linear(UNITS, 1)

            def forward(self, x: Any) -> Any:
                return torch.sigmoid(self.out(self.lstm(self.emb(x))[0][:, -1]))
        return Net()

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.att = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True)
            self.ln1 = torch.nn.LayerNorm(DIM, eps=1e-3)
            self.ln2 = torch.nn.LayerNorm(DIM, eps=1e-3)
            self.ff = torch.nn.Sequential(torch.nn.Linear(DIM, FF), torch.nn.ReLU(),
                                          torch.nn.Linear(FF, DIM))

        def forward(self, x: Any) -> Any:
            x = self.ln1(x + self.att(x, x, x, need_weights=False)[0])
            return self.ln2(x + self.ff(x))

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = torch.nn.Embedding(s["vocab"], DIM)
            self.pos = torch.nn.Embedding(s["length"], DIM)
            self.blocks = torch.nn.Sequential(Block(), Block())
            self.out = torch.nn.Linear(DIM, 1)

        def forward(self, ids: Any) -> Any:
            x = self.tok(ids) + self.pos(torch.arange(s["length"]))
            return torch.sigmoid(self.out(self.blocks(x).mean(1)))
    return Encoder()


def run_torch(workload: str) -> float:
    import torch

    net = torch_model(workload)
    opt = torch.optim.Adam(net.parameters(), 1e-3, eps=1e-7)
    lossf = torch.nn.BCELoss()
    batch = SHAPES[workload]["batch"]

    def epoch(batches: list) -> None:
        for xb, yb in batches:
            opt.zero_grad()
            lossf(net(xb), yb).backward()
            opt.step()

    def make(n: int) -> list:
        x, y = data(workload, n)
        return [(torch.from_numpy(x[i:i + batch]).long(), torch.from_numpy(y[i:i + batch]))
                for i in range(0, n * batch, batch)]

    return time_epochs(epoch, make, batch)


# --- the harness -------------------------------------------------------------------------------
def worker(framework: str, workload: str) -> None:
    rate = run_torch(workload) if framework == "torch" else run_keras(framework, workload)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rate": rate, "rss_mib": rss}), flush=True)


def launch(framework: str, workload: str, threads: int | None) -> dict | str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    if framework.startswith("keras-"):
        env["KERAS_BACKEND"] = framework.split("-", 1)[1]
    pin_threads(env, threads)
    proc = subprocess.run([sys.executable, __file__, "--worker", framework, workload],
                          env=env, capture_output=True, text=True)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed: {last[:160]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workloads", nargs="*", default=["W3", "W4"])
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS/OpenMP/XLA threads per process (default: each framework's own)")
    ap.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    frameworks = args.frameworks.split(",")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.2f}, threads "
          f"{args.threads or 'default'}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '-')}, python {sys.executable}", flush=True)
    for wl in (w.upper() for w in args.workloads):
        rates: dict[str, list[float]] = {f: [] for f in frameworks}
        notes: dict[str, str] = {}
        for r in range(args.rounds):
            for fw in frameworks:
                res = launch(fw, wl, args.threads)
                if isinstance(res, str):
                    notes[fw] = res
                    print(f"  {wl} round {r + 1} {fw}: {res}", flush=True)
                    continue
                rates[fw].append(res["rate"])
                print(f"  {wl} round {r + 1} {fw}: {res['rate']:,.0f} samples/s, "
                      f"RSS {res['rss_mib']:.0f} MiB, load {os.getloadavg()[0]:.2f}", flush=True)
        base = statistics.median(rates["ndflow"]) if rates.get("ndflow") else None
        print(f"\n| {wl} | samples/s (median of rounds) | rounds | ndflow / this |")
        print("|---|---|---|---|")
        for fw in frameworks:
            if not rates[fw]:
                print(f"| {fw} | {notes.get(fw, 'no result')} | | |")
                continue
            med = statistics.median(rates[fw])
            ratio = f"{base / med:.2f}" if base else ""
            each = ", ".join(f"{v:,.0f}" for v in rates[fw])
            print(f"| {fw} | {med:,.0f} | {each} | {ratio} |")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

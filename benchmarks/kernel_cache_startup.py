"""Start-up cost of generated compiled kernels: a fresh process doing a short `fit` (W1, W1g
or W2 shapes, 1 epoch of 1,024 samples) with the kernel cache off (every kernel compiled in
memory, as before the cache), cold (an empty cache folder: compiled and written) and warm
(the same folder again: numba's machine code loaded from disk). Rounds alternate off, cold,
warm; the report gives medians of the whole process's wall time and of the `fit` call, and
how many numba compiler passes ran in `fit`.

    python benchmarks/kernel_cache_startup.py                   # W1, 3 rounds
    python benchmarks/kernel_cache_startup.py --workloads W1,W1g,W2 --rounds 5

Needs numba (``ndflow[jit]``). Each process has one BLAS/OpenMP thread (common.pin_threads).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import pin_threads

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

_CHILD = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from numba.core import event
import ndflow as tf
from ndflow import keras
workload = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from common import keras_w1_w2_model
rng = np.random.default_rng(0)
conv = workload == "W2"
n = 1024
x = rng.random((n, 28, 28, 1) if conv else (n, 784), dtype=np.float32)
y = rng.integers(0, 10, n)
keras.utils.set_random_seed(0)
model = keras_w1_w2_model(keras, workload)
with event.install_recorder("numba:run_pass") as rec:
    t1 = time.perf_counter()
    hist = model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    t2 = time.perf_counter()
passes = sum(1 for _, e in rec.buffer if e.kind == "numba:run_pass" and e.is_start)
from ndflow.graph.codegen import kernel_cache
print(json.dumps({"fit_s": t2 - t1, "in_process_s": t2 - t0, "passes": passes,
                  "files": kernel_cache.stats["written"] + kernel_cache.stats["reused"],
                  "loss": float(hist.history["loss"][-1])}))
'''


def run(workload: str, mode: str, folder: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NDFLOW_CACHE_DIR": folder}
    env.pop("NUMBA_CACHE_DIR", None)
    if mode == "off":
        env["NDFLOW_KERNEL_CACHE"] = "0"
    pin_threads(env, 1)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, workload, str(HERE)], env=env,
                         capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t0
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="W1")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    for w in args.workloads.split(","):
        rows: dict = {"off": [], "cold": [], "warm": []}
        with tempfile.TemporaryDirectory(prefix="ndflow-kcache-bench-") as folder:
            run(w, "off", folder)  # discarded: numba's cache of the hand-written kernels
        for _ in range(args.rounds):
            folder = tempfile.mkdtemp(prefix="ndflow-kcache-bench-")
            try:
                for mode in ("off", "cold", "warm"):
                    rows[mode].append(run(w, mode, folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        for mode, rs in rows.items():
            med = {k: statistics.median(r[k] for r in rs) for k in ("process_s", "fit_s")}
            print(f"{w} cache {mode:4}: process {med['process_s']:.2f} s, fit "
                  f"{med['fit_s']:.2f} s, numba passes in fit {rs[0]['passes']}, "
                  f"generated kernels from files {rs[0]['files']}, loss {rs[0]['loss']:.6f}")


if __name__ == "__main__":
    main()

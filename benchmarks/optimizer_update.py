"""Optimizer update cost: CPU time (`time.process_time`, one BLAS thread) of one
`apply_gradients` on a 1M-element float32 variable, for SGD (momentum), RMSprop and Adam,
compiled loop (``jit``) and ufunc sequence (``numpy``), A/B between two ndflow source trees in
alternating rounds (process time is steadier than wall clock on a shared machine).

    python benchmarks/optimizer_update.py --a /path/to/main/src --b src --rounds 5

Each (tree, round) is one subprocess; it reports the median per update over `--steps` updates
after warm-up. Output: per optimizer and path, the median over rounds of each side, and B/A.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CASES = [("SGD", {"momentum": 0.9}), ("RMSprop", {}), ("Adam", {})]


def measure(steps: int, size: int) -> dict:
    import numpy as np

    import ndflow as tf
    from ndflow.backend import jit
    from ndflow.keras import optimizers

    out = {}
    rng = np.random.default_rng(0)
    g = tf.constant(rng.standard_normal(size).astype(np.float32) * 1e-3)
    for on in ([True] if jit._load_numba() else []) + [False]:
        with jit.switched(on):
            for name, kw in CASES:
                var = tf.Variable(rng.standard_normal(size).astype(np.float32))
                opt = getattr(optimizers, name)(learning_rate=1e-3, **kw)
                for _ in range(3):  # build, compile, warm caches
                    opt.apply_gradients([(g, var)])
                times = []
                for _ in range(steps):
                    t0 = time.process_time()
                    opt.apply_gradients([(g, var)])
                    times.append(time.process_time() - t0)
                out[f"{name} {'jit' if on else 'numpy'}"] = statistics.median(times) * 1e3
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", help="src folder of the baseline ndflow tree")
    p.add_argument("--b", default=os.path.join(os.path.dirname(__file__), "..", "src"),
                   help="src folder of the tree under test (default: this checkout)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--size", type=int, default=1_000_000)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(measure(args.steps, args.size)))
        return
    sides = {"A": args.a, "B": args.b} if args.a else {"B": args.b}
    results: dict = {s: [] for s in sides}
    env0 = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for _ in range(args.rounds):
        for side, src in sides.items():
            env = dict(env0, PYTHONPATH=os.path.abspath(src))
            cmd = [sys.executable, __file__, "--worker", "--steps", str(args.steps),
                   "--size", str(args.size)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            results[side].append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"ms CPU per update, {args.size:,} float32 elements, median of {args.rounds} rounds "
          f"x {args.steps} steps; load: {os.getloadavg()[0]:.1f}")
    for key in results["B"][0]:
        med = {s: statistics.median(r[key] for r in results[s]) for s in sides}
        row = "  ".join(f"{s}={med[s]:7.3f}" for s in sides)
        ratio = f"  B/A={med['B'] / med['A']:.3f}" if "A" in med else ""
        print(f"{key:14s} {row}{ratio}")


if __name__ == "__main__":
    main()

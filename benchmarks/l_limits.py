"""L: the limits of this machine. float32 GEMM rate of `numpy.matmul` on 2048x2048 matrices.

(The hand-written NumPy W1 step, the other half of L, runs as the `numpy-hand` entry of W1 so
that it is timed exactly like the frameworks; the report shows it in both tables.)
"""

from __future__ import annotations

from common import Result, method, per_step_median, time_steps

N = 2048
FLOP = 2 * N**3


def run_numpy(quick: bool) -> Result:
    import numpy as np

    res = Result("numpy", "L")
    rng = np.random.default_rng(0)
    a = rng.random((N, N), dtype=np.float32)
    b = rng.random((N, N), dtype=np.float32)
    c = np.empty((N, N), np.float32)
    times, counts = time_steps(lambda: np.matmul(a, b, out=c), method(quick))
    med, per = per_step_median(times, counts)
    res.add("gemm_gflops", FLOP / med / 1e9, "GFLOP/s", [FLOP / p / 1e9 for p in per],
            higher_is_better=True, steps=counts)
    return res


RUNNERS = {"numpy": run_numpy}

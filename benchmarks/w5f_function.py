"""W5f: W5's chain and gradient inside a graph function, called repeatedly with one signature.

1,000 chained `y = y * a + b` on 4x4 float32 with a tape watching `y0`, reduce_sum, gradient
w.r.t. `y0`, all inside `ndflow.function` / `tf.function`. `y0`, `a` and `b` are ARGUMENTS of
the function (not captured constants) so nothing folds away, and the function returns both
the reduced value and the gradient. Reported in microseconds per op (2,000 recorded ops per
call). The floor is W5's: the same 2,000 forward ops and 1,000 backward multiplies in plain
NumPy, no recording.
"""

from __future__ import annotations

from common import Result, Skip
from w5_eager import run_numpy as _run_numpy_floor
from w5_eager import run_tf_api

# torch.compile of the 1,000-op chain with its autograd.grad took ~92 s to compile on this
# 2-core CPU machine (torch 2.13.0, inductor), so it is not run by default.
TORCH_COMPILE_NOTE = ("torch.compile of the 1,000-op chain + autograd.grad takes ~90 s to "
                      "compile on this CPU-only machine (measured once, torch 2.13.0); not run")


def run_ndflow(quick: bool) -> Result:
    import ndflow

    return run_tf_api(ndflow, "ndflow (tf.function)", "W5f", quick, graph=True)


def run_tensorflow(quick: bool) -> Result:
    import tensorflow

    return run_tf_api(tensorflow, "tensorflow (tf.function)", "W5f", quick, graph=True)


def run_torch(quick: bool) -> Result:
    raise Skip(TORCH_COMPILE_NOTE)


def run_numpy(quick: bool) -> Result:
    res = _run_numpy_floor(quick)
    res.workload = "W5f"
    return res


RUNNERS = {"ndflow": run_ndflow, "tensorflow": run_tensorflow, "torch": run_torch,
           "numpy": run_numpy}

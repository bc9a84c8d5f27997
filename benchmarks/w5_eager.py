"""W5: eager overhead. 1,000 chained `y = y * a + b` on 4x4 float32 under autodiff recording,
reduce to a scalar, gradient w.r.t. the start value. Reported in microseconds per recorded op
(2,000 recorded ops per step, forward and backward together).
"""

from __future__ import annotations

from typing import Any

from common import Result, method, per_step_median, time_steps

CHAIN = 1000
RECORDED_OPS = 2 * CHAIN


def _inputs() -> tuple[Any, Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    y0 = rng.random((4, 4), dtype=np.float32)
    # a close to 1 keeps the 1,000-step chain and its gradient a**1000 in the normal float
    # range (subnormal values would make every framework's arithmetic slow, not its overhead).
    a = rng.uniform(0.999, 1.001, (4, 4)).astype(np.float32)
    b = rng.uniform(-0.01, 0.01, (4, 4)).astype(np.float32)
    return y0, a, b


def _expected_grad() -> Any:
    import numpy as np

    _, a, _ = _inputs()
    return np.power(a.astype(np.float64), CHAIN)


def _report(res: Result, step: Any, quick: bool, grad: Any) -> None:
    import numpy as np

    times, counts = time_steps(step, method(quick))
    med, per = per_step_median(times, counts)
    us = [p / RECORDED_OPS * 1e6 for p in per]
    res.add("us_per_op", med / RECORDED_OPS * 1e6, "µs/op", us, higher_is_better=False,
            steps=counts)
    ok = np.allclose(np.asarray(grad, np.float64), _expected_grad(), rtol=1e-3)
    res.info["gradient_matches_numpy"] = bool(ok)


def tape_chain(tf: Any, y0: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """The chain under a GradientTape with the TensorFlow API (ndflow or TensorFlow itself);
    returns the reduced value and its gradient w.r.t. `y0`."""
    with tf.GradientTape() as tape:
        tape.watch(y0)
        y = y0
        for _ in range(CHAIN):
            y = y * a + b
        s = tf.reduce_sum(y)
    return s, tape.gradient(s, y0)


def run_tf_api(tf: Any, name: str, workload: str, quick: bool, graph: bool = False) -> Result:
    """Time `tape_chain` with `tf` (ndflow or tensorflow), eagerly or inside `tf.function`."""
    res = Result(name, workload)
    if tf.__name__ == "tensorflow":
        res.info["version"] = tf.__version__
    y0n, an, bn = _inputs()
    y0, a, b = tf.constant(y0n), tf.constant(an), tf.constant(bn)

    def chain(y0: Any, a: Any, b: Any) -> Any:
        return tape_chain(tf, y0, a, b)

    fn = tf.function(chain) if graph else chain

    def step() -> Any:
        return fn(y0, a, b)

    _report(res, step, quick, step()[1].numpy())
    return res


def run_ndflow(quick: bool) -> Result:
    import ndflow

    return run_tf_api(ndflow, "ndflow", "W5", quick)


def run_tensorflow(quick: bool) -> Result:
    import tensorflow

    return run_tf_api(tensorflow, "tensorflow", "W5", quick)


def run_torch(quick: bool) -> Result:
    import torch

    res = Result("torch", "W5")
    res.info["version"] = torch.__version__
    res.info["torch_threads"] = torch.get_num_threads()
    y0n, an, bn = _inputs()
    y0 = torch.tensor(y0n, requires_grad=True)
    a, b = torch.tensor(an), torch.tensor(bn)

    def step() -> Any:
        y = y0
        for _ in range(CHAIN):
            y = y * a + b
        s = y.sum()
        (g,) = torch.autograd.grad(s, y0)
        return g

    _report(res, step, quick, step().numpy())
    return res


def run_numpy(quick: bool) -> Result:
    """The floor: the same 2,000 forward ops and 1,000 backward multiplies, no recording."""
    import numpy as np

    res = Result("numpy (floor)", "W5")
    y0, a, b = _inputs()

    def step() -> Any:
        y = y0
        for _ in range(CHAIN):
            y = y * a + b
        s = y.sum()  # noqa: F841  (the forward's reduction, as in the frameworks)
        g = np.ones_like(y0)
        for _ in range(CHAIN):
            g = g * a
        return g

    _report(res, step, quick, step())
    return res


RUNNERS = {"ndflow": run_ndflow, "tensorflow": run_tensorflow, "torch": run_torch,
           "numpy": run_numpy}

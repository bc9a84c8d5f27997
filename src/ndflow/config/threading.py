"""`tf.config.threading`: how many threads one op may use (intra-op parallelism).

ndflow runs one op at a time (no inter-op thread pool). Inside an op, work whose rows are
independent (the batch rows of a recurrent layer's time loop, the rows of a softmax) is split
across up to this many threads, and NumPy's BLAS (its matrix products) uses this many threads
too, as TensorFlow's setting covers its own matrix kernels. The default, 0, leaves the choice
to BLAS (its own setting, e.g. OPENBLAS_NUM_THREADS) and to ndflow (the usable CPUs that BLAS's
threads leave: with OPENBLAS_NUM_THREADS=1, one per CPU).

>>> import ndflow as tf
>>> tf.config.threading.set_intra_op_parallelism_threads(1)  # one thread per op
>>> tf.config.threading.get_intra_op_parallelism_threads()
1
>>> tf.config.threading.set_intra_op_parallelism_threads(0)  # back to the defaults
"""

from ndflow.backend import native_calls, parallel

__all__ = ["get_intra_op_parallelism_threads", "set_intra_op_parallelism_threads"]


def get_intra_op_parallelism_threads() -> int:
    """The number set with `set_intra_op_parallelism_threads`; 0 means the defaults."""
    return parallel.requested_threads()


def set_intra_op_parallelism_threads(num_threads: int) -> None:
    """Let one op use up to `num_threads` threads, its BLAS matrix products included
    (0: ndflow's and BLAS's own defaults)."""
    parallel.set_threads(num_threads)
    native_calls.set_blas_threads(num_threads)
    parallel.forget_default()

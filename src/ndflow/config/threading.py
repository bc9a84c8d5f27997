"""`tf.config.threading`: how many threads one op may use (intra-op parallelism).

ndflow runs one op at a time (no inter-op thread pool). Inside an op, work whose rows are
independent (the batch rows of a recurrent layer's time loop) is split across up to this many
threads; NumPy's BLAS keeps its own threads for large matrix products.

>>> import ndflow as tf
>>> tf.config.threading.set_intra_op_parallelism_threads(1)  # one thread per op
>>> tf.config.threading.get_intra_op_parallelism_threads()
1
>>> tf.config.threading.set_intra_op_parallelism_threads(0)  # back to: one per CPU
"""

from ndflow.backend import parallel

__all__ = ["get_intra_op_parallelism_threads", "set_intra_op_parallelism_threads"]


def get_intra_op_parallelism_threads() -> int:
    """The number set with `set_intra_op_parallelism_threads`; 0 means ndflow chooses (one
    thread per CPU this process may run on)."""
    return parallel.requested_threads()


def set_intra_op_parallelism_threads(num_threads: int) -> None:
    """Let one op use up to `num_threads` threads (0: one per usable CPU, the default)."""
    parallel.set_threads(num_threads)

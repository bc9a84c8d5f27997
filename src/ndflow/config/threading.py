"""`tf.config.threading`: how many threads one op may use (intra-op parallelism).

ndflow runs one op at a time (no inter-op thread pool). Inside an op, independent rows (the
batch rows of a recurrent layer's time loop, the rows of a softmax, the rows of a large matrix
product) are split across ndflow's thread pool. Setting n threads gives the pool n threads and
runs NumPy's BLAS on one thread per call, so that ndflow splits the products itself: OpenBLAS's
own idle threads spin on the cores for a while after each product and would compete with the
pool (W3 here: 6,600 samples/s this way, 4,970 with OpenBLAS's threads). The default, 0,
leaves BLAS as it is (its own setting, e.g. OPENBLAS_NUM_THREADS) and gives the pool the CPUs
that BLAS's threads leave, except in a compiled graph whose products all split into calls
that BLAS runs on one thread (`backend/pool_gemm.py`): that graph's pool has every CPU.

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
    """Let one op use up to `num_threads` threads, its matrix products included (split by
    ndflow, with NumPy's BLAS on one thread); 0 restores BLAS's and ndflow's defaults."""
    parallel.set_threads(num_threads)
    native_calls.set_blas_threads(1 if num_threads > 0 else 0)
    parallel.forget_default()

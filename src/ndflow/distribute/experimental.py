"""`tf.distribute.experimental`: options for the collectives of a multi-worker strategy."""

from __future__ import annotations

import enum


class CommunicationImplementation(enum.Enum):
    """Which collective implementation to use; ndflow always uses MPI (``AUTO``)."""

    AUTO = "AUTO"


class CommunicationOptions:
    """Options for `MultiWorkerMirroredStrategy`'s all-reduce.

    Args:
        bytes_per_pack: the gradient all-reduce bucket size in bytes (small tensors are fused
            into buffers of at most this size); 0 picks the default (25 MiB).
        timeout_seconds: must be None: a dead peer is detected by MPI (``mpirun --with-ft
            ulfm``) or ends the job (plain ``mpirun``), not by a timer.
        implementation: `CommunicationImplementation.AUTO`.

    >>> CommunicationOptions(bytes_per_pack=4 << 20).bytes_per_pack
    4194304
    """

    def __init__(self, bytes_per_pack: int = 0, timeout_seconds: float | None = None,
                 implementation: CommunicationImplementation = CommunicationImplementation.AUTO
                 ) -> None:
        if not isinstance(bytes_per_pack, int) or isinstance(bytes_per_pack, bool) \
                or bytes_per_pack < 0:
            raise ValueError(f"CommunicationOptions: bytes_per_pack must be a non-negative "
                             f"integer, got {bytes_per_pack!r}")
        if timeout_seconds is not None:
            raise ValueError("CommunicationOptions: timeout_seconds is not supported (MPI "
                             "reports a dead peer: run mpirun --with-ft ulfm); pass None")
        if implementation not in (CommunicationImplementation.AUTO, "AUTO"):
            raise ValueError(f"CommunicationOptions: implementation must be AUTO (MPI), got "
                             f"{implementation!r}")
        self.bytes_per_pack = bytes_per_pack
        self.timeout_seconds = None
        self.implementation = CommunicationImplementation.AUTO


__all__ = ["CommunicationImplementation", "CommunicationOptions"]

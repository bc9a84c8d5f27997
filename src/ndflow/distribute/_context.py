"""Which strategy is current (`strategy.scope()`), and this process's worker strategy.

Kept free of imports so that the optimizer and the trainer can ask "is a multi-worker strategy
in use?" at the cost of reading two globals.
"""

from __future__ import annotations

from typing import Any

# strategies entered with `scope()`, innermost last
stack: list = []
# strategies whose `run` is executing (a replica context), innermost last
running: list = []
# the MultiWorkerMirroredStrategy of this process (one process is one worker), once made
worker: Any = None


def current() -> Any:
    """The innermost strategy entered with `scope()`, or None."""
    return stack[-1] if stack else None


def is_chief() -> bool:
    """True unless this process is a worker other than worker 0 of a multi-worker job: files
    (checkpoints, backups, logs, saved models) are written by the chief only."""
    return worker is None or worker._rank == 0

"""Host memory: keep freed arrays' pages for reuse instead of returning them to the system.

A training step allocates and frees the same large arrays (activations, im2col columns,
gradients) every step. glibc's malloc gives blocks above its mmap threshold back to the
kernel on `free` and trims the top of the heap when much of it is free, so the next step's
arrays start on fresh pages: thousands of page faults per step (about 13 MB of zeroed pages
per step of the W2 convnet, a tenth of its time). TensorFlow, JAX and PyTorch's GPU side cache
freed memory in their own allocators; ndflow arrays are NumPy arrays, so ndflow asks glibc to
do the same: serve blocks up to `MMAP_THRESHOLD` from the heap and keep up to
`TRIM_THRESHOLD` of free heap before trimming. Peak memory is unchanged (freed blocks are
reused, not added); what changes is that memory freed after a peak stays with the process.

Set the environment variable ``NDFLOW_KEEP_FREED_MEMORY=0`` before importing ndflow to leave
malloc as it is. Elsewhere than glibc (macOS, Windows, musl) nothing is done.

>>> from ndflow.backend import host_memory
>>> host_memory.keep_freed_memory() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 64 * 2**20
TRIM_THRESHOLD = 512 * 2**20
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
_M_MMAP_THRESHOLD = -3

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Tune glibc's malloc to keep freed pages (once per process); True if it took effect."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("NDFLOW_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith(
            "linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - present only in glibc
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied

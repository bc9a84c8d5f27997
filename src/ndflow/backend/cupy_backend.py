"""The GPU backend: CuPy is the array module. Imported only when a GPU is asked for."""

from __future__ import annotations

from types import ModuleType

_cupy: ModuleType | None = None
_checked = False


def load() -> ModuleType | None:
    """Return the cupy module when it imports and sees a CUDA device, else None."""
    global _cupy, _checked
    if not _checked:
        _checked = True
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # no cupy, no driver, or no device: the GPU is simply absent
            _cupy = None
    return _cupy


def require() -> ModuleType:
    cp = load()
    if cp is None:
        raise RuntimeError(
            "No usable GPU: ndflow's GPU backend needs CuPy and a CUDA device. "
            "Install it with `pip install ndflow[gpu]` on a machine with an NVIDIA GPU."
        )
    return cp


def device_count() -> int:
    cp = load()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()

"""Device names, the device stack used by `ndflow.device`, and array-module lookup.

>>> import ndflow as tf
>>> with tf.device("/CPU:0"):
...     x = tf.ones([2])
>>> x.device
'/job:localhost/replica:0/task:0/device:CPU:0'
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ndflow.backend import cupy_backend

_DEVICE_RE = re.compile(
    r"^(?:/job:\w+)?(?:/replica:\d+)?(?:/task:\d+)?/?(?:device:)?(cpu|gpu)(?::(\d+))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PhysicalDevice:
    name: str
    device_type: str


@dataclass(frozen=True)
class DeviceSpec:
    device_type: str  # "CPU" or "GPU"
    index: int = 0

    @property
    def name(self) -> str:
        return f"/job:localhost/replica:0/task:0/device:{self.device_type}:{self.index}"


CPU0 = DeviceSpec("CPU", 0)
_local = threading.local()


def parse_device(name: str | DeviceSpec | None) -> DeviceSpec:
    if name is None or name == "":
        return current_device()
    if isinstance(name, DeviceSpec):
        return name
    m = _DEVICE_RE.match(name.strip())
    if not m:
        raise ValueError(
            f"device: cannot parse device name {name!r}; expected e.g. '/CPU:0' or '/GPU:0'"
        )
    return DeviceSpec(m.group(1).upper(), int(m.group(2) or 0))


def _stack() -> list[DeviceSpec]:
    st = getattr(_local, "stack", None)
    if st is None:
        st = _local.stack = []
    return st


def current_device() -> DeviceSpec:
    st = _stack()
    return st[-1] if st else CPU0


@contextlib.contextmanager
def device(name: str) -> Iterator[None]:
    """Place tensors created inside the block on the named device."""
    spec = parse_device(name)
    if spec.device_type == "GPU":
        cp = cupy_backend.require()
        if spec.index >= cp.cuda.runtime.getDeviceCount():
            raise ValueError(
                f"device: {name!r} asked for GPU {spec.index} but only "
                f"{cp.cuda.runtime.getDeviceCount()} GPU(s) are visible"
            )
    _stack().append(spec)
    try:
        if spec.device_type == "GPU":
            with cupy_backend.require().cuda.Device(spec.index):
                yield
        else:
            yield
    finally:
        _stack().pop()


def module_for_device(spec: DeviceSpec) -> ModuleType:
    return np if spec.device_type == "CPU" else cupy_backend.require()


def get_array_module(array: Any) -> ModuleType:
    """NumPy for host arrays, CuPy for device arrays (without importing CuPy on the CPU path)."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np
    cp = cupy_backend.load()
    if cp is not None and isinstance(array, cp.ndarray):
        return cp
    return np


def device_of(array: Any) -> DeviceSpec:
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU0
    return DeviceSpec("GPU", int(array.device.id))


def to_device(array: Any, spec: DeviceSpec) -> Any:
    """Copy an array to the given device (no copy when it is already there)."""
    if spec.device_type == "CPU":
        if isinstance(array, np.ndarray):
            return array
        get = getattr(array, "get", None)
        return get() if get is not None else np.asarray(array)
    cp = cupy_backend.require()
    with cp.cuda.Device(spec.index):
        return cp.asarray(array)


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    devices += [
        PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
        for i in range(cupy_backend.device_count())
    ]
    if device_type is not None:
        devices = [d for d in devices if d.device_type == device_type.upper()]
    return devices

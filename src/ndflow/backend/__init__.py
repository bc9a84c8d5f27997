"""Array modules (NumPy on the CPU, CuPy on NVIDIA GPUs) and device placement."""

from ndflow.backend.devices import (
    current_device,
    device,
    get_array_module,
    list_physical_devices,
    to_device,
)

__all__ = ["current_device", "device", "get_array_module", "list_physical_devices", "to_device"]

"""`tf.config`: the devices ndflow sees and how many threads one op may use.

>>> import ndflow as tf
>>> [d.device_type for d in tf.config.list_physical_devices("CPU")]
['CPU']
>>> tf.config.threading.get_intra_op_parallelism_threads()
0
"""

from ndflow.backend.devices import list_physical_devices
from ndflow.config import threading

__all__ = ["list_physical_devices", "threading"]

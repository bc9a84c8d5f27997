"""`ndflow.onnx`: export models and `ndflow.function`s to ONNX, and load ONNX models.

>>> import ndflow as tf
>>> sorted(n for n in dir(tf.onnx) if not n.startswith("_"))
['export', 'load']
"""

from ndflow.export.onnx import export, load

__all__ = ["export", "load"]

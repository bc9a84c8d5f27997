"""ONNX export of traced graphs and ONNX import (`ndflow.onnx`); needs `ndflow[onnx]`."""

from ndflow.export.onnx.exporter import export
from ndflow.export.onnx.importer import load

__all__ = ["export", "load"]

"""Export of traced graphs to other runtimes (ONNX: `ndflow.onnx`)."""

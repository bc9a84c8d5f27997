"""Shared checks for ONNX export tests: onnx.checker, then onnxruntime against ndflow's
predict for several batch sizes from one file."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX tests need ndflow[onnx] (onnx, onnxruntime)")
ort = pytest.importorskip("onnxruntime", reason="ONNX tests need ndflow[onnx]")


def sample(shape: tuple, dtype: str, seed: int, high: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, high, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def session(path: str) -> Any:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def assert_matches(model: Any, path: str | os.PathLike, inputs: list[tuple], batches=(1, 4),
                   atol: float = 2e-5, rtol: float = 1e-4, high: int = 5, **export_kw: Any) -> Any:
    """Export `model` once and compare onnxruntime with `model.predict` for each batch size.
    `inputs`: (shape without batch, dtype) per model input."""
    model.export(str(path), format="onnx", **export_kw)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    sess = session(str(path))
    names = [i.name for i in sess.get_inputs()]
    assert len(names) == len(inputs)
    for b in batches:
        xs = [sample((b,) + tuple(s), dt, seed=b + i, high=high) for i, (s, dt) in
              enumerate(inputs)]
        ref = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        got = sess.run(None, dict(zip(names, xs)))
        refs = ref if isinstance(ref, (list, tuple)) else [ref]
        assert len(got) == len(refs)
        for r, g in zip(refs, got):
            assert g.shape == np.shape(r), (g.shape, np.shape(r))
            np.testing.assert_allclose(g, r, atol=atol, rtol=rtol)
    return proto

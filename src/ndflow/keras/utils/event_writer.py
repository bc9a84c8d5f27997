"""`EventWriter`: TensorBoard event files written with the `tensorboard` package's own file
writer and protocol buffers (no TensorFlow): scalars, histograms, images, text and graphs.

Scalars are written as ``simple_value`` and histograms as ``HistogramProto``: the record
forms every TensorBoard (and its `EventAccumulator`) reads directly.

>>> import tempfile
>>> w = EventWriter(tempfile.mkdtemp())          # doctest: +SKIP
>>> w.scalar("epoch_loss", 0.5, step=0); w.close()  # doctest: +SKIP
"""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

import numpy as np

_HINT = 'install it with: pip install "ndflow[tensorboard]"'


def require_tensorboard() -> Any:
    """The `tensorboard` module, or an ImportError naming the extra."""
    try:
        import tensorboard
        from tensorboard.compat.proto import event_pb2  # noqa: F401
    except ImportError as e:
        raise ImportError(f"TensorBoard logging needs the `tensorboard` package ({e}); "
                          f"{_HINT}") from None
    return tensorboard


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image (H, W) or (H, W, C) with C in 1, 2, 3, 4 (zlib only)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"encode_png: expected a uint8 image, got dtype {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"encode_png: expected shape (H, W) or (H, W, 1|2|3|4), got "
                         f"{img.shape}")
    h, w, c = img.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


class EventWriter:
    """One event file in `logdir` (created on first use), written asynchronously by
    tensorboard's `EventFileWriter`. `clock` gives the wall time (tests inject it)."""

    def __init__(self, logdir: str, clock: Any = time.time) -> None:
        require_tensorboard()
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.logdir = logdir
        self._clock = clock
        self._writer = EventFileWriter(logdir)
        self.closed = False

    # --- records -----------------------------------------------------------------------------
    def _add(self, step: int, **fields: Any) -> None:
        from tensorboard.compat.proto import event_pb2

        self._writer.add_event(event_pb2.Event(wall_time=float(self._clock()), step=int(step),
                                               **fields))

    def _summary(self, step: int, value: Any) -> None:
        from tensorboard.compat.proto import summary_pb2

        self._add(step, summary=summary_pb2.Summary(value=[value]))

    def scalar(self, tag: str, value: Any, step: int) -> None:
        """A scalar under `tag` (shown on the Scalars tab)."""
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.scalar import metadata

        meta = metadata.create_summary_metadata(display_name=tag, description="")
        self._summary(step, summary_pb2.Summary.Value(
            tag=tag, simple_value=float(np.asarray(value)), metadata=meta))

    def histogram(self, tag: str, values: Any, step: int, buckets: int = 30) -> None:
        """A histogram of `values` in `buckets` equal-width bins (the Histograms tab)."""
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.compat.proto.histogram_pb2 import HistogramProto

        v = np.asarray(values, dtype=np.float64).ravel()
        v = v[np.isfinite(v)]
        if v.size == 0:
            proto = HistogramProto(min=0.0, max=0.0, num=0, sum=0.0, sum_squares=0.0,
                                   bucket_limit=[0.0], bucket=[0.0])
        else:
            lo, hi = float(v.min()), float(v.max())
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            counts, edges = np.histogram(v, bins=buckets, range=(lo, hi))
            proto = HistogramProto(min=float(v.min()), max=float(v.max()), num=float(v.size),
                                   sum=float(v.sum()), sum_squares=float(np.dot(v, v)),
                                   bucket_limit=edges[1:].tolist(),
                                   bucket=counts.astype(np.float64).tolist())
        self._summary(step, summary_pb2.Summary.Value(tag=tag, histo=proto))

    def image(self, tag: str, images: Any, step: int, max_outputs: int = 3) -> None:
        """Images (N, H, W, C) or one (H, W, C); floats in [0, 1] or uint8 (the Images tab).
        Several images get tags ``tag/image/0``, ``tag/image/1``... as TF1 summaries do."""
        from tensorboard.compat.proto import summary_pb2

        arr = np.asarray(images)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4:
            raise ValueError(f"EventWriter.image: expected (N, H, W, C) or (H, W, C) images, "
                             f"got shape {arr.shape}")
        if arr.dtype != np.uint8:
            arr = np.clip(np.nan_to_num(arr.astype(np.float64)) * 255.0 + 0.5, 0, 255)
            arr = arr.astype(np.uint8)
        n = min(len(arr), max_outputs)
        values = []
        for i in range(n):
            img = arr[i]
            name = tag if n == 1 else f"{tag}/image/{i}"
            values.append(summary_pb2.Summary.Value(tag=name, image=summary_pb2.Summary.Image(
                height=img.shape[0], width=img.shape[1], colorspace=img.shape[2],
                encoded_image_string=encode_png(img))))
        self._add(step, summary=summary_pb2.Summary(value=values))

    def text(self, tag: str, text: str, step: int, plugin: str = "text",
             content: bytes = b"") -> None:
        """A string tensor summary for `plugin` (the Text tab by default)."""
        from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2
        from tensorboard.compat.proto.types_pb2 import DT_STRING

        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=plugin, content=content))
        tensor = tensor_pb2.TensorProto(dtype=DT_STRING, string_val=[text.encode("utf-8")],
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto())
        self._summary(step, summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor))

    def graph(self, graph_def: Any, step: int = 0) -> None:
        """A `GraphDef` proto (the Graphs tab)."""
        self._add(step, graph_def=graph_def.SerializeToString())

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        if not self.closed:
            self._writer.close()
            self.closed = True


# --- the traced graph IR as a TensorBoard GraphDef ---------------------------------------------
def graph_to_graph_def(graph: Any) -> Any:
    """`GraphDef` of an `ndflow.graph.ir.Graph`: one node per argument (Placeholder), captured
    variable (VarHandleOp, named by its path), constant (Const) and operation (the op's name),
    each with its output shapes and dtype, edges from the values it reads."""
    require_tensorboard()
    from tensorboard.compat.proto import (
        attr_value_pb2,
        graph_pb2,
        node_def_pb2,
        tensor_shape_pb2,
        types_pb2,
    )

    def shape_proto(shape: tuple) -> Any:
        return tensor_shape_pb2.TensorShapeProto(dim=[
            tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else int(d))
            for d in shape])

    def dtype_enum(dt: Any) -> int:
        name = "DT_" + ("BOOL" if np.dtype(dt) == np.bool_ else np.dtype(dt).name.upper())
        return getattr(types_pb2, name, types_pb2.DT_INVALID)

    gd = graph_pb2.GraphDef()
    names: dict = {}
    used: dict = {}

    def unique(base: str) -> str:
        base = "".join(c if c.isalnum() or c in "._-/" else "_" for c in base) or "node"
        n = used.get(base, 0)
        used[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def add(name: str, op: str, inputs: list, outs: list, extra: dict | None = None) -> None:
        node = node_def_pb2.NodeDef(name=name, op=op, input=inputs)
        if outs:
            node.attr["_output_shapes"].CopyFrom(attr_value_pb2.AttrValue(
                list=attr_value_pb2.AttrValue.ListValue(shape=[shape_proto(v.shape)
                                                               for v in outs])))
            node.attr["dtype"].CopyFrom(attr_value_pb2.AttrValue(type=dtype_enum(outs[0].dtype)))
        for k, v in (extra or {}).items():
            node.attr[k].CopyFrom(attr_value_pb2.AttrValue(s=str(v).encode("utf-8")))
        gd.node.append(node)

    def ref(v: Any) -> str:
        if id(v) in names:
            return names[id(v)]
        if v.kind == "var":
            label = getattr(v.payload, "path", None) or getattr(v.payload, "name", "variable")
            name = unique(str(label))
            add(name, "VarHandleOp", [], [v])
        else:  # a captured constant
            name = unique("Const")
            add(name, "Const", [], [v])
        names[id(v)] = name
        return name

    for i, a in enumerate(graph.args):
        name = unique(f"input_{i}")
        add(name, "Placeholder", [], [a])
        names[id(a)] = name
    for node in graph.nodes:
        inputs = [ref(v) for v in node.inputs]
        if node.kind == "op":
            op_type = node.op.name
        elif node.kind == "assign":
            op_type = node.name
        else:
            op_type = node.name.split(":", 1)[1].split(".")[-1]
            op_type = getattr(node.op, "__qualname__", op_type)
        name = unique(op_type)
        attrs = {k: v for k, v in node.attrs.items() if k not in ("leaves", "slots")}
        add(name, op_type, inputs, node.outputs, attrs)
        for j, out in enumerate(node.outputs):
            names[id(out)] = name if j == 0 else f"{name}:{j}"
    for i, out in enumerate(graph.outputs):
        src = names.get(id(out))
        if src is not None:
            add(unique(f"output_{i}"), "Identity", [src], [out])
    gd.versions.producer = 22
    return gd

"""`TensorBoard`: training logs for TensorBoard, laid out as Keras writes them.

``log_dir/train`` holds the training run (``epoch_<metric>`` per epoch, ``epoch_learning_rate``,
``batch_<metric>`` with ``update_freq``, weight histograms and images, the model graph) and
``log_dir/validation`` the validation run (``epoch_<metric>`` from the ``val_`` logs, and
``evaluation_<metric>_vs_iterations`` after `evaluate`). Event files are written with the
`tensorboard` package (``pip install "ndflow[tensorboard]"``), no TensorFlow needed.

>>> from ndflow import keras
>>> cb = keras.callbacks.TensorBoard(log_dir="./logs", histogram_freq=1)
>>> # model.fit(x, y, epochs=5, callbacks=[cb]); then: tensorboard --logdir ./logs
"""

from __future__ import annotations

import json
import os
import time
import warnings
from typing import Any

import numpy as np

from ndflow.keras.callbacks.callback import Callback
from ndflow.keras.utils.event_writer import EventWriter, graph_to_graph_def, require_tensorboard


def _fail(arg: str, expected: str, got: Any) -> ValueError:
    return ValueError(f"TensorBoard: `{arg}` expected {expected}, got {got!r}.")


class TensorBoard(Callback):
    """Write scalars, histograms, images and the graph of `fit` for TensorBoard.

    Args (as in Keras): `log_dir`; `histogram_freq` (epochs between weight histograms, 0 for
    none); `write_graph` (the traced training step as a graph, and the model's config under
    the ``keras`` tag); `write_images` (weights as images, with the histograms);
    `write_steps_per_second`; `update_freq` (``"epoch"``, ``"batch"`` or every N batches for
    ``batch_`` scalars); `profile_batch` (accepted and ignored: ndflow has no profiler trace;
    a warning says so when non-zero); `embeddings_freq` / `embeddings_metadata` (every N
    epochs the weights are saved beside a ``projector_config.pbtxt`` naming the Embedding
    layers, as Keras 3 does). `clock` (ndflow only) gives wall times, for tests.
    """

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq: int | str = "epoch", profile_batch: int | tuple = 0,
                 embeddings_freq: int = 0, embeddings_metadata: Any = None,
                 clock: Any = time.time) -> None:
        super().__init__()
        require_tensorboard()
        self.log_dir = os.fspath(log_dir)
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise _fail("histogram_freq", "an int >= 0 (epochs between histograms)",
                        histogram_freq)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq < 1):
            raise _fail("update_freq", '"epoch", "batch" or an int >= 1', update_freq)
        self.update_freq = update_freq
        self.profile_batch = self._check_profile_batch(profile_batch)
        if self.profile_batch != (0, 0):
            warnings.warn("TensorBoard: profile_batch is ignored: ndflow has no profiler "
                          "trace to write (set profile_batch=0 to silence this).",
                          stacklevel=2)
        if not isinstance(embeddings_freq, int) or embeddings_freq < 0:
            raise _fail("embeddings_freq", "an int >= 0", embeddings_freq)
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._clock = clock
        self._writers: dict[str, EventWriter] = {}
        self._global_train_batch = 0
        self._should_write_train_graph = False

    @staticmethod
    def _check_profile_batch(profile_batch: Any) -> tuple:
        pb = profile_batch
        if isinstance(pb, str):
            try:
                pb = [int(p) for p in pb.split(",")]
            except ValueError:
                raise _fail("profile_batch", "an int >= 0 or a pair of ints", profile_batch
                            ) from None
        if isinstance(pb, int) and not isinstance(pb, bool):
            pb = (pb, pb)
        if (not isinstance(pb, (tuple, list)) or len(pb) != 2
                or not all(isinstance(p, int) and p >= 0 for p in pb) or pb[0] > pb[1]):
            raise _fail("profile_batch", "an int >= 0 or a pair (start, stop) of ints",
                        profile_batch)
        return tuple(pb)

    # --- writers --------------------------------------------------------------------------------
    @property
    def _train_dir(self) -> str:
        return os.path.join(self.log_dir, "train")

    @property
    def _val_dir(self) -> str:
        return os.path.join(self.log_dir, "validation")

    def _writer(self, which: str) -> EventWriter:
        w = self._writers.get(which)
        if w is None or w.closed:
            w = EventWriter(self._train_dir if which == "train" else self._val_dir,
                            clock=self._clock)
            self._writers[which] = w
        return w

    def _close_writers(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers = {}

    # --- hooks ----------------------------------------------------------------------------------
    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self._close_writers()
        self._should_write_train_graph = False
        if self.write_graph:
            self._write_keras_model_summary()
            self._should_write_train_graph = True
        if self.embeddings_freq:
            self._configure_embeddings()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_train_batch = 0

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close_writers()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = self._clock()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._should_write_train_graph:
            self._write_train_graph()
            self._should_write_train_graph = False
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        w = self._writer("train")
        if self.write_steps_per_second:
            elapsed = self._clock() - self._batch_start
            if elapsed > 0:
                w.scalar("batch_steps_per_second", 1.0 / elapsed, step=step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                if np.size(value) == 1:
                    w.scalar(f"batch_{name}", value, step=step)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.write_steps_per_second:
            self._epoch_start = self._clock()
            self._epoch_start_iterations = self._iterations()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)
        for w in self._writers.values():
            w.flush()

    def on_test_end(self, logs: dict | None = None) -> None:
        it = self._iterations()
        if it is None or not logs:
            return
        w = self._writer("val")
        for name, value in logs.items():
            if np.size(value) == 1:
                w.scalar(f"evaluation_{name}_vs_iterations", value, step=it)
        w.flush()

    # --- what is written ------------------------------------------------------------------------
    def _iterations(self) -> int | None:
        opt = getattr(self.model, "optimizer", None)
        it = getattr(opt, "iterations", None)
        return None if it is None else int(np.asarray(it))

    def _learning_rates(self) -> dict:
        opt = getattr(self.model, "optimizer", None)
        opt = getattr(opt, "inner_optimizer", opt)
        if opt is None:
            return {}
        if hasattr(opt, "optimizers"):
            return {f"learning_rate_{o.name}": float(np.asarray(o.learning_rate))
                    for o in opt.optimizers}
        lr = getattr(opt, "learning_rate", None)
        return {} if lr is None else {"learning_rate": float(np.asarray(lr))}

    def _log_epoch_metrics(self, epoch: int, logs: dict | None) -> None:
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second:
            it = self._iterations()
            dt = self._clock() - self._epoch_start
            if it is not None and dt > 0:
                train["steps_per_second"] = (it - (self._epoch_start_iterations or 0)) / dt
        for which, values in (("train", train), ("val", val)):
            if values:
                w = self._writer(which)
                for name, value in values.items():
                    if np.size(value) == 1:
                        w.scalar(f"epoch_{name}", value, step=epoch)

    def _log_weights(self, epoch: int) -> None:
        w = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = str(getattr(weight, "path", None) or weight.name).replace(":", "_")
                value = np.asarray(weight)
                w.histogram(f"{name}/histogram", value, step=epoch)
                if self.write_images:
                    img = self._weight_image(value)
                    if img is not None:
                        w.image(f"{name}/image", img, step=epoch)
        w.flush()

    @staticmethod
    def _weight_image(w: np.ndarray) -> np.ndarray | None:
        """A weight as images (N, H, W, 1) scaled to [0, 1], as Keras shows them: a bias as one
        row, a dense kernel wider than tall, each 2-D conv kernel output as one image."""
        w = np.squeeze(w)
        if w.ndim == 1:
            w = w.reshape(1, 1, -1, 1)
        elif w.ndim == 2:
            if w.shape[0] > w.shape[1]:
                w = w.T
            w = w.reshape(1, w.shape[0], w.shape[1], 1)
        elif w.ndim == 3:
            w = np.transpose(w, (2, 0, 1))[..., None]
        else:
            return None
        lo, hi = float(w.min()), float(w.max())
        return (w - lo) / (hi - lo) if hi > lo else np.zeros_like(w, dtype=np.float64)

    def _write_train_graph(self) -> None:
        fn = getattr(self.model, "train_function", None)
        cache = getattr(fn, "_cache", None)
        if not cache:
            return  # run_eagerly: no traced graph (Keras writes none either)
        concrete = next(iter(cache.values()))
        w = self._writer("train")
        w.graph(graph_to_graph_def(concrete.graph))
        w.flush()

    def _write_keras_model_summary(self) -> None:
        """The model config under the ``keras`` tag, TensorBoard's conceptual graph."""
        if type(self.model).__name__ not in ("Functional", "Sequential"):
            return
        try:
            config = json.dumps({"class_name": type(self.model).__name__,
                                 "config": self.model.get_config()}, default=str)
        except (TypeError, ValueError, NotImplementedError) as e:
            warnings.warn(f"TensorBoard: the model config could not be written ({e}).",
                          stacklevel=2)
            return
        w = self._writer("train")
        w.text("keras", config, step=0, plugin="graph_keras_model", content=b"1")
        w.flush()

    def _configure_embeddings(self) -> None:
        from google.protobuf import text_format
        from tensorboard.plugins import projector

        from ndflow.keras.layers import Embedding

        metadata = self.embeddings_metadata
        if isinstance(metadata, dict):
            metadata = dict(metadata)
        config = projector.ProjectorConfig()
        for layer in self.model.layers:
            if isinstance(layer, Embedding):
                emb = config.embeddings.add()
                emb.tensor_name = "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
                if isinstance(metadata, str):
                    emb.metadata_path = metadata
                elif isinstance(metadata, dict) and layer.name in metadata:
                    emb.metadata_path = metadata.pop(layer.name)
        if isinstance(metadata, dict) and metadata:
            raise ValueError(f"TensorBoard: `embeddings_metadata` names layers that are not "
                             f"Embedding layers of the model: {sorted(metadata)}")
        os.makedirs(self.log_dir, exist_ok=True)
        path = os.path.join(self.log_dir, "projector_config.pbtxt")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text_format.MessageToString(config))
        os.replace(tmp, path)

    def _log_embeddings(self, epoch: int) -> None:
        os.makedirs(self._train_dir, exist_ok=True)
        self.model.save_weights(os.path.join(
            self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.h5"))

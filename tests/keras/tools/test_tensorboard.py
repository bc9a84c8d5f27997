"""keras.callbacks.TensorBoard: logs from `fit` read back with TensorBoard's own
`EventAccumulator`, then served by the real `tensorboard` server and shown by headless
Chromium (a screenshot lands in tests-output/)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

pytest.importorskip("tensorboard", reason='needs ndflow[tensorboard] (pip install tensorboard)')
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

from ndflow import keras  # noqa: E402
from ndflow.keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests-output")


def _fit(log_dir, **tb_kwargs):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x.sum(1) > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    sched = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=4, decay_rate=0.5)
    model.compile(keras.optimizers.SGD(sched), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    lrs = []
    lr_cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(
        float(np.asarray(model.optimizer.learning_rate))))
    tb = keras.callbacks.TensorBoard(log_dir=log_dir, **tb_kwargs)
    hist = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=[lr_cb, tb])
    return model, hist, lrs


def _load(path):
    acc = EventAccumulator(path, size_guidance={"scalars": 0, "histograms": 0, "images": 0,
                                                "tensors": 0})
    acc.Reload()
    return acc


def test_fit_logs_read_back_with_event_accumulator(tmp_path):
    log_dir = str(tmp_path / "logs")
    model, hist, lrs = _fit(log_dir, histogram_freq=1, write_images=True, update_freq=2)
    assert sorted(os.listdir(log_dir)) == ["train", "validation"]
    train, val = _load(os.path.join(log_dir, "train")), _load(os.path.join(log_dir, "validation"))
    for key in ("loss", "accuracy"):
        got = [e.value for e in train.Scalars(f"epoch_{key}")]
        np.testing.assert_allclose(got, hist.history[key], rtol=1e-6)
        assert [e.step for e in train.Scalars(f"epoch_{key}")] == [0, 1, 2]
        got_val = [e.value for e in val.Scalars(f"epoch_{key}")]
        np.testing.assert_allclose(got_val, hist.history["val_" + key], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_learning_rate")], lrs,
                               rtol=1e-6)
    assert lrs[0] > lrs[-1]  # the schedule decayed, and the log shows it
    # 48 training samples / 16 = 3 batches per epoch, 9 in all: update_freq=2 -> steps 2,4,6,8
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]
    tags = train.Tags()
    kernel_tag = next(t for t in tags["histograms"] if t.endswith("kernel/histogram"))
    h = train.Histograms(kernel_tag)
    assert [e.step for e in h] == [0, 1, 2]
    w = np.asarray(model.layers[0].weights[0])
    assert h[-1].histogram_value.num == w.size
    assert np.isclose(h[-1].histogram_value.max, w.max(), rtol=1e-6)
    assert len(tags["histograms"]) == 4  # two kernels, two biases
    assert any(t.endswith("kernel/image") for t in tags["images"])
    graph = train.Graph()
    ops = {n.op for n in graph.node}
    assert {"Placeholder", "VarHandleOp", "matmul"} <= ops, ops  # the backward pass's matmuls
    assert any("kernel" in n.name for n in graph.node if n.op == "VarHandleOp")
    assert "keras" in tags["tensors"]  # the model config (TensorBoard's conceptual graph)
    cfg = json.loads(train.Tensors("keras")[0].tensor_proto.string_val[0])
    assert cfg["class_name"] == "Sequential"


def test_arguments_checked_like_keras(tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(str(tmp_path), update_freq="sometimes")
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(str(tmp_path), profile_batch="a,b")
    with pytest.warns(UserWarning, match="profile_batch is ignored"):
        keras.callbacks.TensorBoard(str(tmp_path), profile_batch=(2, 4))
    assert keras.callbacks.TensorBoard(str(tmp_path), update_freq="batch").update_freq == 1


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_tensorboard_server_serves_the_scalars_and_chromium_shows_them(tmp_path):
    log_dir = str(tmp_path / "logs")
    _, hist, _ = _fit(log_dir)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", log_dir, "--host", "127.0.0.1",
         "--port", str(port), "--load_fast", "false", "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        data = None
        for _ in range(120):  # the server loads plugins, then the logs
            try:
                data = json.loads(_get(f"{base}/data/plugin/scalars/scalars?run=train"
                                       f"&tag=epoch_loss"))
                if len(data) == 3:
                    break
            except Exception:
                pass
            time.sleep(0.5)
        assert data is not None and len(data) == 3, f"no scalars from the server: {data}"
        np.testing.assert_allclose([d[2] for d in data], hist.history["loss"], rtol=1e-6)
        assert [d[1] for d in data] == [0, 1, 2]
        runs = json.loads(_get(f"{base}/data/runs"))
        assert set(runs) == {"train", "validation"}
        val = json.loads(_get(f"{base}/data/plugin/scalars/scalars?run=validation"
                              f"&tag=epoch_loss"))
        np.testing.assert_allclose([d[2] for d in val], hist.history["val_loss"], rtol=1e-6)
        graph = _get(f"{base}/data/plugin/graphs/graph?run=train&conceptual=false").decode()
        assert 'op: "Placeholder"' in graph and 'op: "VarHandleOp"' in graph
        assert 'op: "matmul"' in graph

        chromium = _chromium()
        if chromium is None:
            if os.environ.get("CI"):
                pytest.fail("CI must have chromium (apt-get install -y chromium)")
            pytest.skip("chromium is not installed (apt-get install -y chromium)")
        os.makedirs(OUT, exist_ok=True)
        shot = os.path.abspath(os.path.join(OUT, "tensorboard_scalars.png"))
        if os.path.exists(shot):
            os.remove(shot)
        profile = str(tmp_path / "chromium-profile")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", "--window-size=1280,900",
               "--virtual-time-budget=15000", f"--screenshot={shot}",
               f"{base}/?darkMode=false#timeseries"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert os.path.exists(shot), f"chromium made no screenshot: {proc.stderr[-2000:]}"
        with open(shot, "rb") as f:
            png = f.read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

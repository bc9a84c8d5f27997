"""The exported digits model leaves Python: Node.js (onnxruntime-node) and a browser
(onnxruntime-web in headless Chromium, page served from localhost) classify the bundled test
digits exactly as ndflow does (issue 14). CI installs both: `npm ci --ignore-scripts` in
tests/export/js and Debian's chromium (.ci/run)."""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import queue
import shutil
import subprocess
import threading

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import layers
from tests.export.onnx_harness import session

JS = pathlib.Path(__file__).parent / "js"
MODULES = JS / "node_modules"
OUT = pathlib.Path(__file__).parents[2] / "tests-output"


def _need(what: str, ok: bool, how: str) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide {what} ({how})")
    pytest.skip(f"{what} is not installed ({how})")


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A small convnet trained on the bundled digits, exported to ONNX, and the test digits
    (raw 0..255 pixels) with ndflow's predictions."""
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    model = keras.Sequential([
        keras.Input((8, 8, 1), name="digits"),
        layers.Conv2D(8, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train.reshape(-1, 8, 8, 1).astype("float32") / 255, y_train, epochs=8,
              batch_size=32, verbose=0)
    raw = np.asarray(x_test).reshape(-1, 8, 8).astype(np.int64)
    assert raw.min() >= 0 and raw.max() <= 255 and np.all(raw == np.asarray(x_test).reshape(
        -1, 8, 8))  # whole pixel values: a canvas holds them exactly
    x = (raw.astype("float32") / 255).reshape(-1, 8, 8, 1)
    pred = model.predict(x, verbose=0).argmax(1)
    acc = float(np.mean(pred == y_test))
    assert acc > 0.85, acc
    folder = tmp_path_factory.mktemp("digits_onnx")
    model.export(str(folder / "digits.onnx"))
    ort_pred = session(str(folder / "digits.onnx")).run(None, {"digits": x})[0].argmax(1)
    np.testing.assert_array_equal(ort_pred, pred)
    return {"folder": folder, "raw": raw, "x": x, "y": np.asarray(y_test), "pred": pred,
            "acc": acc}


def test_node_classifies_digits_like_ndflow(digits_model, tmp_path):
    node = shutil.which("node")
    _need("node", node is not None, "apt-get install -y nodejs")
    _need("onnxruntime-node", (MODULES / "onnxruntime-node").is_dir(),
          "cd tests/export/js && npm ci --ignore-scripts")
    d = digits_model
    data = tmp_path / "digits.json"
    data.write_text(json.dumps({"shape": list(d["x"].shape), "x": d["x"].ravel().tolist(),
                                "y": d["y"].tolist()}))
    proc = subprocess.run([node, str(JS / "classify_digits.mjs"),
                           str(d["folder"] / "digits.onnx"), str(data)],
                          capture_output=True, text=True, timeout=120, cwd=JS)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["input"] == "digits"
    np.testing.assert_array_equal(result["predictions"], d["pred"])
    assert result["accuracy"] == pytest.approx(d["acc"], abs=1e-12)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(routes: dict, results: queue.Queue) -> _Server:
    types = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
             ".wasm": "application/wasm", ".json": "application/json",
             ".onnx": "application/octet-stream"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            file = routes.get(path)
            if file is None and path.startswith("/ort/"):
                candidate = MODULES / "onnxruntime-web" / "dist" / path[5:]
                if candidate.is_file() and ".." not in path:
                    file = candidate
            if file is None:
                self.send_error(404)
                return
            body = pathlib.Path(file).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", types.get(pathlib.Path(file).suffix,
                                                       "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            results.put(json.loads(self.rfile.read(n)))
            self.send_response(204)
            self.end_headers()

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_browser_classifies_digits_like_ndflow(digits_model, tmp_path):
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                     if shutil.which(n)), None)
    _need("chromium", chromium is not None, "apt-get install -y chromium")
    _need("onnxruntime-web", (MODULES / "onnxruntime-web" / "dist").is_dir(),
          "cd tests/export/js && npm ci --ignore-scripts")
    d = digits_model
    data = tmp_path / "digits.json"
    data.write_text(json.dumps({"shape": list(d["raw"].shape), "x": d["raw"].ravel().tolist(),
                                "y": d["y"].tolist()}))
    results: queue.Queue = queue.Queue()
    server = _serve({"/": JS / "web" / "index.html", "/digits.json": data,
                     "/model.onnx": d["folder"] / "digits.onnx"}, results)
    OUT.mkdir(exist_ok=True)
    shot = tmp_path / "onnx_browser_digits.png"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1000",
               "--virtual-time-budget=30000", f"--screenshot={shot}", url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        try:
            result = results.get(timeout=60)
        except queue.Empty:
            pytest.fail(f"the page posted no predictions; chromium said: {proc.stderr[-2000:]}")
    finally:
        server.shutdown()
        server.server_close()
    assert "error" not in result, result
    np.testing.assert_array_equal(result["predictions"], d["pred"])
    assert shot.exists(), f"chromium made no screenshot: {proc.stderr[-2000:]}"
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    shutil.copyfile(shot, OUT / shot.name)

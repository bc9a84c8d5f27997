"""keras.utils details not covered by the Keras comparison: interactive logging routes the
progress bar to the logger, save_img writes atomically, the docstring examples run, and
image_dataset_from_directory reshuffles each pass with a seed."""

from __future__ import annotations

import doctest
import importlib
import logging

import numpy as np
import pytest

from ndflow import keras


def test_disabled_interactive_logging_sends_fit_progress_to_the_logger(capsys, caplog):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    keras.utils.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="ndflow"):
            model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2, verbose=2)
    finally:
        keras.utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    lines = [r.getMessage() for r in caplog.records if r.name == "ndflow"]
    assert any("Epoch 2/2" in m for m in lines) and any("loss" in m for m in lines)


@pytest.mark.parametrize("module", [
    "ndflow.keras.utils.config", "ndflow.keras.utils.io_utils",
    "ndflow.keras.utils.dtype_utils", "ndflow.keras.utils.keras_tensor_utils",
    "ndflow.keras.utils.dataset_split", "ndflow.keras.utils.legacy",
    "ndflow.keras.utils.py_dataset_workers", "ndflow.keras.utils.bounding_boxes",
])
def test_docstring_examples(module):
    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_save_img_is_atomic_and_reshuffles_each_pass(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(1)
    for c in ("a", "b"):
        (tmp_path / "d" / c).mkdir(parents=True)
        for i in range(6):
            keras.utils.save_img(str(tmp_path / "d" / c / f"{i}.png"),
                                 rng.integers(0, 255, (4, 4, 3)).astype("float32"), scale=False)
    assert not [p for p in (tmp_path / "d" / "a").iterdir() if p.name.startswith(".save_img")]
    ds = keras.utils.image_dataset_from_directory(str(tmp_path / "d"), image_size=(4, 4),
                                                  batch_size=12, seed=5, verbose=False)
    (x1, y1), = list(ds)
    (x2, y2), = list(ds)
    assert not np.array_equal(y1.numpy(), y2.numpy()) or not np.array_equal(x1.numpy(),
                                                                           x2.numpy())
    key = lambda x, y: sorted(map(tuple, np.concatenate(
        [x.numpy().reshape(12, -1), y.numpy()[:, None]], 1).tolist()))
    assert key(x1, y1) == key(x2, y2)
    ds2 = keras.utils.image_dataset_from_directory(str(tmp_path / "d"), image_size=(4, 4),
                                                   batch_size=12, seed=5, verbose=False)
    (x3, y3), = list(ds2)
    np.testing.assert_array_equal(y3.numpy(), y1.numpy())  # same seed, same first pass


def test_remote_monitor_posts_form_and_json(tmp_path):
    import http.server
    import json
    import threading
    import urllib.parse

    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, self.headers["Content-Type"], self.headers.get("X-Run"),
                        body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
        h = model.fit(x, y, epochs=2, verbose=0, callbacks=[
            keras.callbacks.RemoteMonitor(root=root, headers={"X-Run": "a"}),
            keras.callbacks.RemoteMonitor(root=root, path="/j", send_as_json=True)])
    finally:
        httpd.shutdown()
        httpd.server_close()
    form = [g for g in got if g[0] == "/publish/epoch/end/"]
    js = [g for g in got if g[0] == "/j"]
    assert len(form) == len(js) == 2
    assert form[0][1] == "application/x-www-form-urlencoded" and form[0][2] == "a"
    sent = json.loads(urllib.parse.parse_qs(form[1][3].decode())["data"][0])
    assert sent == {"epoch": 1, "loss": pytest.approx(h.history["loss"][1])}
    assert js[0][1] == "application/json"
    assert json.loads(js[0][3]) == {"epoch": 0, "loss": pytest.approx(h.history["loss"][0])}
    # an unreachable server warns and training goes on
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            keras.callbacks.RemoteMonitor(root="http://127.0.0.1:9", timeout=2)])


def test_swap_ema_weights_around_predict_restores_raw_weights():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    x, y = np.ones((4, 2), "float32"), np.full((4, 1), 3.0, "float32")
    for _ in range(3):
        model.train_on_batch(x, y)
    raw = [w.copy() for w in model.get_weights()]
    cb = keras.callbacks.SwapEMAWeights()
    p_ema = model.predict(x, verbose=0, callbacks=[cb])
    p_raw = model.predict(x, verbose=0)
    assert not np.allclose(p_ema, p_raw)
    for a, b in zip(model.get_weights(), raw):
        np.testing.assert_array_equal(a, b)


class _Batches(keras.utils.PyDataset):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(n, 3)).astype("float32")
        self.y = (self.x @ np.array([[1.0], [2.0], [-1.0]], "float32"))
        self.who = []

    def __len__(self):
        return len(self.x) // 4

    def __getitem__(self, i):
        import os
        import threading

        self.who.append((os.getpid(), threading.get_ident()))
        return self.x[4 * i:4 * i + 4], self.y[4 * i:4 * i + 4]


@pytest.mark.parametrize("kw", [{"workers": 3}, {"workers": 2, "use_multiprocessing": True}],
                         ids=["threads", "processes"])
def test_pydataset_workers_load_in_parallel_in_order(kw):
    import os

    def train(data):
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        m.compile(keras.optimizers.SGD(0.05), "mse")
        h = m.fit(data, epochs=2, verbose=0, shuffle=False)
        return h.history["loss"], m.predict(data, verbose=0)

    seq = _Batches(40)
    par = _Batches(40, max_queue_size=3, **kw)
    loss_a, pred_a = train(seq)
    loss_b, pred_b = train(par)
    assert loss_a == loss_b  # the same batches in the same order
    np.testing.assert_array_equal(pred_a, pred_b)
    if kw.get("use_multiprocessing"):
        assert not par.who  # loaded in the workers' copies, not here
    else:
        assert len({t for _, t in par.who}) > 1 and {p for p, _ in par.who} == {os.getpid()}


def test_ordered_batches_stops_early_without_leaking():
    from ndflow.keras.utils.py_dataset_workers import ordered_batches

    gen = ordered_batches(list(range(100)), range(100), workers=4, use_multiprocessing=False,
                          max_queue_size=5)
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()


def test_progbar_first_draw_on_a_freshly_booted_host(monkeypatch):
    # perf_counter counts from boot on Linux: below the redraw interval an hour after boot
    import io

    from ndflow.keras.utils import progbar

    ticks = iter(range(10, 10_000))
    monkeypatch.setattr(progbar.time, "perf_counter", lambda: float(next(ticks)))

    class TTY(io.StringIO):
        def isatty(self):
            return True

    out = TTY()
    bar = progbar.Progbar(10, stream=out, interval=3600)
    for i in range(1, 11):
        bar.update(i)
    assert out.getvalue().count("\r") == 2  # the first draw and the final one

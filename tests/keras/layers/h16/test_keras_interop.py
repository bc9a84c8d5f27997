"""The issue-16 layers, losses, metrics and the STFT initializer against real Keras 3 (torch
backend, in a subprocess): `.keras` files saved by Keras load in ndflow and compute the same
outputs and gradients, ndflow's files (after changing the weights) load in Keras and compute
what ndflow computes, layer configs equal Keras's, and losses/metrics/initializers give
Keras's values on a table of inputs, and RemoteMonitor posts what Keras's posts. Keras's
spectrogram layers and RemoteMonitor need scipy and requests (in the keras-interop extra).

Tolerances: every layer agrees to float32 rounding (rtol 2e-4, atol 2e-5: different sum
orders in conv/matmul kernels) except `MelSpectrogram`: Keras (torch) takes an FFT, ndflow a
DFT as a matrix product (float32 both); measured differences are <= 3e-5 relative on the
mel powers (sums of up to 2048 products) and <= 1e-4 dB after the decibel scale, so the test
allows 1e-4 relative / 2e-4 absolute there. `STFTSpectrogram`'s default "log" mode divides
the input gradient by each bin's magnitude, so nearly empty bins magnify those rounding
differences: measured up to 3.2e-5 absolute on gradients of up to ~0.03 (AMD EPYC, OpenBLAS's
Haswell kernels), so "spec" allows 1e-4 absolute.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None,
    reason="needs the keras-interop extra (keras + torch==2.13.0)")

SCRIPT = os.path.join(os.path.dirname(__file__), "keras_h16_script.py")
NAMES = ["norm", "pool2d", "pool13", "spec", "spec2", "mel", "rev", "pipe"]
TRAIN = ["norm"]
TOL = {"mel": (1e-4, 2e-4), "spec": (2e-4, 1e-4)}
MINE = {"GroupNormalization", "RMSNormalization", "SpectralNormalization", "AlphaDropout",
        "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
        "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
        "STFTSpectrogram", "MelSpectrogram", "ReversibleEmbedding", "Pipeline"}


def _fresh_model():
    """A model of the new layers built by ndflow (not loaded from a Keras file)."""
    L = keras.layers
    keras.utils.set_random_seed(1)
    inp = keras.Input((64, 2))
    h = L.STFTSpectrogram(mode="magnitude", frame_length=16, frame_step=8,
                          window="hamming")(inp)  # (None, 7, 18)
    h = L.GroupNormalization(groups=-1)(h)
    h = L.RMSNormalization(axis=[1, 2])(h)
    h = L.SpectralNormalization(L.Dense(6))(h)
    h = L.AdaptiveAveragePooling1D(4)(h)
    h = L.AlphaDropout(0.1)(L.Pipeline([L.Dense(5, activation="relu"), L.Dense(4)])(h))
    ids = keras.Input((4,), dtype="int32")
    emb = L.ReversibleEmbedding(12, 5)
    e = emb(emb(ids), reverse=True)
    out = L.Concatenate()([L.Flatten()(h), L.Flatten()(e)])
    return keras.Model([inp, ids], L.Dense(3)(out))


def _keras(mode: str, *args: str) -> None:
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, mode, *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"


class _Posts:
    """A local HTTP server recording the POSTs it gets: (path, content type, X-Run, data)."""

    def __init__(self) -> None:
        import http.server
        import threading
        import urllib.parse

        got: list = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ctype = self.headers["Content-Type"]
                data = (json.loads(body) if ctype == "application/json" else
                        json.loads(urllib.parse.parse_qs(body.decode())["data"][0]))
                got.append((self.path, ctype, self.headers.get("X-Run"), data))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.got = got
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_keras_interop(tmp_path):
    """One test, so that the Keras subprocesses (slow to import) run once under xdist:
    Keras's files, values and posts are made in one subprocess, checked here, and ndflow's
    files are checked by a second one."""
    keras_files = str(tmp_path / "keras")
    os.makedirs(keras_files)
    _save_in_keras(keras_files)
    for name in NAMES:
        check_keras_file_loads_in_ndflow(keras_files, name)
    check_losses_metrics_and_stft_initializer(keras_files)
    check_remote_monitor_posts(keras_files)
    mine = str(tmp_path / "ndflow")
    os.makedirs(mine)
    check_ndflow_files_load_in_keras(keras_files, mine)


def _save_in_keras(folder: str) -> None:
    """The models, the loss/metric values, and RemoteMonitor's posts, from Keras."""
    server = _Posts()
    try:
        _keras("save", folder, server.root)
    finally:
        server.close()
    with open(os.path.join(folder, "posts.json"), "w") as f:
        json.dump(server.got, f)


def _inputs(ref: dict) -> list:
    return [ref[f"x{i}"] for i in range(4) if f"x{i}" in ref]


def _run(model, xs: list, ref: dict) -> dict:
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in ts:
            if t.dtype.is_floating:
                tape.watch(t)
        ys = model(ts if len(ts) > 1 else ts[0])
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        loss = tf.add_n([tf.reduce_sum(y * ref[f"w{i}"]) for i, y in enumerate(ys)])
    floats = [t for t in ts if t.dtype.is_floating]
    grads = tape.gradient(loss, list(model.trainable_weights) + floats)
    out = {f"y{i}": y.numpy() for i, y in enumerate(ys)}
    out.update({f"w{i}": ref[f"w{i}"] for i in range(len(ys))})
    for i in range(len(model.trainable_weights)):
        out[f"g{i}"] = grads[i].numpy()
    k = len(model.trainable_weights)
    for i, t in enumerate(ts):
        if t.dtype.is_floating:
            out[f"gx{i}"] = grads[k].numpy()
            k += 1
    return out


def _close(got: dict, want: dict, what: str, tol: tuple = (2e-4, 2e-5)) -> None:
    keys = sorted(k for k in want if k[0] in "ygw" and not k.startswith("w"))
    assert sorted(k for k in got if not k.startswith("w")) == keys, what
    for k in keys:
        np.testing.assert_allclose(got[k], want[k], rtol=tol[0], atol=tol[1],
                                   err_msg=f"{what}: {k}")


def _plain(cfg):
    """A config with Keras's dtype policies as names and tuples as lists, for comparison."""
    if isinstance(cfg, dict):
        if cfg.get("class_name") == "DTypePolicy":
            return cfg["config"]["name"]
        return {k: _plain(v) for k, v in cfg.items() if k not in ("name",)}
    if isinstance(cfg, (list, tuple)):
        return [_plain(v) for v in cfg]
    return cfg


def check_keras_file_loads_in_ndflow(keras_files: str, name: str) -> None:
    ref = dict(np.load(os.path.join(keras_files, name + ".keras.npz"), allow_pickle=False))
    model = keras.models.load_model(os.path.join(keras_files, name + ".keras"))
    tol = TOL.get(name, (2e-4, 2e-5))
    _close(_run(model, _inputs(ref), ref), ref, f"{name}: Keras -> ndflow", tol)
    with open(os.path.join(keras_files, name + ".json")) as f:
        kcfg = json.load(f)
    for layer in model.layers:
        if type(layer).__name__ not in MINE:
            continue
        want = _plain(kcfg[layer.name])
        if want.get("quantization_config", 0) is None:  # ndflow has no quantized layers
            del want["quantization_config"]
        got = _plain(json.loads(json.dumps(layer.get_config())))
        if "layer" in want:  # the wrapped layer: compare its class and its own arguments
            assert got["layer"]["class_name"] == want["layer"]["class_name"]
            want_inner, got_inner = want.pop("layer")["config"], got.pop("layer")["config"]
            for k in ("units", "filters", "kernel_size", "activation", "use_bias"):
                assert got_inner.get(k) == want_inner.get(k), (layer.name, k)
        if "layers" in want:  # Pipeline
            assert [v["class_name"] for v in got.pop("layers")] == [
                v["class_name"] for v in want.pop("layers")]
        assert got == want, f"{name}/{layer.name}: config\n{got}\nvs Keras\n{want}"
    if name in TRAIN:  # one training=True call: SpectralNormalization updates its weights
        model(tf.constant(ref["x0"]), training=True)
        for i, v in enumerate(model.weights):
            np.testing.assert_allclose(v.numpy(), ref[f"t{i}"], rtol=2e-4, atol=2e-6,
                                       err_msg=f"{name}: weight {v.path} after training call")


def check_ndflow_files_load_in_keras(keras_files: str, folder: str) -> None:
    for name in NAMES:
        ref = dict(np.load(os.path.join(keras_files, name + ".keras.npz"), allow_pickle=False))
        model = keras.models.load_model(os.path.join(keras_files, name + ".keras"))
        rng = np.random.default_rng(9)
        model.set_weights([w + 0.2 * rng.standard_normal(w.shape).astype(w.dtype)
                           for w in model.get_weights()])
        xs = _inputs(ref)
        mine = _run(model, xs, ref)
        np.savez(os.path.join(folder, name + ".mine.npz"), **mine)
        np.savez(os.path.join(folder, name + ".keras.npz"),
                 **{f"x{i}": x for i, x in enumerate(xs)})
        model.save(os.path.join(folder, name + ".nd.keras"))
    fresh = _fresh_model()
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((3, 64, 2)).astype("float32"),
          rng.integers(0, 12, (3, 4)).astype("int32")]
    # the cotangent the Keras script draws for a (3, 3) output
    ref = {"w0": np.random.default_rng(11).standard_normal((3, 3)).astype("float32")}
    fresh(xs, training=True)  # SpectralNormalization's update, so vector_u is not its init
    mine = _run(fresh, xs, ref)
    np.savez(os.path.join(folder, "fresh.mine.npz"), **mine,
             **{f"x{i}": x for i, x in enumerate(xs)})
    fresh.save(os.path.join(folder, "fresh.nd.keras"))
    _keras("load", folder)
    back = dict(np.load(os.path.join(folder, "fresh.nd.npz"), allow_pickle=False))
    mine = {k: v for k, v in mine.items() if not k.startswith("w")}
    _close(back, mine, "fresh ndflow model -> Keras")
    for name in NAMES:
        mine = dict(np.load(os.path.join(folder, name + ".mine.npz"), allow_pickle=False))
        back = dict(np.load(os.path.join(folder, name + ".nd.npz"), allow_pickle=False))
        # Keras draws its own cotangents w (same seed and shapes), so compare like with like
        for k in [k for k in back if k.startswith("w")]:
            np.testing.assert_array_equal(back[k], mine[k])
        _close(back, mine, f"{name}: ndflow -> Keras", TOL.get(name, (2e-4, 2e-5)))


def check_remote_monitor_posts(keras_files: str) -> None:
    """RemoteMonitor sends what Keras's sends (path, content type, headers, data)."""
    with open(os.path.join(keras_files, "posts.json")) as f:
        keras_posts = [tuple(p) for p in json.load(f)]
    server = _Posts()
    try:
        logs = {"loss": np.float32(0.25), "acc": np.float64(0.5), "lr": 0.01,
                "n": np.int64(3)}
        keras.callbacks.RemoteMonitor(root=server.root, headers={"X-Run": "k"}).on_epoch_end(
            3, logs)
        keras.callbacks.RemoteMonitor(root=server.root, path="/j",
                                      send_as_json=True).on_epoch_end(4, logs)
    finally:
        server.close()
    assert len(keras_posts) == 2
    assert server.got == keras_posts


def check_losses_metrics_and_stft_initializer(keras_files: str) -> None:
    ref = dict(np.load(os.path.join(keras_files, "values.npz"), allow_pickle=False))
    rng = np.random.default_rng(0)  # the script's table, drawn in the same order
    emb = rng.standard_normal((8, 5)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    lab = np.array([0, 0, 1, 1, 2, 2, 3, 1])
    sw = rng.random(8).astype("float32")
    got = {}
    for i, kw in enumerate([{}, {"gamma": 10.0, "margin": 0.25}, {"remove_diagonal": False},
                            {"reduction": "sum"}, {"reduction": None}]):
        got[f"circle{i}"] = keras.losses.Circle(**kw)(lab, emb).numpy()
    got["circle_sw"] = keras.losses.Circle(gamma=5.0)(lab, emb, sample_weight=sw).numpy()
    refe = rng.standard_normal((5, 5)).astype("float32")
    refe /= np.linalg.norm(refe, axis=1, keepdims=True)
    got["circle_fn"] = keras.losses.circle(lab, emb, ref_labels=np.array([0, 1, 2, 3, 3]),
                                           ref_embeddings=refe, gamma=5).numpy()
    p = rng.random((6, 4)).astype("float32")
    p /= p.sum(1, keepdims=True)
    y = rng.integers(0, 4, 6)
    for q in (0.1, 0.5, 0.9):
        got[f"gce{q}"] = keras.losses.CategoricalGeneralizedCrossEntropy(q=q)(y, p).numpy()
    got["gce_fn"] = keras.losses.categorical_generalized_cross_entropy(y, p, q=0.3).numpy()
    yt = rng.standard_normal((4, 7)).astype("float32")
    yp = yt + rng.standard_normal((4, 7)).astype("float32")
    for ax in (-1, 0):
        for cls in ("PearsonCorrelation", "ConcordanceCorrelation"):
            met = getattr(keras.metrics, cls)(axis=ax)
            met.update_state(yt, yp)
            met.update_state(yp, yt * 2, sample_weight=np.array([1.0, 0.5, 0.0, 2.0])
                             if ax == -1 else None)
            got[f"{cls}{ax}"] = np.asarray(float(met.result()))
    for fn in ("pearson_correlation", "concordance_correlation"):
        got[fn] = getattr(keras.metrics, fn)(yt, yp).numpy()
    for side in ("real", "imag"):
        for win, scaling, periodic in [("hann", "density", False), ("hamming", "spectrum", True),
                                       (None, None, False), ("blackman", "density", True)]:
            k = keras.initializers.STFT(side, win, scaling, periodic)((24, 1, 17))
            got[f"stft_{side}_{win}_{scaling}_{periodic}"] = k.numpy()
    assert sorted(got) == sorted(ref)
    for k in ref:
        assert got[k].shape == ref[k].shape, k
        np.testing.assert_allclose(got[k], ref[k], rtol=2e-6, atol=2e-6, err_msg=k)
    with open(os.path.join(keras_files, "values.json")) as f:
        cfgs = json.load(f)
    mine = {"Circle": keras.losses.Circle(gamma=3.0).get_config(),
            "CategoricalGeneralizedCrossEntropy":
                keras.losses.CategoricalGeneralizedCrossEntropy(q=0.2).get_config(),
            "PearsonCorrelation": keras.metrics.PearsonCorrelation(axis=0).get_config(),
            "ConcordanceCorrelation": keras.metrics.ConcordanceCorrelation().get_config(),
            "STFT": keras.initializers.STFT("imag", "hamming", None, True).get_config()}
    for name, want in cfgs.items():
        have = dict(mine[name])
        if "dtype" in have and "dtype" not in want:  # ndflow's losses always list dtype
            assert have.pop("dtype") is None
        assert have == want, name

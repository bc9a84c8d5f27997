"""Run by test_keras_interop.py in a subprocess with real Keras 3 (torch backend).

usage: python keras_h16_script.py save DIR [URL]
                                             build the models, save DIR/<name>.keras,
                                             DIR/<name>.keras.npz (inputs, outputs, grads,
                                             and for "train" models the weights after one
                                             training=True call) and DIR/<name>.json (the
                                             layer configs); then as "values", and as
                                             "remote" when URL is given
       python keras_h16_script.py load DIR   load DIR/<name>.nd.keras (saved by ndflow) and
                                             write DIR/<name>.nd.npz (outputs, grads)
       python keras_h16_script.py values DIR write DIR/values.npz: losses and metrics of
                                             Keras on a fixed table of inputs
       python keras_h16_script.py remote URL  Keras's RemoteMonitor posts fixed logs to URL
                                             (form-encoded, then JSON)
The gradients are those of sum(output * w) for the stored w, with respect to every trainable
weight (in model.trainable_weights order) and, for float inputs, the inputs.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import torch  # noqa: E402

NAMES = ["norm", "pool2d", "pool13", "spec", "spec2", "mel", "rev", "pipe"]
TRAIN = ["norm"]  # SpectralNormalization's training=True update is deterministic


def build(name):
    L = keras.layers
    keras.utils.set_random_seed(0)
    if name == "norm":
        inp = keras.Input((6, 8))
        h = L.GroupNormalization(groups=4, epsilon=1e-4)(inp)
        h = L.GroupNormalization(groups=-1, center=False)(h)
        h = L.GroupNormalization(groups=3, axis=1, scale=False)(h)
        h = L.RMSNormalization()(h)
        h = L.SpectralNormalization(L.Dense(5), power_iterations=2)(h)
        h = L.AlphaDropout(0.2, seed=3)(h)
        h = L.SpectralNormalization(L.Conv1D(3, 2))(h)
        return keras.Model(inp, h)
    if name == "pool2d":
        inp = keras.Input((9, 7, 3))
        h = L.AdaptiveAveragePooling2D((4, 3))(inp)
        h = L.AdaptiveMaxPooling2D(2)(h)
        g = L.AdaptiveMaxPooling2D((3, 5), data_format="channels_first")(inp)
        h = L.Concatenate()([L.Flatten()(h), L.Flatten()(g)])
        return keras.Model(inp, L.Dense(3)(h))
    if name == "pool13":
        inp = keras.Input((10, 4))
        h = L.AdaptiveMaxPooling1D(3)(inp)
        h = L.AdaptiveAveragePooling1D(2)(h)
        inp3 = keras.Input((5, 6, 7, 2))
        g = L.AdaptiveAveragePooling3D((2, 3, 4))(inp3)
        g = L.AdaptiveMaxPooling3D(1)(g)
        h = L.Concatenate()([L.Flatten()(h), L.Flatten()(g)])
        return keras.Model([inp, inp3], L.Dense(2)(h))
    if name == "spec":
        inp = keras.Input((200, 2))
        h = L.STFTSpectrogram(frame_length=32, frame_step=8)(inp)
        return keras.Model(inp, L.Dense(3)(h))
    if name == "spec2":
        inp = keras.Input((2, 120))
        a = L.STFTSpectrogram(mode="psd", frame_length=30, frame_step=7, fft_length=64,
                              window="hamming", periodic=True, scaling="spectrum",
                              padding="same", expand_dims=True,
                              data_format="channels_first")(inp)
        b = L.STFTSpectrogram(mode="stft", frame_length=16, window=None,
                              data_format="channels_first")(inp)
        c = L.STFTSpectrogram(mode="angle", frame_length=16, frame_step=16, scaling=None,
                              data_format="channels_first")(inp)
        h = L.Concatenate()([L.Flatten()(a), L.Flatten()(b), L.Flatten()(c)])
        return keras.Model(inp, L.Dense(2)(h))
    if name == "mel":
        inp = keras.Input((1000,))
        h = L.MelSpectrogram(fft_length=128, sequence_stride=64, num_mel_bins=16,
                             sampling_rate=8000, top_db=60.0)(inp)
        g = L.MelSpectrogram(fft_length=256, sequence_stride=100, sequence_length=200,
                             window="hamming", num_mel_bins=8, power_to_db=False,
                             mag_exp=1.0, min_freq=50.0, max_freq=3000.0)(inp)
        h = L.Concatenate()([L.Flatten()(h), L.Flatten()(g)])
        return keras.Model(inp, L.Dense(2)(h))
    if name == "rev":
        inp = keras.Input((5,), dtype="int32")
        emb = L.ReversibleEmbedding(10, 4, tie_weights=False, logit_soft_cap=3.0)
        h = emb(inp)
        h = L.Dense(4)(h)
        emb2 = L.ReversibleEmbedding(10, 4)
        return keras.Model(inp, [emb(h, reverse=True), emb2(emb2(inp), reverse=True)])
    if name == "pipe":  # the last model
        inp = keras.Input((6,))
        h = L.Pipeline([L.Dense(4, activation="tanh"), L.Dense(3)])(inp)
        return keras.Model(inp, L.Dense(2)(h))
    raise ValueError(name)


def data(name):
    rng = np.random.default_rng(5)
    shapes = {"norm": (4, 6, 8), "pool2d": (4, 9, 7, 3), "spec": (4, 200, 2),
              "spec2": (4, 2, 120), "mel": (4, 1000), "pipe": (4, 6)}
    if name in shapes:
        return [rng.standard_normal(shapes[name]).astype("float32")]
    if name == "pool13":
        return [rng.standard_normal((4, 10, 4)).astype("float32"),
                rng.standard_normal((4, 5, 6, 7, 2)).astype("float32")]
    return [rng.integers(0, 10, (4, 5)).astype("int32")]


def run(model, xs):
    ts = [torch.tensor(x) for x in xs]
    for t in ts:
        if t.dtype.is_floating_point:
            t.requires_grad_(True)
    for v in model.trainable_weights:
        v.value.grad = None
    ys = model(ts if len(ts) > 1 else ts[0])
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    rng = np.random.default_rng(11)
    ws = [rng.standard_normal(tuple(y.shape)).astype("float32") for y in ys]
    sum((y * torch.tensor(w)).sum() for y, w in zip(ys, ws)).backward()
    out = {f"y{i}": y.detach().cpu().numpy() for i, y in enumerate(ys)}
    out.update({f"w{i}": w for i, w in enumerate(ws)})
    for i, v in enumerate(model.trainable_weights):
        out[f"g{i}"] = v.value.grad.detach().cpu().numpy()
    for i, t in enumerate(ts):
        if t.dtype.is_floating_point:
            out[f"gx{i}"] = t.grad.numpy()
    return out


def configs(model):
    return {layer.name: layer.get_config() for layer in model.layers}


def values(folder):
    rng = np.random.default_rng(0)
    out = {}
    emb = rng.standard_normal((8, 5)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    lab = np.array([0, 0, 1, 1, 2, 2, 3, 1])
    sw = rng.random(8).astype("float32")
    for i, kw in enumerate([{}, {"gamma": 10.0, "margin": 0.25}, {"remove_diagonal": False},
                            {"reduction": "sum"}, {"reduction": None}]):
        out[f"circle{i}"] = keras.ops.convert_to_numpy(keras.losses.Circle(**kw)(lab, emb))
    out["circle_sw"] = keras.ops.convert_to_numpy(
        keras.losses.Circle(gamma=5.0)(lab, emb, sample_weight=sw))
    ref = rng.standard_normal((5, 5)).astype("float32")
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    out["circle_fn"] = keras.ops.convert_to_numpy(keras.losses.circle(
        lab, emb, ref_labels=np.array([0, 1, 2, 3, 3]), ref_embeddings=ref, gamma=5))
    p = rng.random((6, 4)).astype("float32")
    p /= p.sum(1, keepdims=True)
    y = rng.integers(0, 4, 6)
    for q in (0.1, 0.5, 0.9):
        out[f"gce{q}"] = keras.ops.convert_to_numpy(
            keras.losses.CategoricalGeneralizedCrossEntropy(q=q)(y, p))
    out["gce_fn"] = keras.ops.convert_to_numpy(keras.losses.categorical_generalized_cross_entropy(
        y, keras.ops.convert_to_tensor(p), q=0.3))
    yt = rng.standard_normal((4, 7)).astype("float32")
    yp = yt + rng.standard_normal((4, 7)).astype("float32")
    for ax in (-1, 0):
        for cls in ("PearsonCorrelation", "ConcordanceCorrelation"):
            met = getattr(keras.metrics, cls)(axis=ax)
            met.update_state(yt, yp)
            sw = np.array([1.0, 0.5, 0.0, 2.0]) if ax == -1 else None
            met.update_state(yp, yt * 2, sample_weight=sw)
            out[f"{cls}{ax}"] = np.asarray(float(met.result()))
    for fn in ("pearson_correlation", "concordance_correlation"):
        out[fn] = keras.ops.convert_to_numpy(getattr(keras.metrics, fn)(yt, yp))
    init = {}
    for side in ("real", "imag"):
        for win, scaling, periodic in [("hann", "density", False), ("hamming", "spectrum", True),
                                       (None, None, False), ("blackman", "density", True)]:
            k = keras.initializers.STFT(side, win, scaling, periodic)((24, 1, 17))
            init[f"stft_{side}_{win}_{scaling}_{periodic}"] = keras.ops.convert_to_numpy(k)
    out.update(init)
    np.savez(os.path.join(folder, "values.npz"), **out)
    cfgs = {"Circle": keras.losses.Circle(gamma=3.0).get_config(),
            "CategoricalGeneralizedCrossEntropy":
                keras.losses.CategoricalGeneralizedCrossEntropy(q=0.2).get_config(),
            "PearsonCorrelation": keras.metrics.PearsonCorrelation(axis=0).get_config(),
            "ConcordanceCorrelation": keras.metrics.ConcordanceCorrelation().get_config(),
            "STFT": keras.initializers.STFT("imag", "hamming", None, True).get_config()}
    with open(os.path.join(folder, "values.json"), "w") as f:
        json.dump(cfgs, f)


def remote(root):
    logs = {"loss": np.float32(0.25), "acc": np.float64(0.5), "lr": 0.01, "n": np.int64(3)}
    keras.callbacks.RemoteMonitor(root=root, headers={"X-Run": "k"}).on_epoch_end(3, logs)
    keras.callbacks.RemoteMonitor(root=root, path="/j", send_as_json=True).on_epoch_end(
        4, logs)


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "values":
        values(folder)
        return
    if mode == "remote":
        remote(folder)
        return
    if mode == "save":
        values(folder)
        if len(sys.argv) > 3:
            remote(sys.argv[3])
    for name in NAMES:
        xs = data(name)
        if mode == "save":
            model = build(name)
            model.save(os.path.join(folder, name + ".keras"))
            res = run(model, xs)
            if name in TRAIN:
                model(xs[0], training=True)
                for i, v in enumerate(model.weights):
                    res[f"t{i}"] = keras.ops.convert_to_numpy(v.value)
            np.savez(os.path.join(folder, name + ".keras.npz"),
                     **{f"x{i}": x for i, x in enumerate(xs)}, **res)
            with open(os.path.join(folder, name + ".json"), "w") as f:
                json.dump(configs(model), f)
        else:
            model = keras.models.load_model(os.path.join(folder, name + ".nd.keras"))
            np.savez(os.path.join(folder, name + ".nd.npz"), **run(model, xs))
    fresh = os.path.join(folder, "fresh.nd.keras")
    if mode == "load" and os.path.exists(fresh):  # a model built by ndflow itself
        model = keras.models.load_model(fresh)
        ref = np.load(os.path.join(folder, "fresh.mine.npz"))
        xs = [ref[f"x{i}"] for i in range(4) if f"x{i}" in ref]
        np.savez(os.path.join(folder, "fresh.nd.npz"), **run(model, xs))


if __name__ == "__main__":
    main()

"""The issue-16 layers in ndflow alone: the shared harness (shapes, weights, config round
trip, a training step, masking, bad shapes), forward and gradients against PyTorch
(GroupNorm, RMSNorm, adaptive pooling) and NumPy (STFT via np.fft), AlphaDropout's moments and
seeding, SpectralNormalization's power iteration against np.linalg.norm, and the behaviour of
ReversibleEmbedding, Pipeline and Wrapper. Keras itself is compared in test_keras_interop.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from ndflow.keras.layers.layer import get_keras_mask
from tests.keras.layers.harness import run_layer_test

rng = np.random.default_rng(0)


def _grad(layer, x: np.ndarray, coef: np.ndarray, **kw):
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xv, **kw)
        loss = tf.reduce_sum(y * coef)
    return y.numpy(), tape.gradient(loss, [xv] + list(layer.trainable_weights))


# --- harness -------------------------------------------------------------------------------------
def test_harness_normalization_and_dropout():
    run_layer_test(layers.GroupNormalization, {"groups": 2}, (3, 4, 6), (3, 4, 6),
                   expected_num_trainable_weights=2,
                   expected_weights=[("gamma", (6,)), ("beta", (6,))], supports_masking=True,
                   wrong_input_shape=(3, 4, 5))
    run_layer_test(layers.GroupNormalization, {"groups": -1, "axis": 1, "center": False},
                   (2, 4, 3), (2, 4, 3), expected_num_trainable_weights=1,
                   supports_masking=True)
    run_layer_test(layers.RMSNormalization, {}, (2, 5), (2, 5),
                   expected_num_trainable_weights=1, expected_weights=[("scale", (5,))])
    run_layer_test(layers.RMSNormalization, {"axis": [1, 2], "epsilon": 1e-3}, (2, 3, 4),
                   (2, 3, 4), expected_num_trainable_weights=1,
                   expected_weights=[("scale", (3, 4))])
    run_layer_test(layers.AlphaDropout, {"rate": 0.2, "seed": 1}, (3, 4), (3, 4),
                   supports_masking=True, call_kwargs={"training": True})


@pytest.mark.parametrize("cls,size,shape,out", [
    ("AdaptiveAveragePooling1D", 3, (2, 7, 2), (2, 3, 2)),
    ("AdaptiveMaxPooling1D", (5,), (2, 3, 2), (2, 5, 2)),
    ("AdaptiveAveragePooling2D", (2, 4), (2, 5, 7, 3), (2, 2, 4, 3)),
    ("AdaptiveMaxPooling2D", 3, (2, 5, 7, 3), (2, 3, 3, 3)),
    ("AdaptiveAveragePooling3D", (2, 1, 3), (1, 4, 3, 5, 2), (1, 2, 1, 3, 2)),
    ("AdaptiveMaxPooling3D", 2, (1, 4, 3, 5, 2), (1, 2, 2, 2, 2)),
])
def test_harness_adaptive_pooling(cls, size, shape, out):
    run_layer_test(getattr(layers, cls), {"output_size": size}, shape, out,
                   wrong_input_shape=shape[:-1])


def test_harness_spectral_and_embedding_layers():
    run_layer_test(layers.STFTSpectrogram, {"frame_length": 16, "frame_step": 8}, (2, 64, 1),
                   (2, 7, 9), expected_num_trainable_weights=2,
                   expected_weights=[("real_kernel", (16, 1, 9)), ("imag_kernel", (16, 1, 9))])
    run_layer_test(layers.STFTSpectrogram, {"mode": "imag", "frame_length": 8,
                                            "expand_dims": True, "padding": "same"},
                   (2, 20, 3), (2, 5, 5, 3), expected_num_trainable_weights=1)
    run_layer_test(layers.MelSpectrogram, {"fft_length": 64, "sequence_stride": 32,
                                           "num_mel_bins": 10}, (2, 256), (2, 10, 9))
    run_layer_test(layers.ReversibleEmbedding, {"input_dim": 10, "output_dim": 4,
                                                "tie_weights": False},
                   (2, 5), (2, 5, 4), input_dtype="int32", expected_num_trainable_weights=2,
                   expected_weights=[("embeddings", (10, 4)), ("reverse_embeddings", (4, 10))],
                   run_training_check=False)  # a forward call leaves reverse_embeddings out


# --- normalization -------------------------------------------------------------------------------
@pytest.mark.parametrize("groups,shape", [(2, (3, 4, 6)), (3, (2, 5, 5, 9)), (1, (4, 8)),
                                          (8, (2, 3, 8))])
def test_group_norm_matches_torch(groups, shape):
    x = rng.standard_normal(shape).astype("float32") * 2 + 0.5
    layer = layers.GroupNormalization(groups=groups, epsilon=1e-3)
    layer.build(shape)
    c = shape[-1]
    gamma = rng.standard_normal(c).astype("float32")
    beta = rng.standard_normal(c).astype("float32")
    layer.set_weights([gamma, beta])
    coef = rng.standard_normal(shape).astype("float32")
    y, (gx, gg, gb) = _grad(layer, x, coef)
    tx = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    ty = torch.nn.functional.group_norm(tx, groups, tg, tb, eps=1e-3)
    (ty * torch.tensor(np.moveaxis(coef, -1, 1).copy())).sum().backward()
    np.testing.assert_allclose(y, np.moveaxis(ty.detach().numpy(), 1, -1), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(gx.numpy(), np.moveaxis(tx.grad.numpy(), 1, -1), rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(gg.numpy(), tg.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gb.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_group_norm_channels_first_and_errors():
    x = rng.standard_normal((2, 6, 5)).astype("float64")
    layer = layers.GroupNormalization(groups=3, axis=1, dtype="float64")
    y = layer(x).numpy()
    g = x.reshape(2, 3, 2, 5)
    want = ((g - g.mean((2, 3), keepdims=True)) / np.sqrt(g.var((2, 3), keepdims=True) + 1e-3))
    np.testing.assert_allclose(y, want.reshape(x.shape), rtol=1e-10)
    assert layers.GroupNormalization(groups=-1).get_config()["groups"] == -1
    gn = layers.GroupNormalization(groups=-1)
    gn.build((None, 7))
    assert gn.get_config()["groups"] == 7  # as Keras: resolved at build
    with pytest.raises(ValueError, match="multiple of the number of groups"):
        layers.GroupNormalization(groups=4, name="gn_bad")(np.ones((2, 6), "float32"))
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)


def test_group_norm_float16_computes_in_float32():
    x = (rng.standard_normal((2, 8)) * 300).astype("float16")  # squares overflow float16
    y = layers.GroupNormalization(groups=2, dtype="float16")(x).numpy()
    assert y.dtype == np.float16 and np.all(np.isfinite(y))
    g = x.astype("float32").reshape(2, 2, 4)
    want = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y.astype("float32"), want.reshape(2, 8), atol=2e-2)


def test_rms_norm_matches_torch():
    x = rng.standard_normal((3, 4, 6)).astype("float32")
    layer = layers.RMSNormalization(epsilon=1e-5)
    layer.build(x.shape)
    scale = rng.standard_normal(6).astype("float32")
    layer.set_weights([scale])
    coef = rng.standard_normal(x.shape).astype("float32")
    y, (gx, gs) = _grad(layer, x, coef)
    tx = torch.tensor(x, requires_grad=True)
    ts = torch.tensor(scale, requires_grad=True)
    ty = torch.nn.functional.rms_norm(tx, (6,), ts, eps=1e-5)
    (ty * torch.tensor(coef)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gs.numpy(), ts.grad.numpy(), rtol=1e-4, atol=1e-5)


# --- adaptive pooling ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["Average", "Max"])
@pytest.mark.parametrize("nd,spatial,size", [(1, (7,), (3,)), (1, (3,), (5,)),
                                             (2, (5, 7), (2, 4)), (2, (4, 4), (4, 4)),
                                             (3, (4, 3, 5), (3, 2, 2))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_adaptive_pooling_matches_torch(mode, nd, spatial, size, data_format):
    c = 2
    shape = (2,) + spatial + (c,) if data_format == "channels_last" else (2, c) + spatial
    x = rng.standard_normal(shape).astype("float32")
    layer = getattr(layers, f"Adaptive{mode}Pooling{nd}D")(size, data_format=data_format)
    out_shape = layer.compute_output_shape(shape)
    coef = rng.standard_normal(out_shape).astype("float32")
    y, (gx,) = _grad(layer, x, coef)
    to_cf = (lambda a: np.moveaxis(a, -1, 1)) if data_format == "channels_last" else (
        lambda a: a)
    from_cf = (lambda a: np.moveaxis(a, 1, -1)) if data_format == "channels_last" else (
        lambda a: a)
    fn = getattr(torch.nn.functional,
                 f"adaptive_{'avg' if mode == 'Average' else 'max'}_pool{nd}d")
    tx = torch.tensor(to_cf(x).copy(), requires_grad=True)
    ty = fn(tx, size if nd > 1 else size[0])
    (ty * torch.tensor(to_cf(coef).copy())).sum().backward()
    assert y.shape == tuple(out_shape)
    np.testing.assert_allclose(y, from_cf(ty.detach().numpy()), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx.numpy(), from_cf(tx.grad.numpy()), rtol=1e-5, atol=1e-6)


def test_adaptive_pooling_argument_errors():
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveAveragePooling2D((2, 2, 2))
    with pytest.raises(TypeError, match="output_size"):
        layers.AdaptiveMaxPooling1D("3")
    with pytest.raises(ValueError, match="data_format"):
        layers.AdaptiveMaxPooling1D(3, data_format="nwc")
    assert layers.AdaptiveAveragePooling2D(3).output_size == (3, 3)


# --- spectrograms --------------------------------------------------------------------------------
@pytest.mark.parametrize("frame_length,frame_step,fft_length,window,periodic,scaling", [
    (16, 4, None, "hann", False, "density"),
    (20, 5, 32, "hamming", True, "spectrum"),
    (16, 16, None, None, False, None),
])
def test_stft_spectrogram_matches_numpy_fft(frame_length, frame_step, fft_length, window,
                                            periodic, scaling):
    from ndflow.keras.initializers.stft import get_window

    x = rng.standard_normal((2, 100, 3)).astype("float32")
    layer = layers.STFTSpectrogram(mode="stft", frame_length=frame_length,
                                   frame_step=frame_step, fft_length=fft_length, window=window,
                                   periodic=periodic, scaling=scaling, expand_dims=True)
    y = layer(x).numpy()  # (batch, frames, 2 * bins, channels)
    n_fft = fft_length or 2 ** int(np.ceil(np.log2(frame_length)))
    win = np.ones(frame_length) if window is None else get_window(window, frame_length,
                                                                  periodic)
    scale = {"density": np.sqrt((win ** 2).sum()), "spectrum": np.abs(win).sum(),
             None: 1.0}[scaling if window is not None else None]
    n_frames = (100 - frame_length) // frame_step + 1
    idx = np.arange(n_frames)[:, None] * frame_step + np.arange(frame_length)
    frames = x[:, idx, :] * win[None, None, :, None]  # (batch, frames, frame_length, ch)
    spec = np.fft.rfft(frames, n=n_fft, axis=2) / scale
    bins = n_fft // 2 + 1
    np.testing.assert_allclose(y[:, :, :bins], spec.real, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(y[:, :, bins:], spec.imag, rtol=1e-4, atol=2e-5)
    log = layers.STFTSpectrogram(frame_length=frame_length, frame_step=frame_step,
                                 fft_length=fft_length, window=window, periodic=periodic,
                                 scaling=scaling)(x).numpy()
    mag = np.abs(spec).transpose(0, 1, 3, 2).reshape(log.shape)
    keep = mag > 1e-3  # log magnifies float32 cancellation in near-empty bins
    np.testing.assert_allclose(log[keep], np.log(mag[keep]), rtol=1e-3, atol=1e-3)


def test_stft_kernels_train_and_arguments_are_checked():
    layer = layers.STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=4)
    x = rng.standard_normal((2, 32, 1)).astype("float32")
    _, grads = _grad(layer, x, np.ones((2, 7, 5), "float32"))
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    with pytest.raises(ValueError, match="mode"):
        layers.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="frame_step"):
        layers.STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="window"):
        layers.STFTSpectrogram(window="hannn")
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=8, fft_length=12)
    with pytest.raises(TypeError, match="float"):
        layers.STFTSpectrogram(frame_length=8)(np.ones((1, 16, 1), "int32"))


def test_mel_spectrogram_is_a_mel_filtered_power_spectrum():
    from ndflow.keras.initializers.stft import get_window
    from ndflow.keras.layers.preprocessing.mel_spectrogram import linear_to_mel_weight_matrix

    x = rng.standard_normal((2, 500)).astype("float64")
    layer = layers.MelSpectrogram(fft_length=128, sequence_stride=50, num_mel_bins=12,
                                  sampling_rate=8000, power_to_db=False, dtype="float64")
    y = layer(x).numpy()
    padded = np.pad(x, [(0, 0), (64, 64)], mode="reflect")
    n_frames = 1 + (padded.shape[1] - 128) // 50
    idx = np.arange(n_frames)[:, None] * 50 + np.arange(128)
    power = np.abs(np.fft.rfft(padded[:, idx] * get_window("hann", 128), axis=-1)) ** 2
    mel = linear_to_mel_weight_matrix(12, 65, 8000, 20.0, 4000).astype("float64")
    np.testing.assert_allclose(y, (power @ mel).transpose(0, 2, 1), rtol=1e-5, atol=1e-6)
    assert y.shape == layer.compute_output_shape((2, 500))
    # filters: triangles with peaks of 1 that tile the band, nothing on the DC bin
    assert np.all(mel[0] == 0) and np.allclose(mel.max(0), 1.0, atol=0.2)
    db = layers.MelSpectrogram(fft_length=128, sequence_stride=50, num_mel_bins=12,
                               sampling_rate=8000, top_db=30.0)(x.astype("float32")).numpy()
    assert db.max() - db.min() <= 30.0 + 1e-4
    with pytest.raises(ValueError, match="fft_length"):
        layers.MelSpectrogram(fft_length=64, sequence_length=128)


# --- AlphaDropout --------------------------------------------------------------------------------
def test_alpha_dropout_keeps_moments_and_is_seeded():
    x = rng.standard_normal((400, 500)).astype("float32")
    layer = layers.AlphaDropout(0.2, seed=7)
    y = layer(x, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1.0) < 0.02
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p ** 2)) ** -0.5
    dropped = np.isclose(y, a * alpha_p + (-a * alpha_p * 0.2), atol=1e-6)
    assert abs(dropped.mean() - 0.2) < 0.005
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] - a * alpha_p * 0.2, rtol=1e-5,
                               atol=1e-6)
    again = layers.AlphaDropout(0.2, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(y, again)
    other = layers.AlphaDropout(0.2, seed=8)(x, training=True).numpy()
    assert not np.array_equal(y, other)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: identity
    shared = layers.AlphaDropout(0.5, noise_shape=(None, 1), seed=1)(x[:8], training=True)
    d = np.isclose(shared.numpy(), shared.numpy()[:, :1])
    assert d.all(axis=1).sum() >= 1  # rows dropped whole
    with pytest.raises(ValueError, match="rate"):
        layers.AlphaDropout(1.5)


# --- SpectralNormalization -----------------------------------------------------------------------
def test_spectral_normalization_drives_the_spectral_norm_to_one():
    for inner, x in [(layers.Dense(6), rng.standard_normal((4, 5))),
                     (layers.Conv2D(4, 3), rng.standard_normal((2, 6, 6, 3)))]:
        sn = layers.SpectralNormalization(inner, power_iterations=3)
        x = x.astype("float32")
        y0 = sn(x).numpy()
        k0 = inner.kernel.numpy()
        np.testing.assert_array_equal(sn(x).numpy(), y0)  # inference: no update
        for _ in range(20):
            sn(x, training=True)
        k = inner.kernel.numpy()
        sigma = np.linalg.norm(k.reshape(-1, k.shape[-1]), 2)
        assert abs(sigma - 1.0) < 1e-3, sigma
        # the direction is kept: only the scale changed
        np.testing.assert_allclose(k / np.linalg.norm(k), k0 / np.linalg.norm(k0), rtol=1e-4,
                                   atol=1e-6)
        assert [w.name for w in sn.weights] == ["kernel", "vector_u", "bias"]
        assert [w.name for w in sn.trainable_weights] == ["kernel", "bias"]


def test_spectral_normalization_gradients_config_and_errors():
    sn = layers.SpectralNormalization(layers.Dense(3), power_iterations=2, name="sn")
    x = rng.standard_normal((4, 5)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(sn(x, training=True) ** 2)
    grads = tape.gradient(loss, sn.trainable_weights)
    assert all(g is not None for g in grads)
    cfg = sn.get_config()
    clone = layers.SpectralNormalization.from_config(cfg)
    assert clone.power_iterations == 2 and type(clone.layer).__name__ == "Dense"
    assert clone.get_config() == cfg
    zero = layers.SpectralNormalization(layers.Dense(2, kernel_initializer="zeros"))
    zero(x, training=True)
    assert np.all(zero.layer.kernel.numpy() == 0) and np.all(np.isfinite(
        zero.vector_u.numpy()))
    emb = layers.SpectralNormalization(layers.Embedding(10, 4))
    out = emb(np.array([[1, 2]]), training=True)
    assert out.dtype == tf.float32  # (Keras casts to the int ids' dtype)
    with pytest.raises(ValueError, match="kernel"):
        layers.SpectralNormalization(layers.Activation("relu"))(x)
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="Layer"):
        layers.SpectralNormalization("dense")


def test_spectral_normalization_trains_in_fit():
    model = keras.Sequential([keras.Input((5,)),
                              layers.SpectralNormalization(layers.Dense(8, activation="relu")),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    x = rng.standard_normal((64, 5)).astype("float32")
    hist = model.fit(x, x[:, :1] * 0.5, epochs=3, batch_size=16, verbose=0)
    k = model.layers[0].layer.kernel.numpy()
    assert abs(np.linalg.norm(k, 2) - 1.0) < 0.1
    assert np.isfinite(hist.history["loss"][-1])


# --- ReversibleEmbedding, Pipeline, Wrapper ------------------------------------------------------
def test_reversible_embedding_projects_back():
    emb = layers.ReversibleEmbedding(10, 4, mask_zero=True, logit_soft_cap=2.0)
    ids = np.array([[1, 2, 0]])
    h = emb(ids)
    np.testing.assert_array_equal(np.asarray(get_keras_mask(h)), [[True, True, False]])
    logits_t = emb(h, reverse=True)
    assert get_keras_mask(logits_t) is None  # reverse projections carry no padding mask
    logits = logits_t.numpy()
    e = emb.embeddings.numpy()
    np.testing.assert_allclose(logits, np.tanh(h.numpy() @ e.T / 2.0) * 2.0, rtol=1e-5,
                               atol=1e-6)
    mixed = layers.ReversibleEmbedding(10, 4, reverse_dtype="float64")
    mixed(ids)
    assert mixed(np.ones((1, 4), "float32"), reverse=True).dtype == tf.float64
    inp = keras.Input((3,), dtype="int32")
    shared = layers.ReversibleEmbedding(10, 4)
    model = keras.Model(inp, shared(shared(inp), reverse=True))
    assert model.output.shape.as_list() == [None, 3, 10]
    assert model(ids).shape == (1, 3, 10)


def test_pipeline_runs_in_training_mode_by_default_and_in_dataset_map():
    pipe = layers.Pipeline([layers.Rescaling(2.0), layers.Dropout(0.5, seed=1)])
    x = np.ones((4, 50), "float32")
    y = pipe(x).numpy()
    assert set(np.unique(y)) <= {0.0, 4.0} and (y == 0).any()  # Dropout was active
    np.testing.assert_array_equal(pipe(x, training=False).numpy(), 2 * x)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2).map(
        lambda b: pipe(b, training=False))
    out = np.concatenate([b.numpy() for b in ds])
    np.testing.assert_array_equal(out, 2 * x)
    masked = layers.Pipeline([layers.Masking(0.0), layers.Identity()])
    z = masked(np.array([[[0.0], [1.0]]], "float32"))
    np.testing.assert_array_equal(np.asarray(get_keras_mask(z)), [[False, True]])
    cfg = pipe.get_config()
    clone = layers.Pipeline.from_config(cfg)
    assert [type(v).__name__ for v in clone.layers] == ["Rescaling", "Dropout"]
    assert clone.get_config()["layers"] == cfg["layers"]
    with pytest.raises(ValueError, match="list of layers"):
        layers.Pipeline("not layers")


def test_wrapper_base_and_aliases():
    class Twice(layers.Wrapper):
        def call(self, x):
            return self.layer(self.layer(x))

    w = Twice(layers.Dense(3, use_bias=False))
    y = w(np.ones((2, 3), "float32"))
    k = w.layer.kernel.numpy()
    np.testing.assert_allclose(y.numpy(), np.ones((2, 3)) @ k @ k, rtol=1e-5)
    assert w.weights == w.layer.weights
    clone = Twice.from_config(w.get_config())
    assert type(clone.layer).__name__ == "Dense" and clone.layer.units == 3
    with pytest.raises(ValueError, match="Layer"):
        Twice(42)
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose


# --- graph functions ------------------------------------------------------------------------------
@pytest.mark.parametrize("make,shape,dtype", [
    (lambda: layers.GroupNormalization(groups=2), (3, 5, 4), "float32"),
    (lambda: layers.RMSNormalization(axis=[1, 2]), (3, 5, 4), "float32"),
    (lambda: layers.AdaptiveMaxPooling2D((2, 3)), (2, 5, 7, 3), "float32"),
    (lambda: layers.AdaptiveAveragePooling1D(4), (2, 9, 3), "float32"),
    (lambda: layers.STFTSpectrogram(mode="angle", frame_length=8, frame_step=4), (2, 40, 2),
     "float32"),
    (lambda: layers.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=6),
     (2, 200), "float32"),
    (lambda: layers.ReversibleEmbedding(9, 4), (2, 5), "int32"),
])
def test_traced_matches_eager(make, shape, dtype):
    layer = make()
    x = (rng.integers(0, 9, shape) if dtype == "int32" else rng.standard_normal(shape)).astype(
        dtype)
    eager = layer(x).numpy()
    traced = tf.function(lambda v: layer(v))(tf.constant(x)).numpy()
    np.testing.assert_allclose(traced, eager, rtol=1e-6, atol=1e-6)


def test_spectral_normalization_update_inside_a_graph_function():
    x = rng.standard_normal((4, 5)).astype("float32")
    a = layers.SpectralNormalization(layers.Dense(3), power_iterations=2)
    a(x)
    b = layers.SpectralNormalization(layers.Dense(3), power_iterations=2)
    b(x)
    b.set_weights(a.get_weights())
    step = tf.function(lambda v: b(v, training=True))
    for _ in range(3):
        ya = a(x, training=True).numpy()
        yb = step(tf.constant(x)).numpy()
    np.testing.assert_allclose(yb, ya, rtol=1e-5, atol=1e-6)
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_allclose(wb.numpy(), wa.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_layers_follow_their_dtype_policy(dtype):
    x = rng.standard_normal((2, 32, 2))
    cases = [
        (layers.GroupNormalization(groups=2, dtype=dtype), x),
        (layers.RMSNormalization(dtype=dtype), x),
        (layers.AdaptiveAveragePooling1D(5, dtype=dtype), x),
        (layers.AdaptiveMaxPooling1D(5, dtype=dtype), x),
        (layers.STFTSpectrogram(frame_length=8, dtype=dtype), x),
        (layers.AlphaDropout(0.3, seed=0, dtype=dtype), x),
    ]
    if dtype == "float64":  # Keras computes mel spectrograms in float32 or float64 only
        cases.append((layers.MelSpectrogram(fft_length=16, sequence_stride=8, num_mel_bins=4,
                                            dtype=dtype), x[:, :, 0]))
    for layer, inp in cases:
        y = layer(inp.astype(dtype), training=True)
        assert y.dtype == tf.as_dtype(dtype), type(layer).__name__
        assert all(w.dtype == tf.as_dtype(dtype) for w in layer.weights), type(layer).__name__
        assert np.all(np.isfinite(y.numpy().astype("float64"))), type(layer).__name__
    ref = layers.GroupNormalization(groups=2, dtype="float64")(x).numpy()
    low = layers.GroupNormalization(groups=2, dtype=dtype)(x.astype(dtype)).numpy()
    np.testing.assert_allclose(low.astype("float64"), ref, rtol=0,
                               atol=1e-12 if dtype == "float64" else 5e-3)

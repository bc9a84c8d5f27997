"""MultiHeadAttention and EinsumDense: PyTorch's nn.MultiheadAttention (weights mapped),
masks, causal masks, shapes, config, errors; forward and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers

from ..harness import run_layer_test

torch = pytest.importorskip("torch")

B, T, S, E, N = 2, 5, 6, 8, 2


def _mapped(seed: int = 0) -> tuple:
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(E, N, batch_first=True).double()
    with torch.no_grad():
        for p in ref.parameters():
            p.uniform_(-0.5, 0.5)
    mha = layers.MultiHeadAttention(N, E // N, dtype="float64")
    mha(np.zeros((1, T, E)), np.zeros((1, S, E)))
    w = ref.in_proj_weight.detach().numpy()
    b = ref.in_proj_bias.detach().numpy()
    hd = E // N
    weights = []
    for i in range(3):  # query, key, value: (E, heads, head_dim) and (heads, head_dim)
        weights += [w[i * E:(i + 1) * E].T.reshape(E, N, hd), b[i * E:(i + 1) * E].reshape(N, hd)]
    weights += [ref.out_proj.weight.detach().numpy().T.reshape(N, hd, E),
                ref.out_proj.bias.detach().numpy()]
    mha.set_weights(weights)
    return ref, mha


@pytest.mark.parametrize("masking", ["none", "padding", "causal"])
def test_mha_matches_torch_forward_and_gradients(masking):
    rng = np.random.default_rng(0)
    q, kv = rng.standard_normal((B, T, E)), rng.standard_normal((B, S, E))
    w = rng.standard_normal((B, T, E))
    ref, mha = _mapped()
    keep = np.ones((B, S), bool)
    keep[0, 4:] = False
    kw: dict = {}
    tkw: dict = {}
    if masking == "padding":
        kw["value_mask"] = keep
        tkw["key_padding_mask"] = torch.tensor(~keep)
    if masking == "causal":
        kw["use_causal_mask"] = True
        tkw["attn_mask"] = torch.tensor(np.triu(np.ones((T, S), bool), 1))
    qt = torch.tensor(q, requires_grad=True)
    kt = torch.tensor(kv, requires_grad=True)
    yt, at = ref(qt, kt, kt, need_weights=True, average_attn_weights=False, **tkw)
    (yt * torch.tensor(w)).sum().backward()
    qv, kvv = tf.constant(q), tf.constant(kv)
    with tf.GradientTape() as tape:
        tape.watch([qv, kvv])
        y, scores = mha(qv, kvv, return_attention_scores=True, **kw)
        loss = tf.reduce_sum(y * w)
    gq, gkv, *gw = tape.gradient(loss, [qv, kvv] + mha.trainable_weights)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(scores.numpy(), at.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gq.numpy(), qt.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gkv.numpy(), kt.grad.numpy(), rtol=1e-8, atol=1e-10)
    g_in = ref.in_proj_weight.grad.numpy()
    np.testing.assert_allclose(gw[0].numpy(), g_in[:E].T.reshape(E, N, E // N), rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(gw[6].numpy(), ref.out_proj.weight.grad.numpy().T.reshape(
        N, E // N, E), rtol=1e-8, atol=1e-10)


def test_keras_masks_of_inputs_are_used():
    ids = np.array([[3, 4, 0, 0], [5, 6, 7, 0]])
    inp = keras.Input((4,), dtype="int32")
    e = layers.Embedding(9, E, mask_zero=True)(inp)
    mha = layers.MultiHeadAttention(N, 4)
    out = mha(e, e)
    model = keras.Model(inp, out)
    y = model(ids).numpy()
    emb = model.layers[1](ids)
    want = mha(tf.constant(emb.numpy()), tf.constant(emb.numpy()),
               query_mask=ids != 0, value_mask=ids != 0).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-6)
    # a padded key changes nothing for the kept queries
    ids2 = ids.copy()
    ids2[0, 3] = 0
    y2 = model(np.where(ids == 0, 0, ids2)).numpy()
    np.testing.assert_allclose(y2[0, :2], y[0, :2], rtol=1e-6)
    np.testing.assert_array_equal(keras.backend.get_keras_mask(model(ids)).numpy(), ids != 0)


def test_bad_masks_are_clear_errors():
    mha = layers.MultiHeadAttention(N, 4, name="mha")
    q, v = np.zeros((B, T, E), "float32"), np.zeros((B, S, E), "float32")
    with pytest.raises(ValueError, match=r"mha.*attention_mask of shape \(2, 5, 6\).*\(2, 6, 5\)"):
        mha(q, v, attention_mask=np.ones((B, S, T), bool))
    with pytest.raises(ValueError, match="value/key mask"):
        mha(q, v, value_mask=np.ones((B, T), bool))
    with pytest.raises(ValueError, match="expected a query of shape"):
        layers.MultiHeadAttention(N, 4)(np.zeros((B, E), "float32"), v)


def test_harness_and_einsum_dense():
    run_layer_test(layers.EinsumDense, {"equation": "abc,cde->abde", "output_shape": (None, 2, 3),
                                        "bias_axes": "de"}, (2, 5, 4), (2, 5, 2, 3),
                   expected_num_trainable_weights=2)
    layer = layers.EinsumDense("ab,bc->ac", 3, bias_axes="c")
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    y = layer(x).numpy()
    np.testing.assert_allclose(y, x @ layer.kernel.numpy() + layer.bias.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="not supported"):
        layers.EinsumDense("...b,bc->...c", 3)


def test_mha_save_and_load(tmp_path):
    q = keras.Input((T, E))
    v = keras.Input((S, E))
    out = layers.MultiHeadAttention(N, 3, value_dim=5, output_shape=7)(q, v)
    model = keras.Model([q, v], out)
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((B, T, E)).astype("float32"),
            rng.standard_normal((B, S, E)).astype("float32")]
    want = model(data).numpy()
    assert want.shape == (B, T, 7)
    path = str(tmp_path / "mha.keras")
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)(data).numpy(), want, rtol=1e-6)


def _np_softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_dot_and_additive_attention_with_masks_equal_numpy():
    rng = np.random.default_rng(3)
    q, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    qm = np.array([[1, 1, 0], [1, 1, 1]], bool)
    vm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    dot = layers.Attention(use_scale=True, dtype="float64")
    out, w = dot([q, v], mask=[qm, vm], return_attention_scores=True)
    dot.scale.assign(np.float64(0.7))
    out, w = dot([q, v], mask=[qm, vm], return_attention_scores=True)
    s = 0.7 * q @ v.transpose(0, 2, 1) - 1e9 * (~vm[:, None, :])
    np.testing.assert_allclose(w.numpy(), _np_softmax(s), rtol=1e-10)
    np.testing.assert_allclose(out.numpy(), (_np_softmax(s) @ v) * qm[..., None], rtol=1e-10)
    add = layers.AdditiveAttention(dtype="float64")
    out = add([q, v], use_causal_mask=True).numpy()
    scale = add.scale.numpy()
    s = (np.tanh(q[:, :, None, :] + v[:, None, :, :]) * scale).sum(-1)
    s = s - 1e9 * (np.arange(5)[None, :] > np.arange(3)[:, None])
    np.testing.assert_allclose(out, _np_softmax(s) @ v, rtol=1e-10)
    assert keras.backend.get_keras_mask(layers.Attention()(
        [tf.constant(q), tf.constant(v)], mask=[qm, vm])) is not None
    with pytest.raises(ValueError, match="expected a value mask of shape"):
        layers.Attention()([q, v], mask=[qm, np.ones((2, 4), bool)])


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_group_query_attention_equals_mha_with_repeated_heads(kv_heads):
    rng = np.random.default_rng(4)
    q, v = rng.standard_normal((B, T, E)), rng.standard_normal((B, S, E))
    vm = np.ones((B, S), bool)
    vm[1, 3:] = False
    gqa = layers.GroupQueryAttention(3, 4, kv_heads, dtype="float64")
    gqa(q, v)
    gqa.set_weights([w + 0.1 * rng.standard_normal(w.shape) for w in gqa.get_weights()])
    mha = layers.MultiHeadAttention(4, 3, dtype="float64")
    mha(q, v)
    qk, qb, kk, kb, vk, vb, ok, ob = [w.numpy() for w in (
        gqa._query_dense.kernel, gqa._query_dense.bias, gqa._key_dense.kernel,
        gqa._key_dense.bias, gqa._value_dense.kernel, gqa._value_dense.bias,
        gqa._output_dense.kernel, gqa._output_dense.bias)]
    r = 4 // kv_heads
    mha.set_weights([qk, qb, np.repeat(kk, r, 1), np.repeat(kb, r, 0), np.repeat(vk, r, 1),
                     np.repeat(vb, r, 0), ok, ob])
    a, sa = gqa(q, v, value_mask=vm, use_causal_mask=True, return_attention_scores=True)
    b, sb = mha(q, v, value_mask=vm, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    np.testing.assert_allclose(sa.numpy(), sb.numpy(), rtol=1e-10)
    assert [tuple(w.shape) for w in gqa.weights][:3] == [(E, 4, 3), (4, 3), (E, kv_heads, 3)]
    with pytest.raises(ValueError, match="multiple of num_key_value_heads"):
        layers.GroupQueryAttention(3, 4, 3)

"""The fused attention op (ops/attention.py): values and gradients against PyTorch and finite
differences, the compiled per-head kernels against the NumPy composition, second-order
gradients, MultiHeadAttention running on it, and clear errors."""

import numpy as np
import pytest
import torch

import ndflow as tf
from ndflow import keras
from ndflow.backend import jit
from ndflow.ops.attention import attention

A, B, E, C, D, F = 3, 7, 5, 2, 4, 6


def _arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(A, B, C, D), (A, E, C, D), (A, E, C, F), (A, B, C, F), (A, C, B, E)]
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _ours(q, k, v, go, gp):
    Q, K, V = (tf.constant(x) for x in (q, k, v))
    with tf.GradientTape() as tape:
        tape.watch([Q, K, V])
        out, probs = attention(Q, K, V)
        loss = tf.reduce_sum(out * go) + tf.reduce_sum(probs * gp)
    return [out.numpy(), probs.numpy()] + [g.numpy() for g in tape.gradient(loss, [Q, K, V])]


def _torch(q, k, v, go, gp):
    tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
    P = torch.softmax(torch.einsum("abcd,aecd->acbe", tq, tk), -1)
    out = torch.einsum("acbe,aecd->abcd", P, tv)
    ((out * torch.tensor(go)).sum() + (P * torch.tensor(gp)).sum()).backward()
    return [out.detach().numpy(), P.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(),
            tv.grad.numpy()]


@pytest.mark.parametrize("jit_on", [True, False])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 3e-5)])
def test_values_and_gradients_equal_pytorch(dtype, tol, jit_on):
    if jit_on and not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    arrays = _arrays(dtype)
    with jit.switched(jit_on):
        ours = _ours(*arrays)
    for got, want in zip(ours, _torch(*arrays)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_compiled_kernels_equal_the_numpy_composition():
    if not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    from ndflow.ops import attention as module

    arrays = _arrays(np.float32, seed=1)
    with jit.switched(True):
        assert module._compiled(np, *arrays[:3]) is not None  # the per-head kernels run
        fused = _ours(*arrays)
    with jit.switched(False):
        plain = _ours(*arrays)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_gradient_matches_finite_differences():
    q, k, v, go, gp = _arrays(np.float64, seed=2)

    def loss(q_, k_, v_):
        out, probs = attention(tf.constant(q_), tf.constant(k_), tf.constant(v_))
        return float(tf.reduce_sum(out * go) + tf.reduce_sum(probs * gp))

    grads = _ours(q, k, v, go, gp)[2:]
    rng = np.random.default_rng(3)
    for i, x in enumerate((q, k, v)):
        for _ in range(4):
            idx = tuple(rng.integers(0, n) for n in x.shape)
            args = [q, k, v]
            hi, lo = x.copy(), x.copy()
            hi[idx] += 1e-6
            lo[idx] -= 1e-6
            num = (loss(*[hi if j == i else a for j, a in enumerate(args)])
                   - loss(*[lo if j == i else a for j, a in enumerate(args)])) / 2e-6
            assert abs(num - grads[i][idx]) < 1e-6 * max(1.0, abs(num))


def test_second_order_gradient_equals_the_primitive_composition():
    """Under an outer tape the gradient is computed with einsum and softmax ops, so a
    gradient penalty differentiates through it."""
    q, k, v, go, _ = _arrays(np.float64, seed=4)

    def penalty(fn):
        Q, K, V = (tf.constant(x) for x in (q, k, v))
        with tf.GradientTape() as outer:
            outer.watch([Q, K, V])
            with tf.GradientTape() as inner:
                inner.watch([Q, K, V])
                s = tf.reduce_sum(fn(Q, K, V) * go)
            gq = inner.gradient(s, Q)
            p = tf.reduce_sum(gq * gq)
        return [g.numpy() for g in outer.gradient(p, [Q, K, V])]

    def composed(Q, K, V):
        probs = tf.nn.softmax(tf.einsum("abcd,aecd->acbe", Q, K), axis=-1)
        return tf.einsum("acbe,aecd->abcd", probs, V)

    for a, b in zip(penalty(lambda *x: attention(*x)[0]), penalty(composed)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_strided_inputs_and_traced_graphs_give_the_same_values():
    q, k, v, go, gp = _arrays(np.float32, seed=5)
    want = _ours(q, k, v, go, gp)
    qt = np.ascontiguousarray(q.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)  # not C-order
    np.testing.assert_allclose(attention(qt, k, v)[0].numpy(), want[0], rtol=2e-5, atol=2e-6)

    @tf.function
    def f(Q, K, V):
        return attention(Q, K, V)[0]

    np.testing.assert_allclose(f(q, k, v).numpy(), want[0], rtol=2e-5, atol=2e-6)


def test_multi_head_attention_runs_on_the_op_and_equals_its_einsum_form():
    keras.utils.set_random_seed(0)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = np.random.default_rng(6).standard_normal((2, 5, 8)).astype(np.float32)
    out, scores = mha(x, x, return_attention_scores=True)

    @tf.function
    def f(x_):
        return mha(x_, x_)

    names = [n.op.name for n in f.get_concrete_function(tf.constant(x)).graph.nodes
             if n.kind == "op"]
    assert "attention" in names and "softmax" not in names
    q = mha.query_dense(x) * (1 / np.sqrt(4))
    k, v = mha.key_dense(x), mha.value_dense(x)
    probs = tf.nn.softmax(tf.einsum("aecd,abcd->acbe", k, q), axis=-1)
    ref = mha.output_dense(tf.einsum("acbe,aecd->abcd", probs, v))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), probs.numpy(), rtol=1e-5, atol=1e-7)


def _mask(seed):
    """(A, 1, B, E): random, with one query row that may see no key at all."""
    m = np.random.default_rng(seed).random((A, 1, B, E)) > 0.4
    m[0, 0, 2] = False
    return m


@pytest.mark.parametrize("jit_on", [True, False])
def test_masks_work_as_keras_masked_softmax(jit_on):
    """-1e9 before the softmax and 0 after, as Keras (a fully masked row is all zeros), for a
    mask broadcast over heads; values and gradients against PyTorch."""
    if jit_on and not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    q, k, v, go, gp = _arrays(np.float64, seed=7)
    mask = _mask(8)
    Q, K, V = (tf.constant(x) for x in (q, k, v))
    with jit.switched(jit_on):
        with tf.GradientTape() as tape:
            tape.watch([Q, K, V])
            out, probs = attention(Q, K, V, mask)
            loss = tf.reduce_sum(out * go) + tf.reduce_sum(probs * gp)
        grads = tape.gradient(loss, [Q, K, V])
    tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
    tm = torch.tensor(mask)
    scores = torch.einsum("abcd,aecd->acbe", tq, tk).masked_fill(~tm, -1e9)
    P = torch.softmax(scores, -1).masked_fill(~tm, 0.0)
    ref = torch.einsum("acbe,aecd->abcd", P, tv)
    ((ref * torch.tensor(go)).sum() + (P * torch.tensor(gp)).sum()).backward()
    assert not probs.numpy()[0, :, 2].any()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(probs.numpy(), P.detach().numpy(), rtol=1e-12, atol=1e-12)
    for g, t_ in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(g.numpy(), t_.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_mask_traced_with_an_unknown_batch_is_broadcast_at_run_time():
    q, k, v, _, _ = _arrays(np.float32, seed=11)
    causal = np.tril(np.ones((B, E), bool))[None, None]  # (1, 1, B, E)
    want = attention(q, k, v, np.broadcast_to(causal, (A, 1, B, E)).copy())[0].numpy()
    spec = [tf.TensorSpec((None, B, C, D)), tf.TensorSpec((None, E, C, D)),
            tf.TensorSpec((None, E, C, F))]
    f = tf.function(lambda q_, k_, v_: attention(q_, k_, v_, causal)[0], input_signature=spec)
    np.testing.assert_allclose(f(q, k, v).numpy(), want, rtol=1e-6, atol=1e-7)


def test_masked_second_order_gradient_matches_finite_differences():
    q, k, v, go, _ = _arrays(np.float64, seed=9)
    mask = tf.constant(_mask(10))

    def inner(q_):
        Q = tf.constant(q_)
        with tf.GradientTape() as tape:
            tape.watch(Q)
            s = tf.reduce_sum(attention(Q, k, v, mask)[0] * go)
        return tape.gradient(s, Q)

    Q = tf.constant(q)
    with tf.GradientTape() as outer:
        outer.watch(Q)
        with tf.GradientTape() as tape:
            tape.watch(Q)
            s = tf.reduce_sum(attention(Q, k, v, mask)[0] * go)
        g = tape.gradient(s, Q)
        p = tf.reduce_sum(g * g)
    second = outer.gradient(p, Q).numpy()
    idx = (1, 3, 1, 2)
    hi, lo = q.copy(), q.copy()
    hi[idx] += 1e-6
    lo[idx] -= 1e-6
    num = (float(tf.reduce_sum(inner(hi) ** 2)) - float(tf.reduce_sum(inner(lo) ** 2))) / 2e-6
    assert abs(num - second[idx]) < 1e-5 * max(1.0, abs(num))


def test_bad_inputs_are_clear_errors():
    q, k, v, _, _ = _arrays(np.float32)
    with pytest.raises(ValueError, match="attention.*4-D query"):
        attention(q[0], k, v)
    with pytest.raises(ValueError, match="attention.*one batch, head count and key dim"):
        attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="attention.*key and value of one batch"):
        attention(q, k, v[:, :4])
    with pytest.raises(ValueError, match="attention.*one dtype"):
        attention(q, k.astype(np.float64), v)
    with pytest.raises(ValueError, match="attention.*mask that broadcasts"):
        attention(q, k, v, np.ones((A, 1, B, E + 1), bool))

"""Forward values and gradients of representative ops against PyTorch (CPU, float64)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf

torch = pytest.importorskip("torch")
F = torch.nn.functional

rng = np.random.default_rng(11)


def _t(a):
    return torch.tensor(a, dtype=torch.float64 if a.dtype.kind == "f" else torch.int64,
                        requires_grad=a.dtype.kind == "f")


def _check(nd_fn, torch_fn, *inputs, rtol=1e-7, atol=1e-9):
    """Compare outputs and the gradients of sum(out * w) for every float input."""
    xs = [tf.constant(a) for a in inputs]
    floats = [i for i, a in enumerate(inputs) if a.dtype.kind == "f"]
    with tf.GradientTape() as tape:
        for i in floats:
            tape.watch(xs[i])
        out = nd_fn(*xs)
        w = rng.uniform(-1, 1, size=tuple(out.shape))
        loss = tf.reduce_sum(out * tf.constant(w))
    grads = tape.gradient(loss, [xs[i] for i in floats])

    ts = [_t(a) for a in inputs]
    tout = torch_fn(*ts)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    (tout * torch.tensor(w)).sum().backward()
    for i, g in zip(floats, grads):
        assert g is not None, f"no gradient for input {i}"
        np.testing.assert_allclose(g.numpy(), ts[i].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def r(*shape):
    return rng.normal(size=shape)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_batched_with_transposes(ta, tb):
    a = r(2, 3, 4) if not ta else r(2, 4, 3)
    b = r(2, 4, 5) if not tb else r(2, 5, 4)
    _check(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb),
           lambda x, y: torch.matmul(x.transpose(-1, -2) if ta else x,
                                     y.transpose(-1, -2) if tb else y), a, b)


def test_matmul_broadcast_batch():
    _check(tf.matmul, torch.matmul, r(3, 1, 2, 4), r(5, 4, 3))


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_of_a_stack_by_one_matrix(ta, tb):
    """A Dense kernel on a sequence: the matrix's gradient sums over every stacked product
    (computed as one product over all rows)."""
    a = r(2, 3, 4, 5) if not ta else r(2, 3, 5, 4)
    b = r(5, 6) if not tb else r(6, 5)
    _check(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb),
           lambda x, y: torch.matmul(x.transpose(-1, -2) if ta else x,
                                     y.transpose(-1, -2) if tb else y), a, b)


def test_matmul_of_a_stack_by_one_matrix_traced_with_unknown_batch():
    a, b, w = r(3, 4, 5), r(5, 6), r(3, 4, 6)

    @tf.function(input_signature=[tf.TensorSpec([None, None, 5], tf.float64),
                                  tf.TensorSpec([5, 6], tf.float64)])
    def grads(x, y):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            loss = tf.reduce_sum(tf.matmul(x, y) * w)
        return tape.gradient(loss, [x, y])

    ga, gb = grads(tf.constant(a), tf.constant(b))
    np.testing.assert_allclose(gb.numpy(), a.reshape(-1, 5).T @ w.reshape(-1, 6), rtol=1e-12)
    np.testing.assert_allclose(ga.numpy(), w @ b.T, rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = r(3, 4, 5) * 3
    _check(lambda v: tf.nn.softmax(v, axis=axis), lambda v: torch.softmax(v, dim=axis), x)
    _check(lambda v: tf.nn.log_softmax(v, axis=axis), lambda v: torch.log_softmax(v, dim=axis), x)


def test_softmax_cross_entropy():
    labels = rng.dirichlet(np.ones(6), size=4)
    _check(lambda z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: F.cross_entropy(x, z, reduction="none"), labels, r(4, 6) * 3)


def test_sparse_softmax_cross_entropy():
    labels = np.array([0, 5, 2, 2])
    _check(lambda x, z: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda x, z: F.cross_entropy(x, z, reduction="none"), r(4, 6) * 3, labels)


def test_sigmoid_cross_entropy():
    labels = rng.uniform(0, 1, size=(3, 4))
    _check(lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: F.binary_cross_entropy_with_logits(x, z, reduction="none"),
           labels, r(3, 4) * 10)


def test_cross_entropies_are_stable_for_large_logits():
    x = np.array([[1000.0, -1000.0, 0.0]])
    z = np.array([1])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x).numpy()
    ref = F.cross_entropy(torch.tensor(x), torch.tensor(z), reduction="none").numpy()
    np.testing.assert_allclose(loss, ref)
    s = tf.nn.sigmoid_cross_entropy_with_logits(labels=np.ones((1, 3)), logits=x).numpy()
    assert np.all(np.isfinite(s))


@pytest.mark.parametrize("name,nd,th", [
    ("sum", lambda v: tf.reduce_sum(v, axis=1), lambda v: v.sum(1)),
    ("sum-keepdims", lambda v: tf.reduce_sum(v, axis=[0, 2], keepdims=True),
     lambda v: v.sum((0, 2), keepdim=True)),
    ("mean", lambda v: tf.reduce_mean(v, axis=-1), lambda v: v.mean(-1)),
    ("max", lambda v: tf.reduce_max(v, axis=0), lambda v: v.amax(0)),
    ("min", lambda v: tf.reduce_min(v, axis=2), lambda v: v.amin(2)),
    ("prod", lambda v: tf.reduce_prod(v, axis=1), lambda v: v.prod(1)),
    ("logsumexp", lambda v: tf.reduce_logsumexp(v, axis=1), lambda v: v.logsumexp(1)),
    ("variance", lambda v: tf.math.reduce_variance(v, axis=1),
     lambda v: v.var(1, unbiased=False)),
    ("std", lambda v: tf.math.reduce_std(v, axis=[0, 1]),
     lambda v: v.std((0, 1), unbiased=False)),
    ("cumsum", lambda v: tf.cumsum(v, axis=1), lambda v: v.cumsum(1)),
    ("cumprod", lambda v: tf.math.cumprod(v, axis=2), lambda v: v.cumprod(2)),
])
def test_reductions(name, nd, th):
    _check(nd, th, r(2, 3, 4))


@pytest.mark.parametrize("axis", [0, 1])
def test_gather(axis):
    idx = np.array([[2, 0], [2, 1]])
    _check(lambda p, i: tf.gather(p, i, axis=axis),
           lambda p, i: torch.index_select(p, axis, i.reshape(-1)).reshape(
               p.shape[:axis] + i.shape + p.shape[axis + 1:]), r(3, 3), idx)


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(3, 3)]),
    ("i,i->", [(5,), (5,)]),
    ("...ij,jk->...ik", [(2, 2, 3), (3, 2)]),
])
def test_einsum(eq, shapes):
    _check(lambda *xs: tf.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs),
           *[r(*s) for s in shapes])


@pytest.mark.parametrize("name,nd,th", [
    ("relu", tf.nn.relu, F.relu),
    ("elu", tf.nn.elu, F.elu),
    ("selu", tf.nn.selu, F.selu),
    ("gelu", tf.nn.gelu, F.gelu),
    ("gelu-tanh", lambda v: tf.nn.gelu(v, approximate=True),
     lambda v: F.gelu(v, approximate="tanh")),
    ("silu", tf.nn.silu, F.silu),
    ("leaky_relu", tf.nn.leaky_relu, lambda v: F.leaky_relu(v, 0.2)),
    ("leaky_relu-0.01", lambda v: tf.nn.leaky_relu(v, alpha=0.01), F.leaky_relu),
    ("softplus", tf.nn.softplus, F.softplus),
    ("relu6", tf.nn.relu6, F.relu6),
    ("tanh", tf.tanh, torch.tanh),
    ("sigmoid", tf.sigmoid, torch.sigmoid),
    ("softsign", tf.nn.softsign, F.softsign),
])
def test_activations(name, nd, th):
    x = r(4, 5) * 4
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink at zero
    _check(nd, th, x)


def test_softplus_large_inputs():
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    np.testing.assert_allclose(tf.nn.softplus(x).numpy(), F.softplus(torch.tensor(x)).numpy())


def test_pow():
    _check(tf.pow, torch.pow, rng.uniform(0.2, 2, size=(3, 4)), r(3, 4))
    _check(lambda v: v ** 3, lambda v: v ** 3, r(3, 4))
    _check(lambda v: tf.pow(v, 2.0), lambda v: torch.pow(v, 2.0), r(5))


@pytest.mark.parametrize("ord_,axis", [("euclidean", None), (2, 1), (1, 0), (np.inf, 1),
                                       (3, -1), ("fro", (0, 1)), (1, (0, 1)), (np.inf, (0, 1))])
def test_norm(ord_, axis):
    x = r(3, 4)
    th_ord = "fro" if ord_ == "euclidean" else ord_
    if axis is None:
        th = lambda v: torch.linalg.vector_norm(v)  # noqa: E731
    elif isinstance(axis, tuple):
        th = lambda v: torch.linalg.matrix_norm(v, ord=th_ord, dim=axis)  # noqa: E731
    else:
        th = lambda v: torch.linalg.vector_norm(v, ord=th_ord, dim=axis)  # noqa: E731
    _check(lambda v: tf.norm(v, ord=ord_, axis=axis), th, x)

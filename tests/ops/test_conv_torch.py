"""Convolution and pooling ops against PyTorch CPU: forward values and gradients.

Inputs are float64; PyTorch gets the same data in NCHW with TensorFlow's SAME padding applied
explicitly (TF pads the odd pixel after, PyTorch's padding is symmetric).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ndflow as tf

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)


def tf_same_pads(spatial, ks, strides, dil):
    """Per-dim (lo, hi) of TensorFlow's SAME rule."""
    out = []
    for s, k, st, d in zip(spatial, ks, strides, dil):
        o = -(-s // st)
        tot = max((o - 1) * st + (k - 1) * d + 1 - s, 0)
        out.append((tot // 2, tot - tot // 2))
    return out


def torch_pad(x, pads, value=0.0):
    flat = []
    for lo, hi in reversed(pads):  # F.pad takes the last dim first
        flat += [lo, hi]
    return F.pad(x, flat, value=value)


def to_cf(a):  # channels-last -> channels-first
    return np.moveaxis(a, -1, 1)


def to_cl(a):
    return np.moveaxis(a, 1, -1)


def nd_grads(fn, *arrays):
    """ndflow output and gradients of sum(out * upstream) with a fixed random upstream."""
    ts = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for v in ts:
            tape.watch(v)
        y = fn(*ts)
        up = RNG.standard_normal(tuple(y.shape)).astype(y.numpy().dtype)
        loss = tf.reduce_sum(y * tf.constant(up))
    return y.numpy(), [g.numpy() for g in tape.gradient(loss, ts)], up


def th_grads(fn, up, *arrays):
    ts = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in arrays]
    y = fn(*ts)
    (y * torch.tensor(np.ascontiguousarray(up))).sum().backward()
    return y.detach().numpy(), [v.grad.numpy() for v in ts]


TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def check_conv(nd, spatial, k, stride, padding, dil, groups, cin, cout, channels_first, bias):
    n = 2
    xs = (n,) + spatial + (cin,)
    x = RNG.standard_normal(xs)
    w = RNG.standard_normal(k + (cin // groups, cout))
    b = RNG.standard_normal(cout)
    fmt = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[nd] if channels_first else None
    xin = to_cf(x) if channels_first else x
    arrays = (xin, w, b) if bias else (xin, w)

    def nd_fn(xv, wv, bv=None):
        return tf.nn.conv(xv, wv, stride, padding, data_format=fmt, dilations=dil,
                          groups=groups, bias=bv)

    y, grads, up = nd_grads(nd_fn, *arrays)
    strides = (stride,) * nd if isinstance(stride, int) else stride
    dils = (dil,) * nd if isinstance(dil, int) else dil
    pads = tf_same_pads(spatial, k, strides, dils) if padding == "SAME" else [(0, 0)] * nd
    wt = np.moveaxis(np.moveaxis(w, -1, 0), -1, 1)  # (*k, ci, co) -> (co, ci, *k)

    def th_fn(xv, wv, bv=None):
        xv = xv if channels_first else xv.movedim(-1, 1)
        out = TORCH_CONV[nd](torch_pad(xv, pads), wv.movedim(-1, 0).movedim(-1, 1), bv,
                             stride=strides, dilation=dils, groups=groups)
        return out if channels_first else out.movedim(1, -1)

    upt = up
    ty, tgrads = th_grads(th_fn, upt, *arrays)
    assert wt.shape[0] == cout
    np.testing.assert_allclose(y, ty, rtol=1e-9, atol=1e-9)
    for i, (a, b_) in enumerate(zip(grads, tgrads)):
        np.testing.assert_allclose(a, b_, rtol=1e-9, atol=1e-9, err_msg=f"grad {i}")


GRID_2D = list(itertools.product(
    [(1, 1), (3, 3), (2, 3), (5, 4)],  # kernel
    [1, 2, (3, 1)],  # strides
    ["VALID", "SAME"],
    [1, 2],  # dilation
))


@pytest.mark.parametrize("k,stride,padding,dil", GRID_2D)
def test_conv2d_grid_nhwc(k, stride, padding, dil):
    if dil > 1 and stride != 1 and k == (5, 4):
        dil = 1
    check_conv(2, (9, 8), k, stride, padding, dil, 1, 3, 4, False, bias=True)


@pytest.mark.parametrize("groups,cin,cout", [(1, 4, 6), (2, 4, 6), (3, 6, 3), (6, 6, 12),
                                             (4, 4, 4)])
@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_conv2d_groups_and_formats(groups, cin, cout, channels_first, padding):
    check_conv(2, (7, 6), (3, 2), (2, 1), padding, 1, groups, cin, cout, channels_first,
               bias=False)


@pytest.mark.parametrize("k,stride,padding,dil,groups", [
    ((3,), 1, "VALID", 1, 1), ((4,), 2, "SAME", 1, 1), ((3,), 1, "SAME", 3, 2),
    ((5,), 3, "VALID", 1, 4), ((2,), 1, "SAME", 2, 1)])
@pytest.mark.parametrize("channels_first", [False, True])
def test_conv1d(k, stride, padding, dil, groups, channels_first):
    check_conv(1, (13,), k, stride, padding, dil, groups, 4, 8, channels_first, bias=True)


@pytest.mark.parametrize("k,stride,padding,dil,groups", [
    ((2, 3, 2), 1, "VALID", 1, 1), ((3, 3, 3), 2, "SAME", 1, 1), ((2, 2, 2), 1, "SAME", 2, 2),
    ((1, 2, 3), (1, 2, 2), "VALID", 1, 2)])
@pytest.mark.parametrize("channels_first", [False, True])
def test_conv3d(k, stride, padding, dil, groups, channels_first):
    check_conv(3, (5, 6, 5), k, stride, padding, dil, groups, 2, 4, channels_first, bias=False)


def test_explicit_padding_matches_torch():
    x = RNG.standard_normal((2, 6, 7, 3))
    w = RNG.standard_normal((3, 3, 3, 2))
    pads = [[0, 0], [1, 2], [0, 3], [0, 0]]
    y = tf.nn.conv2d(tf.constant(x), tf.constant(w), 1, pads).numpy()
    xt = torch_pad(torch.tensor(to_cf(x).copy()), [(1, 2), (0, 3)])
    ty = F.conv2d(xt, torch.tensor(w.transpose(3, 2, 0, 1).copy()))
    np.testing.assert_allclose(y, to_cl(ty.numpy()), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd,k,stride,padding", [
    (2, (3, 3), 2, "SAME"), (2, (3, 3), 2, "VALID"), (2, (4, 3), (2, 3), "SAME"),
    (2, (2, 2), 1, "VALID"), (1, (5,), 3, "SAME"), (3, (2, 3, 3), 2, "VALID")])
@pytest.mark.parametrize("channels_first", [False, True])
def test_conv_transpose(nd, k, stride, padding, channels_first):
    """conv_transpose is the adjoint of conv: compare with torch's conv_transposeNd."""
    strides = (stride,) * nd if isinstance(stride, int) else stride
    out_spatial = {1: (11,), 2: (7, 8), 3: (5, 6, 7)}[nd]
    cout, cin = 3, 4
    pads = tf_same_pads(out_spatial, k, strides, (1,) * nd) if padding == "SAME" \
        else [(0, 0)] * nd
    in_spatial = tuple((s + lo + hi - kk) // st + 1
                       for s, (lo, hi), kk, st in zip(out_spatial, pads, k, strides))
    x = RNG.standard_normal((2,) + in_spatial + (cin,))
    w = RNG.standard_normal(k + (cout, cin))
    fmt = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[nd] if channels_first else None
    oshape = (2,) + out_spatial + (cout,)
    if channels_first:
        oshape = (2, cout) + out_spatial
    xin = to_cf(x) if channels_first else x

    def nd_fn(xv, wv):
        return tf.nn.conv_transpose(xv, wv, oshape, stride, padding, data_format=fmt)

    y, grads, up = nd_grads(nd_fn, xin, w)

    def th_fn(xv, wv):
        xv = xv if channels_first else xv.movedim(-1, 1)
        full = TORCH_CONVT[nd](xv, wv.movedim(-1, 0).movedim(-1, 1), stride=strides)
        # torch's full output, cropped to TF's window (pads before; extra rows after dropped)
        key = (slice(None), slice(None)) + tuple(slice(lo, lo + s) for (lo, _), s in
                                                 zip(pads, out_spatial))
        if any(full.shape[2 + i] < pads[i][0] + out_spatial[i] for i in range(nd)):
            widths = [(0, max(0, pads[i][0] + out_spatial[i] - full.shape[2 + i]))
                      for i in range(nd)]
            full = torch_pad(full, widths)
        out = full[key]
        return out if channels_first else out.movedim(1, -1)

    ty, tgrads = th_grads(th_fn, up, xin, w)
    np.testing.assert_allclose(y, ty, rtol=1e-9, atol=1e-9)
    for a, b in zip(grads, tgrads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dm", [1, 3])
@pytest.mark.parametrize("padding,stride", [("VALID", 1), ("SAME", 2)])
def test_depthwise_and_separable(dm, padding, stride):
    x = RNG.standard_normal((2, 8, 7, 3))
    dw = RNG.standard_normal((3, 3, 3, dm))
    pw = RNG.standard_normal((1, 1, 3 * dm, 5))
    pads = tf_same_pads((8, 7), (3, 3), (stride, stride), (1, 1)) if padding == "SAME" \
        else [(0, 0)] * 2

    def th_dw(xv, wv):
        # torch depthwise weight (C*dm, 1, kh, kw) with output channel c*dm + m
        wt = wv.permute(2, 3, 0, 1).reshape(3 * dm, 1, 3, 3)
        return F.conv2d(torch_pad(xv.movedim(-1, 1), pads), wt, stride=stride,
                        groups=3).movedim(1, -1)

    y, grads, up = nd_grads(lambda xv, wv: tf.nn.depthwise_conv2d(
        xv, wv, [1, stride, stride, 1], padding), x, dw)
    ty, tgrads = th_grads(th_dw, up, x, dw)
    np.testing.assert_allclose(y, ty, rtol=1e-9, atol=1e-9)
    for a, b in zip(grads, tgrads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)

    def th_sep(xv, wv, pv):
        h = th_dw(xv, wv)
        return torch.einsum("nhwc,co->nhwo", h, pv[0, 0])

    y, grads, up = nd_grads(lambda xv, wv, pv: tf.nn.separable_conv2d(
        xv, wv, pv, [1, stride, stride, 1], padding), x, dw, pw)
    ty, tgrads = th_grads(th_sep, up, x, dw, pw)
    np.testing.assert_allclose(y, ty, rtol=1e-9, atol=1e-9)
    for a, b in zip(grads, tgrads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_conv_fused_relu_and_float32():
    x = RNG.standard_normal((4, 10, 10, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 8)).astype(np.float32)
    b = RNG.standard_normal(8).astype(np.float32)
    y, grads, up = nd_grads(lambda xv, wv, bv: tf.nn.conv(xv, wv, 1, "SAME", bias=bv,
                                                          activation="relu"), x, w, b)
    assert y.dtype == np.float32

    def th(xv, wv, bv):
        return F.relu(F.conv2d(xv.movedim(-1, 1), wv.permute(3, 2, 0, 1), bv,
                               padding=1)).movedim(1, -1)

    ty, tgrads = th_grads(th, up.astype(np.float32), x, w, b)
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-4)
    for a, b_ in zip(grads, tgrads):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b_, rtol=1e-3, atol=1e-3)


# --- pooling --------------------------------------------------------------------------------------

POOL_GRID = [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME"),
             ((2, 2), (2, 2), "SAME"), ((3, 2), (1, 1), "SAME"), ((2, 3), (3, 2), "VALID"),
             ((1, 1), (2, 2), "VALID")]


def _torch_pool(kind, xv, k, s, pads, spatial):
    nd = len(k)
    if kind == "max":
        fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
        return fn(torch_pad(xv, pads, -np.inf), k, s)
    fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
    y = fn(torch_pad(xv, pads), k, s)
    ones = torch_pad(torch.ones((1, 1) + spatial, dtype=xv.dtype), pads)
    return y / fn(ones, k, s)  # TF averages only over the real inputs


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,padding", POOL_GRID)
@pytest.mark.parametrize("channels_first", [False, True])
def test_pool2d(kind, k, s, padding, channels_first):
    spatial = (7, 9)
    x = RNG.standard_normal((2,) + spatial + (3,))
    pads = tf_same_pads(spatial, k, s, (1, 1)) if padding == "SAME" else [(0, 0)] * 2
    fmt = "NCHW" if channels_first else "NHWC"
    xin = to_cf(x) if channels_first else x
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    y, grads, up = nd_grads(lambda v: fn(v, k, s, padding, data_format=fmt), xin)

    def th(v):
        v = v if channels_first else v.movedim(-1, 1)
        out = _torch_pool(kind, v, k, s, pads, spatial)
        return out if channels_first else out.movedim(1, -1)

    ty, tgrads = th_grads(th, up, xin)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grads[0], tgrads[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("nd,k,s,padding", [(1, (3,), (2,), "SAME"), (1, (2,), (2,), "VALID"),
                                            (3, (2, 2, 2), (2, 2, 2), "VALID"),
                                            (3, (3, 2, 3), (2, 1, 2), "SAME")])
def test_pool_1d_3d(kind, nd, k, s, padding):
    spatial = {1: (11,), 3: (5, 4, 6)}[nd]
    x = RNG.standard_normal((2,) + spatial + (2,))
    pads = tf_same_pads(spatial, k, s, (1,) * nd) if padding == "SAME" else [(0, 0)] * nd
    fn = tf.nn.max_pool if kind == "max" else tf.nn.avg_pool
    y, grads, up = nd_grads(lambda v: fn(v, k, s, padding), x)
    ty, tgrads = th_grads(lambda v: _torch_pool(kind, v.movedim(-1, 1), k, s, pads,
                                                spatial).movedim(1, -1), up, x)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grads[0], tgrads[0], rtol=1e-10, atol=1e-10)


def test_max_pool_ties_pass_gradient_once():
    """After a relu many windows hold several zeros: each output sends its gradient to exactly
    one input, the first in row-major order (as TensorFlow and PyTorch do)."""
    x = np.zeros((1, 4, 4, 1))
    x[0, 1, 1, 0] = 0.0
    y, grads, up = nd_grads(lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"), x)
    g = grads[0][0, :, :, 0]
    expected = np.zeros((4, 4))
    expected[0::2, 0::2] = up[0, :, :, 0]
    np.testing.assert_array_equal(g, expected)
    ty, tgrads = th_grads(lambda v: F.max_pool2d(v.movedim(-1, 1), 2).movedim(1, -1), up, x)
    np.testing.assert_array_equal(g, tgrads[0][0, :, :, 0])


@pytest.mark.parametrize("nd,k,stride,padding,dil,groups,channels_first", [
    (2, (3, 3), 1, "VALID", 1, 1, False), (2, (3, 2), 2, "SAME", 1, 1, True),
    (2, (2, 3), 1, "SAME", 2, 1, False), (2, (3, 3), (2, 1), "VALID", 1, 2, False),
    (1, (4,), 3, "SAME", 1, 1, True), (1, (3,), 1, "VALID", 2, 4, False),
    (3, (2, 2, 3), (1, 2, 1), "SAME", 1, 1, False), (3, (2, 2, 2), 1, "VALID", 2, 1, True)])
def test_conv_many_channels(nd, k, stride, padding, dil, groups, channels_first):
    """Inputs with >= 8 channels take the single strided-view copy into the column buffer."""
    spatial = {1: (12,), 2: (8, 9), 3: (5, 6, 6)}[nd]
    check_conv(nd, spatial, k, stride, padding, dil, groups, 16, 8, channels_first, bias=True)

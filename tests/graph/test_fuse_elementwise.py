"""Element-wise fusion: every element-wise op fused vs unfused vs eager, the grouping rules,
in-place buffers, the compiled-loop path and the other targets' generated source."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.backend import jit
from ndflow.core import elementwise as ew
from ndflow.core.dispatch import REGISTRY, execute
from ndflow.graph import passes
from ndflow.graph.codegen import elementwise as cg
from ndflow.graph.passes import elementwise_fusion as fusion
from ndflow.graph.passes.elementwise_fusion import FUSED

ELEMENTWISE = sorted(n for n, o in REGISTRY.items() if "elementwise" in o.traits)
ATTRS = {"leaky_relu": {"alpha": 0.3}}


def _inputs(name: str, shape: tuple, rng) -> list[np.ndarray]:
    op = REGISTRY[name]
    n = 1 + ew._max_arg(op.traits["elementwise"])
    if name == "where":
        return [rng.random(shape) > 0.5, rng.standard_normal(shape).astype(np.float32),
                rng.standard_normal(shape).astype(np.float32)]
    if name in ("logical_and", "logical_or"):
        return [rng.random(shape) > 0.5 for _ in range(n)]
    lo = 0.1 if name in ("log", "sqrt", "rsqrt", "log1p", "pow", "reciprocal", "divide") else -2
    hi = 0.9 if name in ("asin", "acos", "atanh") else 2
    return [rng.uniform(lo, hi, shape).astype(np.float32) for _ in range(n)]


def test_the_registry_declares_the_common_element_wise_ops():
    for name in ("add", "subtract", "multiply", "divide", "maximum", "exp", "log", "tanh",
                 "sigmoid", "erf", "relu", "relu_grad", "leaky_relu", "elu", "where",
                 "greater", "softplus"):
        assert name in ELEMENTWISE, name


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_eager_kernel_is_the_expression(name):
    """One definition: the eager kernel computes exactly what the expression says."""
    rng = np.random.default_rng(0)
    op = REGISTRY[name]
    xs = _inputs(name, (5, 7), rng)
    attrs = ATTRS.get(name, {})
    got = op.forward(np, *xs, **attrs)
    want = ew.evaluate(op.traits["elementwise"], np, xs, attrs)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def _run_graph(name: str, xs: list, fuse: bool, monkeypatch) -> np.ndarray:
    op = REGISTRY[name]
    attrs = ATTRS.get(name, {})
    monkeypatch.setitem(passes.OPTIONS, "fuse_elementwise", fuse)

    # a chain around the op (so a group of several ops forms) on non-constant arguments
    @tf.function
    def f(*args):
        return execute(op, tuple(args), attrs)

    cf = f.get_concrete_function(*[tf.constant(x) for x in xs])
    fused = [n for n in cf.graph.nodes if n.kind == "op" and n.op is FUSED]
    assert bool(fused) == fuse
    return cf(*[tf.constant(x) for x in xs]).numpy()


@pytest.mark.parametrize("size", [(3, 4), (64, 128)])  # below and above the pooled size
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_op_fused_equals_unfused_and_eager(name, size, monkeypatch):
    monkeypatch.setattr(fusion, "JIT_MIN_SIZE", 10**12)  # the ufunc path (bitwise)
    rng = np.random.default_rng(1)
    xs = _inputs(name, size, rng)
    eager = np.asarray(execute(REGISTRY[name], tuple(tf.constant(x) for x in xs),
                               ATTRS.get(name, {})).numpy())
    fused = _run_graph(name, xs, True, monkeypatch)
    unfused = _run_graph(name, xs, False, monkeypatch)
    np.testing.assert_array_equal(fused, eager)
    np.testing.assert_array_equal(unfused, eager)


def _gelu_step(x, w):
    with tf.GradientTape() as tape:
        tape.watch(w)
        h = tf.nn.gelu(tf.matmul(x, w))
        s = tf.nn.sigmoid(h) * 2.0 - tf.nn.softplus(h - 1.0)
        loss = tf.reduce_sum(tf.nn.leaky_relu(s, 0.1) * tf.nn.elu(h))
    return loss, tape.gradient(loss, w)


@pytest.mark.parametrize("jit_on", [False, True])
def test_forward_and_backward_chains_fuse_and_match_eager(jit_on, monkeypatch):
    if jit_on and not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    monkeypatch.setattr(fusion, "JIT_MIN_SIZE", 1 if jit_on else 10**12)
    rng = np.random.default_rng(2)
    x = tf.constant(rng.standard_normal((64, 32)).astype(np.float32))
    w = tf.constant(rng.standard_normal((32, 96)).astype(np.float32) * 0.3)
    eager = _gelu_step(x, w)
    with jit.switched(jit_on):
        f = tf.function(_gelu_step)
        traced = f(x, w)
        graph = f.get_concrete_function(x, w).graph
    fused = [n for n in graph.nodes if n.op is FUSED]
    # gelu (5 ops), sigmoid/softplus/leaky/elu and their gradients: with a compiled loop,
    # cheap values used by the forward and the backward pass are recomputed in each group
    assert len(fused) <= (8 if jit_on else 16)
    assert max(ew.calls(n.attrs["expr"]) for n in fused) >= (20 if jit_on else 4)
    np.testing.assert_allclose(traced[0].numpy(), eager[0].numpy(), rtol=2e-6)
    if jit_on:  # a compiled loop's transcendental functions may differ in the last bit
        np.testing.assert_allclose(traced[1].numpy(), eager[1].numpy(), rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(traced[1].numpy(), eager[1].numpy())


def test_numba_loop_is_bitwise_for_arithmetic():
    if not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    tree = ew.parse("maximum(add(multiply(x, 0.5), true_divide(y, 3)), 0)")
    specs = [((50,), np.dtype(np.float32)), ((50,), np.dtype(np.float32))]
    with jit.switched(True):
        k = cg.numba_ufunc(tree, specs)
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(50).astype(np.float32) for _ in range(2))
    np.testing.assert_array_equal(k(a, b), ew.evaluate(tree, np, (a, b)))
    assert k(a, b).dtype == np.float32


def test_a_value_used_outside_the_group_stays_an_output():
    @tf.function
    def f(x):
        a = tf.exp(x)
        b = tf.tanh(a) * 2.0
        return b, a  # `a` is returned: its op cannot be folded into b's group

    x = tf.constant(np.linspace(-1, 1, 8, dtype=np.float32))
    cf = f.get_concrete_function(x)
    fused = [n for n in cf.graph.nodes if n.op is FUSED]
    assert len(fused) == 2
    b, a = cf(x)
    np.testing.assert_array_equal(a.numpy(), np.exp(x.numpy()))
    np.testing.assert_array_equal(b.numpy(), np.tanh(np.exp(x.numpy())) * np.float32(2))


def test_broadcast_operands_stay_inputs_of_the_group():
    @tf.function
    def f(x, b):
        return tf.nn.relu(x + tf.exp(b))  # exp(b) is per-channel: computed once, then added

    x = tf.constant(np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32))
    b = tf.constant(np.linspace(-1, 1, 5, dtype=np.float32))
    cf = f.get_concrete_function(x, b)
    shapes = sorted(tuple(n.outputs[0].shape) for n in cf.graph.nodes if n.op is FUSED)
    assert shapes == [(5,), (6, 5)]
    np.testing.assert_array_equal(cf(x, b).numpy(),
                                  np.maximum(x.numpy() + np.exp(b.numpy()), 0))


def test_a_variable_read_is_not_moved_past_an_assignment():
    v = tf.Variable(np.ones(4, np.float32))

    @tf.function
    def f(x):
        a = v * 2.0  # reads v before the assignment
        v.assign(x)
        return a + 1.0

    x = tf.constant(np.full(4, 5.0, np.float32))
    np.testing.assert_array_equal(f(x).numpy(), np.full(4, 3.0, np.float32))


def test_in_place_output_never_overwrites_an_input_read_later():
    """`add(exp(y), x)` with x's buffer dying here: writing exp(y) into it first would
    clobber x, so the planner may not give x's buffer to this node."""
    rng = np.random.default_rng(5)
    xv = rng.standard_normal((64, 128)).astype(np.float32)
    yv = rng.standard_normal((64, 128)).astype(np.float32)

    @tf.function
    def f(x, y, w):
        big = tf.matmul(x, w)  # a pooled buffer that dies in the next node
        return tf.exp(y) + big

    w = tf.constant(np.eye(128, dtype=np.float32))
    got = f(tf.constant(xv), tf.constant(yv), w).numpy()
    np.testing.assert_allclose(got, np.exp(yv) + xv, rtol=1e-6)
    lines, _, safe = cg.numpy_lines(ew.parse("add(exp(y), x)"), ["a", "b"], "out",
                                    ((4,), np.dtype(np.float32)),
                                    [((4,), np.dtype(np.float32))] * 2, lambda: "t")
    assert safe == {1}  # exp(y) goes into `out` first: out may be y's buffer, never x's
    lines, _, safe = cg.numpy_lines(ew.parse("add(exp(x), y)"), ["a", "b"], "out",
                                    ((4,), np.dtype(np.float32)),
                                    [((4,), np.dtype(np.float32))] * 2, lambda: "t")
    assert lines[0].startswith("np.exp(a, out=out)") and safe == {0}


def test_steady_state_chain_runs_in_one_buffer():
    @tf.function
    def f(x):
        return tf.nn.relu(tf.tanh(x * 2.0) + 1.0) * 3.0

    x = tf.constant(np.random.default_rng(6).standard_normal((128, 64)).astype(np.float32))
    cf = f.get_concrete_function(x)
    assert len(cf.graph.nodes) == 1
    assert cf.code.count("out=") >= 4  # every step written into the one output buffer


def test_cupy_source_is_the_same_expression_in_c():
    tree = ew.parse("where(greater(x, 0), x, multiply(x, 0.2))")
    ins, outs, body = cg.cupy_source(tree, [((3,), np.dtype(np.float32))])
    assert ins == "float32 a0" and outs == "float32 out"  # CuPy parameters name dtypes
    assert "(a0 > 0)" in body and "(a0 * 0.2)" in body and body.endswith("out = t2;")
    tree = ew.parse("maximum(x, y)")
    _, _, body = cg.cupy_source(tree, [((3,), np.dtype(np.float64))] * 2)
    assert "isnan(a0)" in body  # NaN propagates as in NumPy's maximum


def test_numba_scalar_source_casts_constants_to_the_group_dtype():
    src = cg.numba_scalar_source(ew.parse("multiply(x, 0.5)"), [((2,), np.dtype(np.float32))])
    assert "np.float32(0.5)" in src


def test_expression_parser_rejects_unknown_functions():
    with pytest.raises(ValueError, match="not a known scalar function"):
        ew.parse("frobnicate(x)")
    with pytest.raises(ValueError, match="not a known scalar function"):
        ew.parse("add(x)")


def test_compiled_float32_erf_is_within_one_ulp():
    """Compiled loops use a vectorisable rational erf for float32 (libm's is a call per
    element): within one ulp of the correctly rounded value everywhere, signs and specials
    kept."""
    import math

    if not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    xs = np.concatenate([np.linspace(-6, 6, 200_001, dtype=np.float32),
                         np.float32([0.0, -0.0, 1e-30, -1e-30, 1e-45, 3.9, 4.0, 4.5, 1e30,
                                     -np.inf, np.inf])])
    with jit.switched(True):
        k = cg.numba_ufunc(ew.parse("erf(x)"), [(xs.shape, np.float32)])
        with np.errstate(invalid="ignore"):
            got = k(xs)
            nan = k(np.float32([np.nan]))
    want = np.array([math.erf(float(v)) for v in xs], np.float64).astype(np.float32)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    assert ulps.max() <= 1
    assert np.signbit(got[xs.size - 10]) and not np.signbit(got[xs.size - 11])  # -0.0, 0.0
    assert np.isnan(nan).all()


def test_compiled_float32_exp_is_correctly_rounded():
    """Compiled loops use a vectorisable exp for float32 (range reduction, a polynomial and
    2**k from its bits, in float64; libm's expf is a call per element): the correctly rounded
    value on every sampled input, with overflow to inf, underflow through the subnormals to 0,
    and NaN kept."""
    import math

    if not jit._load_numba():
        pytest.skip("numba is not installed (ndflow[jit])")
    xs = np.concatenate([np.linspace(-110, 90, 1_000_001, dtype=np.float32),
                         np.float32([0.0, -0.0, 1e-30, -1e-30, 88.72, 88.7228, 88.73, -87.33,
                                     -103.2, -103.97, -104.0, 1e30, -1e30, np.inf, -np.inf])])
    with jit.switched(True):
        k = cg.numba_ufunc(ew.parse("exp(x)"), [(xs.shape, np.float32)])
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            got = k(xs)
            nan = k(np.float32([np.nan]))
    want = np.array([math.exp(v) if v < 89 else math.inf for v in xs.astype(np.float64)])
    with np.errstate(over="ignore"):
        want = want.astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert got[-2] == np.inf and got[-1] == 0.0 and 0 < got[-6] < np.finfo(np.float32).tiny
    assert np.isnan(nan).all()


def test_scalar_constants_become_literals_of_the_fused_expression(monkeypatch):
    """A float scalar constant of the group's dtype is part of the expression, not a 0-d
    argument (compiled ufuncs do not vectorise over 0-d operands)."""
    monkeypatch.setattr(fusion, "JIT_MIN_SIZE", 10**12)

    @tf.function
    def f(x):
        return tf.math.erf(x * 0.7) * 0.5 + 1.25

    x = tf.constant(np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4))
    cf = f.get_concrete_function(x)
    fused = [n for n in cf.graph.nodes if n.op is FUSED]
    assert len(fused) == 1 and len(fused[0].inputs) == 1
    assert "0.5" in ew.to_source(fused[0].attrs["expr"])
    np.testing.assert_array_equal(cf(x).numpy(), (tf.math.erf(x * 0.7) * 0.5 + 1.25).numpy())

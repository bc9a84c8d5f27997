"""The multi-output element-wise target: several expressions over shared inputs written in
place into some of them (an optimizer update), as an in-place ufunc sequence, one compiled
loop and a CuPy kernel source, all from one set of trees."""

from __future__ import annotations

import numpy as np
import pytest

from ndflow.backend import jit
from ndflow.core import elementwise as ew
from ndflow.graph.codegen import elementwise as cg

needs_numba = pytest.mark.skipif(not jit.enabled(), reason="numba not installed or NDFLOW_JIT=0")

ADAM = """
    m = m + (g - m) * c1
    v = v + (g * g - v) * c2
    var = var - m / (sqrt(v) + eps) * alpha
"""
ADAM_INPUTS = ("var", "g", "m", "v", "c1", "c2", "eps", "alpha")


def _group(source, inputs, n_arrays, dtype):
    outs = ew.parse_assignments(source, inputs)
    specs = [((1,), np.dtype(dtype))] * n_arrays + \
        [((), np.dtype(dtype))] * (len(inputs) - n_arrays)
    return tuple(t for _, t in outs), tuple(i for i, _ in outs), specs


def _run_both(trees, dests, specs, arrays, scalars):
    k = cg.multi_kernel(trees, dests, specs)
    a = [x.copy() for x in arrays]
    with np.errstate(all="ignore"):
        k.numpy()(*a, *scalars, *[np.empty_like(a[0]) for _ in range(k.n_scratch)])
    b = [x.copy() for x in arrays]
    if jit.enabled():
        with np.errstate(all="ignore"):
            k.loop()(*[x.reshape(-1) for x in b], *scalars)
    return a, b


def test_parse_reads_infix_operators_and_named_inputs():
    tree = ew.parse("-(a - 2) ** b / c * -1.5", args=("a", "b", "c"))
    assert ew.to_source(tree) == \
        "multiply(true_divide(negative(power(subtract(x, 2), y)), z), -1.5)"
    with pytest.raises(ValueError, match="neither an input"):
        ew.parse_assignments("w = w - q", ("w",))
    with pytest.raises(ValueError, match="expected `name = expression`"):
        ew.parse_assignments("w + 1", ("w",))


def test_assignments_see_earlier_values_and_locals_are_not_outputs():
    outs = ew.parse_assignments("step = g * lr\nm = m - step\nw = w + m", ("w", "m", "g", "lr"))
    assert [i for i, _ in outs] == [1, 0]  # m, then w: the order of their last assignment
    assert ew.to_source(outs[1][1]) == "add(x, subtract(y, multiply(z, a3)))"


def test_adam_numpy_sequence_runs_in_place_with_one_scratch():
    trees, dests, specs = _group(ADAM, ADAM_INPUTS, 4, np.float32)
    src, n_scratch = cg.multi_numpy_source(trees, dests, specs)
    lines = src.splitlines()[1:]
    assert n_scratch == 1 and len(lines) == 12  # one ufunc call per distinct operation
    assert all("out=" in ln for ln in lines)
    assert lines[2].strip() == "np.add(a2, s0, out=a2)"  # m' straight into m
    assert lines[-1].strip() == "np.subtract(a0, s0, out=a0)"  # reads the new m and v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_targets_agree_bitwise_with_a_plain_numpy_evaluation(dtype):
    trees, dests, specs = _group(ADAM, ADAM_INPUTS, 4, dtype)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(257).astype(dtype) for _ in range(4)]
    arrays[3] = np.abs(arrays[3])
    arrays[1][:4] = [np.nan, np.inf, -0.0, 0.0]
    scalars = [dtype(0.1), dtype(0.001), dtype(1e-7), dtype(0.03)]
    var, g, m, v = (x.copy() for x in arrays)
    c1, c2, eps, alpha = scalars
    with np.errstate(all="ignore"):
        m = m + (g - m) * c1
        v = v + (g * g - v) * c2
        var = var - m / (np.sqrt(v) + eps) * alpha
    a, b = _run_both(trees, dests, specs, arrays, scalars)
    for got in (a, b):
        for x, want in zip([got[0], got[2], got[3]], [var, m, v]):
            np.testing.assert_array_equal(x, want)
            assert np.array_equal(np.signbit(x), np.signbit(want))
    np.testing.assert_array_equal(a[1], arrays[1])  # inputs that are not outputs kept


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_output_waits_while_a_later_output_reads_the_old_value(dtype):
    # m' = m * 2 is listed first, but w' reads the old m: m' goes to scratch, then into m
    m_new = ew.parse("x * 2")
    w_new = ew.parse("y + x", args=("x", "y"))  # over (m, w)
    trees, dests = (m_new, ("add", ("arg", 1), ("arg", 0))), (0, 1)
    assert ew.to_source(w_new) == ew.to_source(trees[1])
    specs = [((1,), np.dtype(dtype))] * 2
    src, n = cg.multi_numpy_source(trees, dests, specs)
    assert n == 1 and src.rstrip().endswith("np.copyto(a0, s0)")
    m0, w0 = np.arange(5, dtype=dtype), np.ones(5, dtype)
    a, b = _run_both(trees, dests, specs, [m0, w0], [])
    for got in (a, b):
        np.testing.assert_array_equal(got[0], m0 * 2)
        np.testing.assert_array_equal(got[1], w0 + m0)


@needs_numba
def test_numba_loop_is_one_plain_loop_with_hoisted_scalar_work():
    trees, dests, specs = _group("w = w - g * (lr * k)", ("w", "g", "lr", "k"), 2, np.float32)
    src = cg.multi_numba_source(trees, dests, specs)
    head, loop = src.split("    for i in range(p0.size):\n")
    assert "np.multiply(a2, a3)" in head  # scalar-only work done once, before the loop
    assert "a0 = p0[i]" in loop and loop.rstrip().endswith("p0[i] = t2")
    assert "fastmath" not in src
    k = cg.multi_kernel(trees, dests, specs)
    assert k.loop() is k.loop()  # compiled once
    assert cg.multi_kernel(trees, dests, specs) is k  # cached per trees, dests and dtypes
    assert cg.multi_kernel(trees, dests, [((1,), np.dtype(np.float64))] * 2 +
                           [((), np.dtype(np.float64))] * 2) is not k


def test_constants_take_the_arrays_dtype_on_every_target():
    trees, dests, specs = _group("w = maximum(w * 0.1, 0)", ("w",), 1, np.float32)
    assert "np.float32(0.1)" in cg.multi_numba_source(trees, dests, specs)
    w = np.array([1.0, -2.0, 3.0], np.float32)
    a, b = _run_both(trees, dests, specs, [w], [])
    np.testing.assert_array_equal(a[0], np.maximum(w * 0.1, 0))  # NumPy's weak scalars
    np.testing.assert_array_equal(a[0], b[0])


def test_cupy_source_updates_the_destinations_in_place():
    trees, dests, specs = _group(ADAM, ADAM_INPUTS, 4, np.float32)
    ins, outs, body = cg.multi_cupy_source(trees, dests, specs)
    assert ins == "float32 a1, float32 a4, float32 a5, float32 a6, float32 a7"
    assert outs == "float32 a2, float32 a3, float32 a0"  # state arrays: read and written
    lines = body.splitlines()
    stores = [i for i, ln in enumerate(lines) if ln.startswith("a")]
    assert [lines[i] for i in stores] == ["a2 = t2;", "a3 = t6;", "a0 = t11;"]
    assert stores[0] == len(lines) - 3  # every read of an old value comes before a store
    assert "float t7 = sqrt(t6);" in lines
    _, _, body64 = cg.multi_cupy_source(*_group(ADAM, ADAM_INPUTS, 4, np.float64))
    assert "double t0 = (a1 - a2);" in body64


def test_bad_groups_are_rejected_with_a_clear_message():
    trees, dests, specs = _group("g = w + g", ("w", "g"), 1, np.float32)
    with pytest.raises(ValueError, match="scalar input"):
        cg.multi_numpy_source(trees, dests, specs)  # g is a scalar: it cannot be written
    with pytest.raises(ValueError, match="one distinct destination"):
        cg.multi_numpy_source(trees * 2, (0, 0), [((1,), np.dtype(np.float32))] * 2)


def test_cupy_kernel_is_built_from_the_source_and_takes_the_destinations_last():
    built, calls = [], []

    class FakeCupy:  # records what a real cupy.ElementwiseKernel would be given
        __name__ = "cupy"

        class ElementwiseKernel:
            def __init__(self, in_params, out_params, operation, name):
                built.append((in_params, out_params, operation, name))

            def __call__(self, *args):
                calls.append(args)

    trees, dests, specs = _group(ADAM, ADAM_INPUTS, 4, np.float32)
    k = cg.multi_kernel(trees, dests, specs)
    update = k.cupy(FakeCupy)
    assert k.cupy(FakeCupy) is update and len(built) == 1  # built once per module
    assert built[0][:3] == cg.multi_cupy_source(trees, dests, specs)
    update(*ADAM_INPUTS)  # names stand in for the arrays and scalars
    assert calls == [("g", "c1", "c2", "eps", "alpha", "m", "v", "var")]

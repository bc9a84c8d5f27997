"""Every registry op with an ONNX rule, through the core op-case tables: the case's function
exported with `ndflow.onnx.export` runs in onnxruntime with ndflow's eager results (float32
inputs). Every op without a rule is listed with the reason (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.core.dispatch import REGISTRY
from ndflow.export.onnx import lowering
from tests.core.op_cases import CASES
from tests.export.onnx_harness import session
from tests.graph.test_registry_traced import NON_DIFF

# Ops an inference graph never holds (gradients, training forms, losses) or that have no
# ONNX counterpart; exporting a graph with one fails with an error naming it.
NO_RULE = {
    "reason: gradient kernels": ["attention_grad", "avg_pool_grad", "normalize_grad",
                                 "conv_backprop_filter", "conv_max_pool_grad", "gather_grad",
                                 "gru_sequence_grad",
                                 "lstm_sequence_grad", "max_pool_grad", "max_pool_select",
                                 "pad_mirror_grad", "relu_grad", "simple_rnn_sequence_grad",
                                 "sparse_softmax_cross_entropy_grad", "strided_slice_grad",
                                 "sum_to_shape", "put_along_axis_add"],
    "reason: training-only forms and losses": [
        "sigmoid_cross_entropy_with_logits",
        "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
        "keras_sparse_categorical_crossentropy_probs",
        "keras_sparse_categorical_crossentropy_probs_grad", "keras_ctc_loss", "class_ids",
        "kops_custom_gradient"],
    "reason: random sampling (no seeded equivalent in ONNX)": ["random_sample"],
    "reason: decompositions, complex numbers, FFTs and number theory (#16's keras.ops): no "
    "ONNX lowering yet (ONNX has DFT from opset 17 and no eig/qr/svd)": [
        "cholesky", "complex", "conj", "eig", "eigh", "fft_pair", "imag", "irfft",
        "kops_erfinv", "kops_gcd", "kops_lcm", "kops_nextafter", "kops_view", "lu_factor", "qr",
        "real", "rfft", "svd", "triangular_solve"],
    "reason: the compiler's fused element-wise node (export lowers graphs before fusion)": [
        "fused_elementwise"],
    "reason: not yet lowered (no single ONNX op; a decomposition is future work)": [
        "cumprod", "sparsemax", "matrix_inverse", "matrix_determinant", "matrix_solve",
        "log_matrix_determinant", "kops_left_shift", "kops_right_shift"],
}
_NO_RULE = {op for ops in NO_RULE.values() for op in ops}


def _has_rule(name: str) -> bool:
    op = REGISTRY[name]
    return op.onnx is not None or name in lowering._PENDING or any(
        name.startswith(p) for p in lowering.FAMILY_RULES)


def test_every_op_has_a_rule_or_a_reason():
    import tests.core.op_cases  # noqa: F401  (imports the keras modules that register ops)

    names = {n for n in REGISTRY if not n.startswith(("while_loop_", "split_"))}
    missing = sorted(n for n in names if not _has_rule(n) and n not in _NO_RULE)
    assert not missing, f"ops with neither an ONNX rule nor a reason: {missing}"
    stale = sorted(n for n in _NO_RULE if n in REGISTRY and _has_rule(n))
    assert not stale, f"ops listed without a rule that have one: {stale}"


# Cases whose attributes have no lowering: export fails with an error that says so.
REFUSED = {"gather-batch_dims": "batch_dims > 0", "gather-batch_dims-axis2": "batch_dims > 0",
           "gather-batch_dims2": "batch_dims > 0", "prod-second-order": "op cumprod",
           "normalize-layer-norm-second-order": "op normalize_grad",
           "attention-second-order": "op attention_grad",
           "normalize-batch-norm-second-order": "op normalize_grad",
           "while_loop-compiled": "op while_loop_3",
           "while_loop-compiled-reads-variable": "op while_loop_stateful_2"}
# Cases that capture float64 constants: run in float64 (ONNX does not mix dtypes).
FLOAT64 = ("-masked-dropout",)


# Ops whose ONNX form needs a newer opset than the default 17.
OPSET = {"scatter_nd": 18, "kops_bitwise_": 18}


def _cases():
    out = []
    for c in CASES:
        out.append(pytest.param(c.fn, c.inputs, c.id, id=c.id, marks=() if c.op not in _NO_RULE
                                else pytest.mark.skip(reason=f"{c.op}: no ONNX rule")))
    for name, fn, inputs in NON_DIFF:
        out.append(pytest.param(fn, inputs, name, id=f"nondiff-{name}",
                                marks=() if name not in _NO_RULE and name in REGISTRY
                                else pytest.mark.skip(reason=f"{name}: no ONNX rule")))
    return out


def _as(a, float64):
    a = np.asarray(a)
    return a.astype(np.float32) if a.dtype == np.float64 and not float64 else a


@pytest.mark.parametrize("fn,inputs,case_id", _cases())
def test_op_exports(fn, inputs, case_id, tmp_path):
    xs = [_as(a, case_id.endswith(FLOAT64)) for a in inputs]
    specs = [tf.TensorSpec(a.shape, a.dtype) for a in xs]
    path = tmp_path / "op.onnx"
    names = [f"x{i}" for i in range(len(xs))]
    if case_id in REFUSED:
        with pytest.raises(ValueError, match=REFUSED[case_id]):
            tf.onnx.export(fn, specs, path, input_names=names)
        return
    opset = next((v for k, v in OPSET.items() if case_id.startswith(k)), None)
    tf.onnx.export(fn, specs, path, input_names=names, opset_version=opset)
    got = session(str(path)).run(None, {f"x{i}": a for i, a in enumerate(xs)})
    ref = [np.asarray(v) for v in tf.nest.flatten(fn(*[tf.constant(a) for a in xs]))]
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype, (g.shape, r.shape, g.dtype, r.dtype)
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=2e-5, equal_nan=True)


def test_error_names_the_opset_an_op_needs(tmp_path):
    def f(a, b):
        return tf.keras.ops.bitwise_and(a, b)

    specs = [tf.TensorSpec((None, 3), "int32")] * 2
    with pytest.raises(ValueError, match=r"op kops_bitwise_and .*needs opset 18 or newer \(this "
                                         r"export uses opset 17\); pass opset_version=18"):
        tf.onnx.export(f, specs, tmp_path / "b.onnx")
    tf.onnx.export(f, specs, tmp_path / "b.onnx", opset_version=18)
    a = np.array([[5, 12, -3]], np.int32)
    got = session(str(tmp_path / "b.onnx")).run(None, {"input_0": a, "input_1": a + 1})[0]
    np.testing.assert_array_equal(got, np.bitwise_and(a, a + 1))

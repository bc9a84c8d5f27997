"""ONNX export of whole models (three styles, chapter-8 convnet, LSTM/GRU and transformer
models, ndflow.function), opsets, names, dynamic batch, and errors (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.export.onnx_harness import assert_matches, onnx, sample, session

F = "float32"


def _sequential():
    return keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                             layers.BatchNormalization(), layers.Dropout(0.5),
                             layers.Dense(3, activation="softmax")])


def _functional():
    a = keras.Input((6,), name="features")
    b = keras.Input((4, 5), name="sequence")
    h = layers.Concatenate()([layers.Dense(8, activation="tanh")(a),
                              layers.GlobalAveragePooling1D()(b)])
    out1 = layers.Dense(2, name="score")(h)
    out2 = layers.Dense(3, activation="softmax", name="label")(h)
    return keras.Model([a, b], [out1, out2])


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="elu")
        self.drop = layers.Dropout(0.3)
        self.out = layers.Dense(2)

    def call(self, x, training=False):
        return tf.nn.softmax(self.out(self.drop(self.hidden(x), training=training)))


def test_sequential_dynamic_batch_and_inference_form(tmp_path):
    model = _sequential()
    bn = model.layers[1]  # non-trivial moving statistics, scale and offset
    rng = np.random.default_rng(0)
    for var in (bn.moving_mean, bn.gamma, bn.beta):
        var.assign(rng.normal(size=16).astype(F))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, size=16).astype(F))
    proto = assert_matches(model, tmp_path / "seq.onnx", [((12,), F)], batches=(1, 3, 8))
    ops = {n.op_type for n in proto.graph.node}
    assert "Dropout" not in ops and not any("Random" in o for o in ops)
    dim = proto.graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_param == "batch" and dim[1].dim_value == 12
    assert proto.opset_import[0].version == 17


def test_functional_names_inputs_and_outputs(tmp_path):
    model = _functional()
    proto = assert_matches(model, tmp_path / "fn.onnx", [((6,), F), ((4, 5), F)],
                           batches=(1, 5))
    assert [i.name for i in proto.graph.input] == ["features", "sequence"]
    assert [o.name for o in proto.graph.output] == ["score", "label"]


def test_subclassed_model(tmp_path):
    model = _Subclassed()
    model(np.zeros((2, 7), F))
    assert_matches(model, tmp_path / "sub.onnx", [((7,), F)], batches=(1, 6))


def test_chapter8_convnet(tmp_path):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[2] / "examples" / "ch08_convnet_digits.py"
    spec = importlib.util.spec_from_file_location("ch08", path)
    ch08 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ch08)
    model = ch08.build_model()
    assert_matches(model, tmp_path / "ch08.onnx", [((8, 8, 1), F)], batches=(1, 2, 9))


def test_lstm_gru_text_model(tmp_path):
    inp = keras.Input((12,), dtype="int32")
    x = layers.Embedding(50, 8)(inp)
    x = layers.LSTM(6, return_sequences=True)(x)
    x = layers.GRU(5, reset_after=False)(x)
    model = keras.Model(inp, layers.Dense(1, activation="sigmoid")(x))
    assert_matches(model, tmp_path / "rnn.onnx", [((12,), "int32")], batches=(1, 3), high=50)


def test_transformer_encoder(tmp_path):
    inp = keras.Input((10,), dtype="int32")
    x = layers.Embedding(40, 16)(inp)
    attn = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, attn]))
    ff = layers.Dense(16)(layers.Dense(32, activation="gelu")(x))
    x = layers.LayerNormalization()(layers.Add()([x, ff]))
    out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inp, out)
    for opset in (13, 17, 18):
        proto = assert_matches(model, tmp_path / f"tr{opset}.onnx", [((10,), "int32")],
                               batches=(1, 3), high=40, opset_version=opset)
        ops = [n.op_type for n in proto.graph.node]
        assert proto.opset_import[0].version == opset
        # LayerNormalization is one ONNX op from opset 17, decomposed before
        assert ("LayerNormalization" in ops) == (opset >= 17)


def test_masked_attention_exports(tmp_path):
    """A padding mask (Embedding(mask_zero=True)) and a causal mask reach the attention op,
    which exports as Einsum, Where, Softmax, Where, Einsum."""
    inp = keras.Input((7,), dtype="int32")
    x = layers.Embedding(20, 8, mask_zero=True)(inp)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    model = keras.Model(inp, layers.GlobalAveragePooling1D()(x))
    proto = assert_matches(model, tmp_path / "masked.onnx", [((7,), "int32")],
                           batches=(1, 3), high=20)
    assert [n.op_type for n in proto.graph.node].count("Where") >= 2


def test_function_export_with_input_signature(tmp_path):
    w = tf.Variable(np.random.default_rng(0).normal(size=(4, 3)).astype(F))

    @tf.function(input_signature=[tf.TensorSpec((None, 4), F), tf.TensorSpec((None, 3), F)])
    def f(x, y):
        z = tf.matmul(x, w) + y
        return tf.reduce_max(tf.nn.relu(z), axis=1), tf.reverse(z, [1])[:, 1:]

    path = tmp_path / "f.onnx"
    tf.onnx.export(f, None, path)
    sess = session(str(path))
    for b in (1, 5):
        x, y = sample((b, 4), F, 1), sample((b, 3), F, 2)
        ref = f(x, y)
        got = sess.run(None, {"input_0": x, "input_1": y})
        for r, g in zip(ref, got):
            np.testing.assert_allclose(g, r.numpy(), rtol=1e-5, atol=1e-6)


def test_fixed_batch_signature(tmp_path):
    model = _sequential()
    model.export(str(tmp_path / "fixed.onnx"), input_signature=[tf.TensorSpec((2, 12), F)])
    dim = onnx.load(str(tmp_path / "fixed.onnx")).graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_value == 2


def test_op_without_rule_names_op_and_layer(tmp_path):
    inp = keras.Input((3,))
    out = layers.Lambda(lambda x: tf.math.cumprod(x, axis=1), name="angle")(inp)
    model = keras.Model(inp, out)
    with pytest.raises(ValueError, match=r"op cumprod in layer 'angle' has no ONNX rule"):
        model.export(str(tmp_path / "bad.onnx"))
    assert not (tmp_path / "bad.onnx").exists()


def test_bad_arguments(tmp_path):
    model = _sequential()
    with pytest.raises(ValueError, match="opset_version between 13"):
        model.export(str(tmp_path / "m.onnx"), opset_version=11)
    with pytest.raises(ValueError, match="format='onnx'"):
        model.export(str(tmp_path / "m"), format="tf_saved_model")
    with pytest.raises(ValueError, match="known shape apart from the batch"):
        tf.onnx.export(lambda x: x * 2.0, [tf.TensorSpec((None, None), F)], tmp_path / "g.onnx")


def test_main_job_onnx_step(tmp_path, monkeypatch):
    import sys

    from ndflow.demo import export_onnx_check

    model = _sequential()
    x, y = sample((20, 12), F, 3), np.arange(20) % 3
    line, acc = export_onnx_check(model, x, y, str(tmp_path / "d.onnx"))
    expected = float(np.mean(model.predict(x, verbose=0).argmax(1) == y))
    assert acc == expected and "onnxruntime test accuracy" in line
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # the extra is not installed
    line, acc = export_onnx_check(model, x, y, str(tmp_path / "e.onnx"))
    assert acc is None and 'pip install "ndflow[onnx]"' in line
    assert not (tmp_path / "e.onnx").exists()


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_is_one_op_from_opset_20(tmp_path, approximate):
    model = keras.Sequential([keras.Input((6,)), layers.Dense(
        8, activation=lambda x: tf.nn.gelu(x, approximate=approximate)), layers.Dense(2)])
    for opset, single in ((17, False), (20, True)):
        proto = assert_matches(model, tmp_path / f"g{opset}.onnx", [((6,), F)], batches=(1, 3),
                               opset_version=opset)
        ops = [n.op_type for n in proto.graph.node]
        assert ("Gelu" in ops) == single
        assert ("Erf" in ops or "Tanh" in ops) != single

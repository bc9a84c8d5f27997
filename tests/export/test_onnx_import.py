"""`ndflow.onnx.load`: export -> import -> same outputs; models exported by
`torch.onnx.export` import and match onnxruntime; an imported model fine-tunes (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.export.onnx_harness import onnx, sample, session

F = "float32"


def _roundtrip(model, path, shape, dtype=F, high=5):
    model.export(str(path))
    imported = tf.onnx.load(path)
    for b in (1, 3):
        x = sample((b,) + shape, dtype, b, high=high)
        ref = model.predict(x, verbose=0)
        np.testing.assert_allclose(imported(x).numpy(), ref, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(imported.function(x).numpy(), ref, rtol=1e-4, atol=1e-5)
    return imported


def test_export_import_mlp_and_convnet(tmp_path):
    mlp = keras.Sequential([keras.Input((10,)), layers.Dense(8, activation="relu"),
                            layers.BatchNormalization(), layers.Dense(4, activation="softmax")])
    imported = _roundtrip(mlp, tmp_path / "mlp.onnx", (10,))
    assert len(imported.trainable_variables) == len(mlp.weights)
    conv = keras.Sequential([keras.Input((9, 9, 2)), layers.Conv2D(4, 3, padding="same",
                                                                   activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2DTranspose(3, 2, strides=2),
                             layers.AveragePooling2D(2), layers.Flatten(), layers.Dense(3)])
    _roundtrip(conv, tmp_path / "conv.onnx", (9, 9, 2))


def test_export_import_recurrent_and_attention(tmp_path):
    inp = keras.Input((6,), dtype="int32")
    x = layers.Embedding(20, 8)(inp)
    x = layers.LSTM(5, return_sequences=True)(x)
    x = layers.LayerNormalization()(layers.MultiHeadAttention(2, 4)(x, x))
    model = keras.Model(inp, layers.GlobalMaxPooling1D()(layers.GRU(3, return_sequences=True)(x)))
    _roundtrip(model, tmp_path / "seq.onnx", (6,), "int32", high=20)


def test_imported_model_fine_tunes_on_digits(tmp_path):
    keras.utils.set_random_seed(0)
    (x, y), _ = keras.datasets.digits.load_data()
    x = x.reshape((-1, 64)).astype(F)[:512] / 255
    y = y[:512]
    model = keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                              layers.Dense(10)])
    model.export(str(tmp_path / "d.onnx"))
    imported = tf.onnx.load(tmp_path / "d.onnx")
    opt = keras.optimizers.Adam(1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def loss():
        return loss_fn(y, imported(x))

    before = float(loss())
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, imported.trainable_variables)
        opt.apply_gradients(zip(grads, imported.trainable_variables))
    after = float(loss())
    assert after < 0.5 * before
    acc = float(np.mean(np.argmax(imported(x).numpy(), 1) == y))
    assert acc > 0.9
    # the original model is untouched: the imported variables are its own
    assert float(loss_fn(y, model.predict(x, verbose=0))) == pytest.approx(before, rel=1e-5)


def _torch_export(net, shape, path):
    torch = pytest.importorskip("torch")
    net.eval()
    torch.onnx.export(net, (torch.zeros((2,) + shape),), str(path), dynamo=False,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}},
                      opset_version=17)
    return torch


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_torch_mlp_and_convnet_import(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.GELU(),
                              torch.nn.Dropout(0.2), torch.nn.Linear(16, 8), torch.nn.Tanh(),
                              torch.nn.LayerNorm(8), torch.nn.Linear(8, 3),
                              torch.nn.LogSoftmax(-1))

    class Convnet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = torch.nn.Conv2d(1, 6, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(6)
            self.c2 = torch.nn.Conv2d(6, 8, 3, stride=2, groups=2)
            self.fc = torch.nn.Linear(8, 10)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.c1(x))), 2)
            x = torch.nn.functional.leaky_relu(self.c2(x), 0.1)
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
            return torch.softmax(self.fc(x), dim=1)

    conv = Convnet()
    with torch.no_grad():  # non-trivial BatchNorm statistics
        conv.bn.running_mean.uniform_(-0.5, 0.5)
        conv.bn.running_var.uniform_(0.5, 2.0)
    for net, shape in ((mlp, (3, 4)), (conv, (1, 12, 12))):
        path = tmp_path / f"{type(net).__name__}.onnx"
        _torch_export(net, shape, path)
        onnx.checker.check_model(onnx.load(str(path)))
        sess = session(str(path))
        imported = tf.onnx.load(path)
        for b in (1, 4):
            x = sample((b,) + shape, F, b)
            ref = sess.run(None, {"x": x})[0]
            np.testing.assert_allclose(imported(x).numpy(), ref, rtol=1e-4, atol=1e-5)
            with torch.no_grad():
                np.testing.assert_allclose(net(torch.from_numpy(x)).numpy(), ref, rtol=1e-4,
                                           atol=1e-5)


def test_unsupported_operator_is_named(tmp_path):
    helper = onnx.helper
    node = helper.make_node("Det", ["x"], ["y"])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [2, 2])],
                          [helper.make_tensor_value_info("y", 1, [])])
    path = tmp_path / "det.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ValueError, match=r"unsupported operator\(s\) \['Det'\]"):
        tf.onnx.load(path)


def test_every_op_the_exporter_emits_imports():
    import glob
    import os
    import re

    from ndflow.export.onnx import importer

    src = os.path.dirname(importer.__file__)
    emitted = set()
    for f in glob.glob(os.path.join(src, "rules_*.py")) + [os.path.join(src, "lowering.py")]:
        text = open(f).read()
        emitted |= set(re.findall(r'emit\(\s*"([A-Za-z]+)"', text))
        emitted |= set(re.findall(
            r'_(?:unary|binary|negated|softmax|reduce|reduce_bool|arg|pool|bitwise)\("([A-Za-z]+)"',
            text))
    assert {"MatMul", "Conv", "Gelu", "LayerNormalization", "TopK"} <= emitted
    assert not emitted - set(importer._IMPL), sorted(emitted - set(importer._IMPL))


def test_import_of_index_sort_and_bitwise_ops(tmp_path):
    def f(x, i, j, b):
        return (tf.gather_nd(x, i), tf.sort(x, axis=-1), tf.scatter_nd(i, j, [3, 4]),
                tf.keras.ops.bitwise_xor(b, b + 3))

    x = np.random.default_rng(0).normal(size=(3, 4)).astype(F)
    i = np.array([[0, 1], [2, 3], [0, 1]], np.int64)
    j = np.array([1.0, 2.0, 3.0], F)
    b = np.array([5, 12, -3], np.int32)
    specs = [tf.TensorSpec(a.shape, a.dtype) for a in (x, i, j, b)]
    tf.onnx.export(f, specs, tmp_path / "ix.onnx", opset_version=18)
    imported = tf.onnx.load(tmp_path / "ix.onnx")
    for g, r in zip(imported(x, i, j, b), f(*[tf.constant(a) for a in (x, i, j, b)])):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-6)

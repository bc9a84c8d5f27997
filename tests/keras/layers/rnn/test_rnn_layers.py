"""Recurrent layers through the shared layer harness, masks in every model style, stateful
RNNs, custom cells, dropout, compiled fit, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers

from ..harness import run_layer_test

MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)


@pytest.mark.parametrize("cls,kw,out,n", [
    (layers.SimpleRNN, {"units": 3}, (2, 3), 3),
    (layers.LSTM, {"units": 3, "return_sequences": True}, (2, 5, 3), 3),
    (layers.GRU, {"units": 3, "go_backwards": True}, (2, 3), 3),
    (layers.GRU, {"units": 3, "reset_after": False, "return_sequences": True}, (2, 5, 3), 3),
])
def test_harness(cls, kw, out, n):
    exp_mask = MASK if kw.get("return_sequences") else None
    run_layer_test(cls, kw, (2, 5, 4), out, expected_num_trainable_weights=n,
                   supports_masking=True, input_mask=MASK, expected_output_mask=exp_mask,
                   wrong_input_shape=(2, 5, 6))


def test_harness_wrappers():
    run_layer_test(layers.Bidirectional, {"layer": layers.LSTM(2, return_sequences=True)},
                   (2, 5, 4), (2, 5, 4), expected_num_trainable_weights=6,
                   supports_masking=True, input_mask=MASK, expected_output_mask=MASK)
    run_layer_test(layers.TimeDistributed, {"layer": layers.Dense(3)}, (2, 5, 4), (2, 5, 3),
                   expected_num_trainable_weights=2, supports_masking=True)
    run_layer_test(layers.RNN, {"cell": [layers.LSTMCell(3), layers.GRUCell(2)],
                                "return_sequences": True}, (2, 5, 4), (2, 5, 2),
                   expected_num_trainable_weights=6, supports_masking=True)


def test_weight_layout_is_keras():
    lstm = layers.LSTM(3)
    lstm(np.zeros((1, 2, 4), "float32"))
    assert [(w.name, tuple(w.shape)) for w in lstm.weights] == [
        ("kernel", (4, 12)), ("recurrent_kernel", (3, 12)), ("bias", (12,))]
    b = lstm.cell.bias.numpy()
    assert (b[3:6] == 1).all() and (b[:3] == 0).all() and (b[6:] == 0).all()  # unit_forget_bias
    gru = layers.GRU(3, reset_after=False)
    gru(np.zeros((1, 2, 4), "float32"))
    assert [tuple(w.shape) for w in gru.weights] == [(4, 9), (3, 9), (9,)]


def test_mask_skips_padding_like_trimmed_sequences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4)).astype("float32")
    for layer in (layers.LSTM(3), layers.GRU(3), layers.SimpleRNN(3),
                  layers.LSTM(3, go_backwards=True)):
        full = layer(x, mask=MASK).numpy()
        for i, n in enumerate(MASK.sum(1)):
            np.testing.assert_allclose(full[i], layer(x[i:i + 1, :n]).numpy()[0], rtol=1e-5,
                                       atol=1e-6)


def test_masks_in_all_model_styles_and_losses():
    ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0], [1, 2, 3, 4]])
    y = np.arange(24, dtype="float32").reshape(3, 4, 2) / 10

    def layers_():
        return [layers.Embedding(8, 4, mask_zero=True), layers.LSTM(3, return_sequences=True),
                layers.Dense(2)]

    tf.random.set_seed(1)
    seq = keras.Sequential([keras.Input((4,), dtype="int32")] + layers_())
    inp = keras.Input((4,), dtype="int32")
    h = inp
    ls = layers_()
    for lyr in ls:
        h = lyr(h)
    fun = keras.Model(inp, h)

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.e, self.r, self.d = layers_()

        def call(self, x):
            return self.d(self.r(self.e(x)))

    sub = Sub()
    sub(ids)
    for model in (seq, fun, sub):
        model.set_weights(seq.get_weights())
        out = model(ids)
        mk = keras.backend.get_keras_mask(out)
        np.testing.assert_array_equal(mk.numpy(), ids != 0)
        # the loss averages over the kept steps only
        model.compile("sgd", "mse")
        loss = model.evaluate(ids, y, verbose=0)
        want = ((out.numpy() - y) ** 2).mean(-1)[ids != 0].mean()
        np.testing.assert_allclose(loss, want, rtol=1e-5)


def test_masked_pooling_and_metrics():
    ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0]])
    inp = keras.Input((4,), dtype="int32")
    h = layers.Embedding(8, 3, mask_zero=True)(inp)
    seqs = layers.GRU(3, return_sequences=True)(h)
    pooled = layers.GlobalAveragePooling1D()(seqs)
    model = keras.Model(inp, [seqs, pooled])
    s, p = model(ids)
    want = np.stack([s.numpy()[0, :2].mean(0), s.numpy()[1, :1].mean(0)])
    np.testing.assert_allclose(p.numpy(), want, rtol=1e-6)
    metric = keras.metrics.MeanSquaredError()
    y = np.zeros((2, 4, 3), "float32")
    metric.update_state(y, s)
    err = (s.numpy() ** 2).mean(-1)
    np.testing.assert_allclose(metric.result().numpy(), err[ids != 0].mean(), rtol=1e-5)


def test_wrong_mask_shape_is_a_clear_error():
    x = np.zeros((2, 5, 4), "float32")
    with pytest.raises(ValueError, match=r"lstm.*expected a mask of shape \(2, 5\).*\(2, 4\)"):
        layers.LSTM(3, name="lstm")(x, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="expected inputs of shape"):
        layers.GRU(3)(np.zeros((2, 5), "float32"))


def test_stateful_needs_fixed_batch_and_carries_states():
    with pytest.raises(ValueError, match="stateful=True needs a fixed batch size"):
        keras.Sequential([keras.Input((5, 4)), layers.LSTM(3, stateful=True)])
    model = keras.Sequential([keras.Input((5, 4), batch_size=2), layers.GRU(3, stateful=True)])
    x = np.random.default_rng(0).standard_normal((2, 10, 4)).astype("float32")
    model(x[:, :5])
    second = model(x[:, 5:]).numpy()
    ref = keras.Sequential([keras.Input((None, 4)), layers.GRU(3)])
    ref.set_weights(model.get_weights())
    np.testing.assert_allclose(second, ref(x).numpy(), rtol=1e-5, atol=1e-6)
    model.layers[0].reset_states()
    np.testing.assert_allclose(model(x[:, :5]).numpy(), ref(x[:, :5]).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="batch size 2, got inputs with batch size 3"):
        model.layers[0](np.zeros((3, 5, 4), "float32"))
    assert len(model.weights) == 3  # the carried states are not weights (as in Keras)


def test_custom_cell_and_return_state_and_unroll():
    class MinimalCell(layers.Layer):
        def __init__(self, units, **kw):
            super().__init__(**kw)
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")

        def call(self, inputs, states):
            h = tf.matmul(inputs, self.w) + 0.5 * states[0]
            return h, [h]

    x = np.ones((1, 3, 2), "float32")
    out, state = layers.RNN(MinimalCell(1), return_sequences=True, return_state=True,
                            unroll=True)(x)
    np.testing.assert_allclose(out.numpy().ravel(), [2.0, 3.0, 3.5])
    np.testing.assert_allclose(state.numpy().ravel(), [3.5])
    masked = layers.RNN(MinimalCell(1), return_sequences=True)(
        x, mask=np.array([[True, False, True]]))
    np.testing.assert_allclose(masked.numpy().ravel(), [2.0, 2.0, 3.0])


def test_dropout_trains_and_is_off_at_inference():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3)).astype("float32")
    for layer in (layers.LSTM(5, dropout=0.5, recurrent_dropout=0.5, seed=1),
                  layers.GRU(5, dropout=0.5, recurrent_dropout=0.5, seed=1)):
        a = layer(x).numpy()
        np.testing.assert_allclose(a, layer(x).numpy())
        t1, t2 = layer(x, training=True).numpy(), layer(x, training=True).numpy()
        assert not np.allclose(t1, a) and not np.allclose(t1, t2)


def test_compiled_fit_learns_a_sequence_task():
    # the label is whether the first token (before the padding) is above 4: a model must carry
    # information across the sequence; masked bidirectional GRU reaches it in a few epochs
    rng = np.random.default_rng(0)
    n = 512
    ids = rng.integers(1, 9, (n, 8))
    lengths = rng.integers(3, 9, n)
    ids[np.arange(8)[None, :] >= lengths[:, None]] = 0
    y = (ids[:, 0] > 4).astype("float32")
    tf.random.set_seed(0)
    model = keras.Sequential([keras.Input((8,), dtype="int32"),
                              layers.Embedding(9, 8, mask_zero=True),
                              layers.Bidirectional(layers.GRU(8)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(ids, y, epochs=6, batch_size=64, verbose=0)
    assert hist.history["accuracy"][-1] > 0.95, hist.history


def test_config_round_trip_of_wrappers_and_model_save(tmp_path):
    model = keras.Sequential([
        keras.Input((5,), dtype="int32"), layers.Embedding(9, 4, mask_zero=True),
        layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum"),
        layers.RNN(layers.StackedRNNCells([layers.SimpleRNNCell(2), layers.GRUCell(2)])),
        layers.Dense(1)])
    ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7]])
    want = model(ids).numpy()
    path = str(tmp_path / "m.keras")
    model.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back(ids).numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_lstm_harness(rank):
    cls = getattr(layers, f"ConvLSTM{rank}D")
    shape = (2, 3) + (4,) * rank + (2,)
    run_layer_test(cls, {"filters": 3, "kernel_size": 3, "padding": "same",
                         "return_sequences": True}, shape, (2, 3) + (4,) * rank + (3,),
                   expected_num_trainable_weights=3, supports_masking=True)


def test_conv_lstm_mask_and_errors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 2)).astype("float32")
    layer = layers.ConvLSTM1D(3, 2, return_sequences=True, zero_output_for_mask=True)
    out = layer(x, mask=MASK[:, :4]).numpy()
    assert (out[0, 3] == 0).all() and (out[1, 2:] == 0).all()
    np.testing.assert_allclose(out[1, :2], layer(x[1:, :2]).numpy()[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expected inputs of rank 4"):
        layers.ConvLSTM1D(3, 2)(np.zeros((2, 4, 2), "float32"))
    with pytest.raises(ValueError, match="channels_last"):
        layers.ConvLSTM2D(3, 2, data_format="channels_first")

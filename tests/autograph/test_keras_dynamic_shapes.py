"""What real Keras code does inside a layer's `call` while a Functional model is built:
dynamic shapes (`tf.shape(x)[0]`, `tf.random.normal` of that shape, `tf.range` over the
sequence length), metric updates and `add_loss` on symbolic tensors, a model whose only
objective is `add_loss`, and `tf.nn.embedding_lookup`."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


class Sampling(layers.Layer):
    """The VAE guide's reparameterisation layer, written with tf ops."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = tf.random.normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


class KLLoss(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kl_metric = keras.metrics.Mean(name="kl")

    def call(self, inputs):
        z_mean, z_log_var = inputs
        kl = -0.5 * tf.reduce_mean(1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
        self.add_loss(kl)
        self.kl_metric.update_state(kl)
        return z_mean


def _vae_encoder():
    inp = keras.Input((6,))
    h = layers.Dense(8, activation="relu")(inp)
    z_mean = layers.Dense(2, name="z_mean")(h)
    z_log_var = layers.Dense(2, name="z_log_var")(h)
    z = Sampling()([z_mean, z_log_var])
    KLLoss()([z_mean, z_log_var])
    return inp, z_mean, z_log_var, z


def test_sampling_layer_builds_with_symbolic_batch_and_draws_per_call():
    inp, z_mean, z_log_var, z = _vae_encoder()
    assert tuple(z.shape) == (None, 2)
    model = keras.Model(inp, [z_mean, z_log_var, z])
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    m1, lv1, z1 = (t.numpy() for t in model(x))
    _, _, z2 = (t.numpy() for t in model(x))
    assert z1.shape == (5, 2) and not np.allclose(z1, z2)  # a fresh sample per call
    # the reparameterisation: z = mean + exp(logvar / 2) * eps with eps ~ N(0, 1)
    eps = (z1 - m1) / np.exp(0.5 * lv1)
    assert np.all(np.abs(eps) < 6)


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_model_trained_only_by_add_loss_and_layer_metric_in_logs(run_eagerly):
    tf.random.set_seed(1)
    inp = keras.Input((6,))
    h = layers.Dense(8, activation="relu")(inp)
    z_mean = layers.Dense(2)(h)
    z_log_var = layers.Dense(2)(h)
    out = KLLoss()([z_mean, z_log_var])
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.01), run_eagerly=run_eagerly)
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    hist = model.fit(x, epochs=5, batch_size=16, verbose=0).history
    assert hist["loss"][-1] < hist["loss"][0] * 0.7  # the KL term is minimised
    np.testing.assert_allclose(hist["kl"], hist["loss"], rtol=1e-5)  # the layer's metric


class PositionalEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab, dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(vocab, dim)
        self.pos_emb = layers.Embedding(maxlen, dim)

    def call(self, x):
        maxlen = tf.shape(x)[-1]
        positions = tf.range(start=0, limit=maxlen, delta=1)
        return self.token_emb(x) + self.pos_emb(positions)


def test_positional_embedding_with_tf_range_of_dynamic_length():
    inp = keras.Input((None,), dtype="int32")
    layer = PositionalEmbedding(12, 30, 4)
    out = layer(inp)
    assert tuple(out.shape) == (None, None, 4)
    model = keras.Model(inp, out)
    ids = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], "int32")
    got = model(ids).numpy()
    tok = layer.token_emb.embeddings.numpy()
    pos = layer.pos_emb.embeddings.numpy()
    np.testing.assert_allclose(got, tok[ids] + pos[np.arange(5)][None], rtol=1e-6)


def test_embedding_lookup_matches_numpy_with_shards_max_norm_and_gradient():
    table = np.arange(15, dtype="float32").reshape(5, 3)
    ids = np.array([[0, 4], [2, 2]])
    np.testing.assert_array_equal(tf.nn.embedding_lookup(table, ids).numpy(), table[ids])
    shards = [tf.constant(table[:3]), tf.constant(table[3:])]
    np.testing.assert_array_equal(tf.nn.embedding_lookup(shards, ids).numpy(), table[ids])
    rows = table[ids]
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    want = rows * np.minimum(1.0, 4.0 / norms)
    np.testing.assert_allclose(tf.nn.embedding_lookup(table, ids, max_norm=4.0).numpy(), want,
                               rtol=1e-6)
    v = tf.Variable(table)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.embedding_lookup(v, tf.constant(ids)))
    g = np.zeros_like(table)
    np.add.at(g, ids.ravel(), 1.0)
    np.testing.assert_array_equal(tf.convert_to_tensor(tape.gradient(loss, v)).numpy(), g)
    with pytest.raises(ValueError, match="embedding_lookup"):
        tf.nn.embedding_lookup(table, np.array([0.5]))

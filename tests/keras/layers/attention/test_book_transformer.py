"""The book's chapter 11 transformer encoder (Deep Learning with Python, 2nd ed.), with only the
import changed: a `PositionalEmbedding` layer (`tf.shape`, `tf.range` and a `compute_mask` on
symbolic inputs of unknown length) and a `TransformerEncoder` layer (`mask[:, tf.newaxis, :]`
into `MultiHeadAttention`). It builds on `keras.Input(shape=(None,))`, learns a task that needs
the whole sequence, and saves and loads. (Keras 3 refuses this spelling.)"""

from __future__ import annotations

import numpy as np

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers

# --- the book's code, verbatim apart from the import ---------------------------------------------
class TransformerEncoder(layers.Layer):
    def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.dense_dim = dense_dim
        self.num_heads = num_heads
        self.attention = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=embed_dim)
        self.dense_proj = keras.Sequential(
            [layers.Dense(dense_dim, activation="relu"),
             layers.Dense(embed_dim),]
        )
        self.layernorm_1 = layers.LayerNormalization()
        self.layernorm_2 = layers.LayerNormalization()

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = mask[:, tf.newaxis, :]
        attention_output = self.attention(
            inputs, inputs, attention_mask=mask)
        proj_input = self.layernorm_1(inputs + attention_output)
        proj_output = self.dense_proj(proj_input)
        return self.layernorm_2(proj_input + proj_output)

    def get_config(self):
        config = super().get_config()
        config.update({
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "dense_dim": self.dense_dim,
        })
        return config

class PositionalEmbedding(layers.Layer):
    def __init__(self, sequence_length, input_dim, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = layers.Embedding(
            input_dim=input_dim, output_dim=output_dim)
        self.position_embeddings = layers.Embedding(
            input_dim=sequence_length, output_dim=output_dim)
        self.sequence_length = sequence_length
        self.input_dim = input_dim
        self.output_dim = output_dim

    def call(self, inputs):
        length = tf.shape(inputs)[-1]
        positions = tf.range(start=0, limit=length, delta=1)
        embedded_tokens = self.token_embeddings(inputs)
        embedded_positions = self.position_embeddings(positions)
        return embedded_tokens + embedded_positions

    def compute_mask(self, inputs, mask=None):
        return tf.math.not_equal(inputs, 0)

    def get_config(self):
        config = super().get_config()
        config.update({
            "output_dim": self.output_dim,
            "sequence_length": self.sequence_length,
            "input_dim": self.input_dim,
        })
        return config


# --- end of the book's code ----------------------------------------------------------------------
def test_book_transformer_runs_learns_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    vocab_size, sequence_length, embed_dim, num_heads, dense_dim = 60, 12, 16, 2, 32
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(inputs)
    x = TransformerEncoder(embed_dim, dense_dim, num_heads)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    # label: the sequence holds a "trigger" token (1..9) somewhere; padding (0) at the end
    rng = np.random.default_rng(0)
    n = 768
    ids = rng.integers(10, vocab_size, (n, sequence_length))
    y = rng.integers(0, 2, n).astype("float32")
    pos = rng.integers(0, 8, n)
    ids[y == 1, pos[y == 1]] = rng.integers(1, 10, int(y.sum()))
    ids[:, 9:] = 0
    model.fit(ids[:512], y[:512], epochs=8, batch_size=32, verbose=0)
    _, acc = model.evaluate(ids[512:], y[512:], verbose=0)
    assert acc >= 0.9, acc
    path = str(tmp_path / "transformer.keras")
    model.save(path)
    back = keras.models.load_model(path, custom_objects={
        "TransformerEncoder": TransformerEncoder, "PositionalEmbedding": PositionalEmbedding})
    np.testing.assert_allclose(back.predict(ids[:16], verbose=0),
                               model.predict(ids[:16], verbose=0), rtol=1e-5, atol=1e-6)

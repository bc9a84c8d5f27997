"""Run by test_keras_interop.py in a subprocess with real Keras 3 (torch backend).

usage: python keras_rnn_script.py save DIR   build the models, save DIR/<name>.keras and
                                             DIR/<name>.keras.npz (inputs, output, grads)
       python keras_rnn_script.py load DIR   load DIR/<name>.nd.keras (saved by ndflow) and
                                             write DIR/<name>.nd.npz (output, grads)
The gradients are those of sum(output * w) for the stored weights w, with respect to every
trainable weight (in model.trainable_weights order) and, for float inputs, the inputs.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import torch  # noqa: E402

NAMES = ["stack", "masked", "attn", "attn2", "convlstm", "gqa"]


def build(name):
    L = keras.layers
    keras.utils.set_random_seed(0)
    if name == "stack":
        inp = keras.Input((6, 3))
        h = L.LSTM(4, return_sequences=True)(inp)
        h = L.GRU(3, return_sequences=True)(h)
        h = L.GRU(2, reset_after=False, return_sequences=True, go_backwards=True)(h)
        h = L.SimpleRNN(3, return_sequences=True)(h)
        h = L.Bidirectional(L.LSTM(2, return_sequences=True))(h)
        out = L.TimeDistributed(L.Dense(2))(h)
        return keras.Model(inp, out)
    if name == "convlstm":
        inp = keras.Input((3, 5, 5, 2))
        h = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(inp)
        h = L.ConvLSTM2D(2, 2, strides=2, go_backwards=True)(h)
        return keras.Model(inp, L.Dense(2)(L.Flatten()(h)))
    if name == "attn2":
        inp = keras.Input((6, 4))
        a = L.Attention(use_scale=True, score_mode="concat")([inp, inp], use_causal_mask=True)
        b = L.AdditiveAttention()([inp, a])
        c = L.Attention()([a, b, inp])
        return keras.Model(inp, L.Dense(3)(L.Concatenate()([b, c])))
    if name == "gqa":  # Keras's class is GroupedQueryAttention: its h5 group is named so
        inp = keras.Input((6, 8))
        h = L.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)(inp, inp)
        return keras.Model(inp, L.Dense(3)(h))
    if name == "attn":
        inp = keras.Input((6, 8))
        h = L.MultiHeadAttention(2, 3, value_dim=5)(inp, inp, use_causal_mask=True)
        h = L.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d", activation="tanh")(h)
        return keras.Model(inp, h)
    inp = keras.Input((7,), dtype="int32")
    h = L.Embedding(10, 4, mask_zero=True)(inp)
    h = L.Bidirectional(L.GRU(3, return_sequences=True))(h)
    h = L.LSTM(3)(h)
    out = L.Dense(2)(h)
    return keras.Model(inp, out)


def data(name):
    rng = np.random.default_rng(5)
    if name == "convlstm":
        x = rng.standard_normal((4, 3, 5, 5, 2)).astype("float32")
        w = rng.standard_normal((4, 2)).astype("float32")
    elif name == "attn2":
        x = rng.standard_normal((4, 6, 4)).astype("float32")
        w = rng.standard_normal((4, 6, 3)).astype("float32")
    elif name == "gqa":
        x = rng.standard_normal((4, 6, 8)).astype("float32")
        w = rng.standard_normal((4, 6, 3)).astype("float32")
    elif name == "attn":
        x = rng.standard_normal((4, 6, 8)).astype("float32")
        w = rng.standard_normal((4, 6, 4)).astype("float32")
    elif name == "stack":
        x = rng.standard_normal((4, 6, 3)).astype("float32")
        w = rng.standard_normal((4, 6, 2)).astype("float32")
    else:
        x = rng.integers(1, 10, (4, 7)).astype("int32")
        x[0, 4:] = 0
        x[1, 2:] = 0
        x[2, :3] = 0  # leading padding
        w = rng.standard_normal((4, 2)).astype("float32")
    return x, w


def run(model, x, w):
    xt = torch.tensor(x)
    if x.dtype.kind == "f":
        xt.requires_grad_(True)
    for v in model.trainable_weights:
        v.value.grad = None
    y = model(xt)
    (y * torch.tensor(w)).sum().backward()
    out = {"y": y.detach().cpu().numpy()}
    for i, v in enumerate(model.trainable_weights):
        out[f"g{i}"] = v.value.grad.detach().cpu().numpy()
    if x.dtype.kind == "f":
        out["gx"] = xt.grad.numpy()
    return out


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    for name in NAMES:
        x, w = data(name)
        if mode == "save":
            model = build(name)
            model.save(os.path.join(folder, name + ".keras"))
            res = run(model, x, w)
            np.savez(os.path.join(folder, name + ".keras.npz"), x=x, w=w, **res)
        else:
            model = keras.models.load_model(os.path.join(folder, name + ".nd.keras"))
            np.savez(os.path.join(folder, name + ".nd.npz"), **run(model, x, w))


if __name__ == "__main__":
    main()

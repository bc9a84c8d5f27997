"""Run by test_saving_keras_interop.py in a subprocess with real Keras 3 (torch backend).

usage: python keras_interop_script.py save OUT_DIR MODEL_NAMES...
       python keras_interop_script.py load IN_DIR MODEL_NAMES...
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402


def build(name):
    L = keras.layers
    if name == "seq_dense_bn":
        m = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu"),
                              L.BatchNormalization(), L.Dropout(0.3),
                              L.Dense(3, activation="softmax")])
        x = np.random.rand(32, 6).astype("float32")
        y = np.eye(3, dtype="float32")[np.random.randint(0, 3, 32)]
        return m, x, y, "categorical_crossentropy"
    if name == "seq_embedding":
        m = keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(20, 4),
                              L.Flatten(), L.Dense(2)])
        x = np.random.randint(0, 20, (32, 7)).astype("int32")
        return m, x, np.random.rand(32, 2).astype("float32"), "mse"
    if name == "func_multi_io":
        a = keras.Input((5,), name="a")
        b = keras.Input((3,), name="b")
        ha = L.Dense(6, activation="tanh")(a)
        hb = L.Dense(6, activation="relu")(b)
        h = L.Concatenate()([ha, hb])
        h = L.BatchNormalization()(h)
        h = L.Dropout(0.2)(h)
        o1 = L.Dense(2, name="o1")(h)
        o2 = L.Dense(1, activation="sigmoid", name="o2")(h)
        m = keras.Model([a, b], [o1, o2])
        x = [np.random.rand(32, 5).astype("float32"), np.random.rand(32, 3).astype("float32")]
        y = [np.random.rand(32, 2).astype("float32"),
             np.random.randint(0, 2, (32, 1)).astype("float32")]
        return m, x, y, ["mse", "binary_crossentropy"]
    if name == "seq_conv":
        m = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3, activation="relu"),
                              L.MaxPooling2D(2), L.BatchNormalization(),
                              L.Conv2D(5, 2, padding="same"), L.AveragePooling2D(2),
                              L.Flatten(), L.Dropout(0.2), L.Dense(2)])
        x = np.random.rand(16, 8, 8, 3).astype("float32")
        return m, x, np.random.rand(16, 2).astype("float32"), "mse"
    if name == "func_conv":
        inp = keras.Input((9, 9, 2))
        h = L.Conv2D(3, 3, strides=2, padding="same", activation="relu")(inp)
        h = L.BatchNormalization()(h)
        h = L.MaxPooling2D(pool_size=2, strides=1)(h)
        h = L.GlobalAveragePooling2D()(h)
        out = L.Dense(2)(h)
        m = keras.Model(inp, out)
        x = np.random.rand(16, 9, 9, 2).astype("float32")
        return m, x, np.random.rand(16, 2).astype("float32"), "mse"
    if name == "func_nested":
        inner = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="relu"),
                                  L.BatchNormalization()], name="inner")
        i = keras.Input((6,))
        h = inner(i)
        out = L.Dense(2)(L.Concatenate()([h, L.Dense(3)(i)]))
        m = keras.Model(i, out)
        x = np.random.rand(32, 6).astype("float32")
        return m, x, np.random.rand(32, 2).astype("float32"), "mse"
    raise SystemExit(f"unknown model {name}")


def main():
    mode, folder, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    keras.utils.set_random_seed(0)
    for name in names:
        if mode == "save":
            m, x, y, loss = build(name)
            m.compile(optimizer="adam", loss=loss)
            m.fit(x, y, epochs=2, batch_size=8, verbose=0)
            m.save(os.path.join(folder, f"keras_{name}.keras"))
            m.save_weights(os.path.join(folder, f"keras_{name}.weights.h5"))
            xs = x if isinstance(x, list) else [x]
            preds = m.predict(x, verbose=0)
            preds = preds if isinstance(preds, list) else [preds]
            ys = y if isinstance(y, list) else [y]
            out = {**{f"x{i}": v for i, v in enumerate(xs)},
                   **{f"y{i}": v for i, v in enumerate(ys)},
                   **{f"p{i}": np.asarray(v) for i, v in enumerate(preds)}}
            if name == "seq_embedding":  # no dropout: continued training is comparable
                m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
                after = m.predict(x, verbose=0)
                after = after if isinstance(after, list) else [after]
                out.update({f"q{i}": np.asarray(v) for i, v in enumerate(after)})
            np.savez(os.path.join(folder, f"keras_{name}.npz"), **out)
        else:
            m = keras.models.load_model(os.path.join(folder, f"ndflow_{name}.keras"))
            data = np.load(os.path.join(folder, f"ndflow_{name}.npz"))
            xs = [data[k] for k in sorted(k for k in data.files if k.startswith("x"))]
            preds = m.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            preds = preds if isinstance(preds, list) else [preds]
            out = {f"p{i}": np.asarray(v) for i, v in enumerate(preds)}
            # the optimizer state came along too: iterations of the loaded optimizer
            out["iterations"] = np.asarray(int(m.optimizer.iterations.numpy())
                                           if m.optimizer is not None else -1)
            # the weights-only file, into a model built here from code
            fresh = build(name)[0]
            fresh.load_weights(os.path.join(folder, f"ndflow_{name}.weights.h5"))
            wpreds = fresh.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            wpreds = wpreds if isinstance(wpreds, list) else [wpreds]
            out.update({f"w{i}": np.asarray(v) for i, v in enumerate(wpreds)})
            np.savez(os.path.join(folder, f"keras_pred_{name}.npz"), **out)
    print("ok")


if __name__ == "__main__":
    main()

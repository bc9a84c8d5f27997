"""The main job behind `python -m ndflow`: train and evaluate a convnet (or, with
`--model dense`, a Dense network) on the digits dataset bundled in the package (UCI
handwritten digits, 8x8), print its accuracy, then save it in the `.keras`
format, load it back and show that the loaded model scores the same. It draws the training
curves (`digits_history.png`, with matplotlib) and the model (`digits_model.png`, with
`keras.utils.plot_model`) when `ndflow[viz]` and Graphviz are installed, and says so in one
line when they are not. With `ndflow[onnx]` installed it also exports the model to ONNX
(`digits_model.onnx`) and scores it with onnxruntime; without, it says how to install it.
`python -m ndflow info` prints versions, extras, devices and threads.

Keras-style code, exactly as a Keras user writes it with `from ndflow import keras`.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid


def train_dense_digits(epochs: int = 40, seed: int = 0, verbose: int = 2) -> dict:
    """A Dense network on the bundled digits; returns its test loss and accuracy."""
    from ndflow import keras
    from ndflow.keras import layers

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape((-1, 64)).astype("float32") / 255
    x_test = x_test.reshape((-1, 64)).astype("float32") / 255
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    return {"model": model, "test_loss": float(loss), "test_accuracy": float(acc),
            "train_seconds": seconds, "x_test": x_test, "y_test": y_test,
            "history": history.history}


def train_convnet_digits(epochs: int = 20, seed: int = 0, verbose: int = 2) -> dict:
    """The chapter-8 style convnet (Conv2D/MaxPooling2D stack, Flatten, Dense) on the digits."""
    from ndflow import keras
    from ndflow.keras import layers

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape((-1, 8, 8, 1)).astype("float32") / 255
    x_test = x_test.reshape((-1, 8, 8, 1)).astype("float32") / 255
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    return {"model": model, "test_loss": float(loss), "test_accuracy": float(acc),
            "train_seconds": seconds, "x_test": x_test, "y_test": y_test,
            "history": history.history}


def plot_history(history: dict, path: str, title: str = "") -> str | None:
    """Loss and accuracy per epoch, side by side, written to `path` (PNG) with matplotlib.
    Returns None when written, else a one-line note saying what is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return (f"{path} not drawn: matplotlib is not installed "
                '(pip install "ndflow[viz]")')
    fig = Figure(figsize=(9, 3.4), dpi=100)
    FigureCanvasAgg(fig)
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        for name, values in history.items():
            if name.endswith(key):
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    return None


def plot_model_picture(model: object, path: str) -> str | None:
    """`keras.utils.plot_model` of `model` into `path`; a one-line note when pydot or
    Graphviz is missing."""
    from ndflow import keras

    try:
        keras.utils.plot_model(model, to_file=path, show_shapes=True,
                               show_layer_activations=True, dpi=96)
    except ImportError as e:
        return f"{path} not drawn: {str(e).splitlines()[0]}"
    return None


def export_onnx_check(model: object, x: object, y: object, path: str) -> tuple[str, float | None]:
    """Export `model` to ONNX at `path` and score it with onnxruntime on (x, y). Returns a
    one-line report and the onnxruntime accuracy (None when the onnx extra is missing)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return (f"{path} not written: ONNX export needs the onnx extra "
                '(pip install "ndflow[onnx]")', None)
    import numpy as np

    model.export(path, format="onnx")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    probs = sess.run(None, {sess.get_inputs()[0].name: np.asarray(x)})[0]
    diff = float(np.max(np.abs(probs - model.predict(x, verbose=0))))
    acc = float(np.mean(np.argmax(probs, axis=1) == np.asarray(y)))
    return (f"exported to {path}; onnxruntime test accuracy: {acc:.4f} (largest difference "
            f"from ndflow's predictions {diff:.1e})", acc)


def _atomic_write(path: str, write: object) -> None:
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".tmp-{uuid.uuid4().hex}.png")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv: list[str] | None = None) -> int:
    import sys

    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in[:1] == ["info"]:
        from ndflow import sysinfo

        return sysinfo.main()
    from ndflow import keras

    parser = argparse.ArgumentParser(prog="python -m ndflow", description=__doc__)
    parser.add_argument("--model", choices=("convnet", "dense"), default="convnet")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    parser.add_argument("--save", default="digits_model.keras",
                        help="where to save the trained model (.keras)")
    parser.add_argument("--onnx", default="digits_model.onnx",
                        help="where to export the model to ONNX ('' to skip)")
    parser.add_argument("--history-plot", default="digits_history.png",
                        help="where to draw the training curves ('' to skip)")
    parser.add_argument("--model-plot", default="digits_model.png",
                        help="where to draw the model with plot_model ('' to skip)")
    args = parser.parse_args(args_in)
    train = train_convnet_digits if args.model == "convnet" else train_dense_digits
    kwargs = {} if args.epochs is None else {"epochs": args.epochs}
    result = train(verbose=args.verbose, **kwargs)
    print(f"digits test accuracy: {result['test_accuracy']:.4f} "
          f"(loss {result['test_loss']:.4f}, trained in {result['train_seconds']:.1f} s)")
    result["model"].save(args.save)
    loaded = keras.models.load_model(args.save)
    loss, acc = loaded.evaluate(result["x_test"], result["y_test"], verbose=0)
    print(f"saved to {args.save}; reloaded model test accuracy: {acc:.4f} (loss {loss:.4f})")
    onnx_acc = None
    if args.onnx:
        line, onnx_acc = export_onnx_check(result["model"], result["x_test"], result["y_test"],
                                           args.onnx)
        print(line)
    title = f"{args.model} on digits: test accuracy {result['test_accuracy']:.4f}"
    for path, draw in ((args.history_plot, lambda p: plot_history(result["history"], p, title)),
                       (args.model_plot, lambda p: plot_model_picture(result["model"], p))):
        if path:
            note = draw(path)
            print(note if note else f"drew {path}")
    # evaluate's accuracy is a float32 mean: equal predictions agree to float32 rounding
    same_onnx = onnx_acc is None or abs(onnx_acc - result["test_accuracy"]) < 1e-6
    return 0 if abs(acc - result["test_accuracy"]) < 1e-9 and same_onnx else 1

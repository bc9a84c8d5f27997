"""The main job behind `python -m ndflow`: train, evaluate and report a model on the digits
dataset bundled in the package (UCI handwritten digits, 8x8).

Keras-style code, exactly as a Keras user writes it with `from ndflow import keras`.
"""

from __future__ import annotations

import argparse
import time


def train_dense_digits(epochs: int = 30, seed: int = 0, verbose: int = 2) -> dict:
    """A Dense network on the bundled digits; returns its test loss and accuracy."""
    from ndflow import keras
    from ndflow.keras import layers

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape((-1, 64)).astype("float32") / 255
    x_test = x_test.reshape((-1, 64)).astype("float32") / 255
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1,
              verbose=verbose)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    return {"model": model, "test_loss": float(loss), "test_accuracy": float(acc),
            "train_seconds": seconds, "x_test": x_test, "y_test": y_test}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ndflow", description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    args = parser.parse_args(argv)
    result = train_dense_digits(epochs=args.epochs, verbose=args.verbose)
    print(f"digits test accuracy: {result['test_accuracy']:.4f} "
          f"(loss {result['test_loss']:.4f}, trained in {result['train_seconds']:.1f} s)")
    return 0

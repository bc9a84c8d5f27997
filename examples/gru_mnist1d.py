"""The MNIST-1D paper's recurrent baseline (Greydanus 2020): a bidirectional GRU with 6 hidden
units per direction reads the 40 samples of a 1-d "digit", and a linear layer classifies the
outputs of all 40 steps. The paper reports about 91% test accuracy; this run (Adam with a
cosine-decayed learning rate, 60 epochs) reaches about 91.5% in about a minute on a laptop CPU
(each GRU direction runs its whole sequence as one op).

Run: `python examples/gru_mnist1d.py` (needs `pip install mnist1d`).
"""

from ndflow import keras
from ndflow.keras import layers


def load_mnist1d() -> tuple:
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    x = data["x"].astype("float32")[..., None]
    x_test = data["x_test"].astype("float32")[..., None]
    return (x, data["y"].astype("int64")), (x_test, data["y_test"].astype("int64"))


def build_model() -> keras.Model:
    inputs = keras.Input(shape=(40, 1))
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True))(inputs)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs)


def main(epochs: int = 60, verbose: int = 2) -> float:
    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = load_mnist1d()
    model = build_model()
    steps = epochs * (len(x) // 100)
    lr = keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=100, verbose=verbose,
              validation_data=(x_test, y_test) if verbose else None)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"MNIST-1D test accuracy: {acc:.3f}")
    return float(acc)


if __name__ == "__main__":
    main()

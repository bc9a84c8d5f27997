"""Deep Learning with Python (2nd ed.), chapter 8: a small convnet (Conv2D/MaxPooling2D stack,
Flatten, Dense) with `import ndflow as tf; from ndflow import keras`.

The book trains on 28x28 MNIST; here the bundled 8x8 digits stand in (same code, smaller
images, "same" padding so two poolings fit). It reaches about 97% test accuracy in a few
seconds on a laptop CPU. Run: `python examples/ch08_convnet_digits.py`.
"""

from ndflow import keras
from ndflow.keras import layers


def build_model() -> keras.Model:
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def main(epochs: int = 15, verbose: int = 2) -> float:
    keras.utils.set_random_seed(0)
    (train_images, train_labels), (test_images, test_labels) = \
        keras.datasets.digits.load_data()
    train_images = train_images.reshape((-1, 8, 8, 1)).astype("float32") / 255
    test_images = test_images.reshape((-1, 8, 8, 1)).astype("float32") / 255
    model = build_model()
    model.compile(optimizer="adam",
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if verbose:
        model.summary()
    model.fit(train_images, train_labels, epochs=epochs, batch_size=32, verbose=verbose)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    print(f"Test accuracy: {test_acc:.3f}")
    return test_acc


if __name__ == "__main__":
    main()

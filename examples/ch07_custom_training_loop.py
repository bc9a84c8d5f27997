"""Deep Learning with Python (2nd ed.), chapter 7: a custom training loop and a
`tf.function`-compiled evaluation step, with `import ndflow as tf; from ndflow import keras`.

The book trains on MNIST; here the bundled 8x8 digits stand in (same code, smaller images).
Run: `python examples/ch07_custom_training_loop.py`.
"""

import numpy as np

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


def get_mnist_model(input_dim: int) -> keras.Model:
    inputs = keras.Input(shape=(input_dim,))
    features = layers.Dense(512, activation="relu")(inputs)
    features = layers.Dropout(0.5)(features)
    outputs = layers.Dense(10, activation="softmax")(features)
    model = keras.Model(inputs, outputs)
    return model


def load_digits():
    (train_images, train_labels), (test_images, test_labels) = keras.datasets.digits.load_data()
    train_images = train_images.reshape((len(train_images), 64)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 64)).astype("float32") / 255
    return (train_images, train_labels), (test_images, test_labels)


def run(epochs: int = 8, compile_train_step: bool = True, seed: int = 0) -> dict:
    keras.utils.set_random_seed(seed)
    (images, labels), (test_images, test_labels) = load_digits()
    train_images, val_images = images[200:], images[:200]
    train_labels, val_labels = labels[200:], labels[:200]

    model = get_mnist_model(64)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.RMSprop()
    metrics = [keras.metrics.SparseCategoricalAccuracy()]
    loss_tracking_metric = keras.metrics.Mean()

    def train_step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = loss_fn(targets, predictions)
        gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))

        logs = {}
        for metric in metrics:
            metric.update_state(targets, predictions)
            logs[metric.name] = metric.result()

        loss_tracking_metric.update_state(loss)
        logs["loss"] = loss_tracking_metric.result()
        return logs

    if compile_train_step:
        train_step = tf.function(train_step)

    def reset_metrics():
        for metric in metrics:
            metric.reset_state()
        loss_tracking_metric.reset_state()

    training_dataset = tf.data.Dataset.from_tensor_slices((train_images, train_labels))
    training_dataset = training_dataset.batch(32)
    for epoch in range(epochs):
        reset_metrics()
        for inputs_batch, targets_batch in training_dataset:
            logs = train_step(inputs_batch, targets_batch)
        print(f"Results at the end of epoch {epoch}")
        for key, value in logs.items():
            print(f"...{key}: {float(value):.4f}")

    @tf.function
    def test_step(inputs, targets):
        predictions = model(inputs, training=False)
        loss = loss_fn(targets, predictions)

        logs = {}
        for metric in metrics:
            metric.update_state(targets, predictions)
            logs["val_" + metric.name] = metric.result()

        loss_tracking_metric.update_state(loss)
        logs["val_loss"] = loss_tracking_metric.result()
        return logs

    val_dataset = tf.data.Dataset.from_tensor_slices((val_images, val_labels))
    val_dataset = val_dataset.batch(32)
    reset_metrics()
    for inputs_batch, targets_batch in val_dataset:
        logs = test_step(inputs_batch, targets_batch)
    print("Evaluation results:")
    for key, value in logs.items():
        print(f"...{key}: {float(value):.4f}")
    out = {k: float(v) for k, v in logs.items()}
    preds = model.predict(test_images, verbose=0)
    out["test_accuracy"] = float(np.mean(np.argmax(preds, axis=1) == test_labels))
    return out


if __name__ == "__main__":
    results = run()
    print(f"test accuracy: {results['test_accuracy']:.4f}")

"""After keras.io/getting_started/intro_to_keras_for_engineers: a backend-agnostic convnet
with keras.ops in a custom layer, fit with callbacks, evaluate and predict."""
import numpy as np

from ndflow import keras
from ndflow.keras import layers, ops

keras.utils.set_random_seed(0)  # a fixed seed: the test asserts an accuracy

(x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
num_classes = 10
input_shape = (8, 8, 1)


class ScaledRelu(layers.Layer):
    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return ops.relu(x) * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


model = keras.Sequential(
    [
        keras.layers.Input(shape=input_shape),
        keras.layers.Conv2D(16, kernel_size=(3, 3), padding="same"),
        ScaledRelu(1.0),
        keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(),
    optimizer=keras.optimizers.Adam(learning_rate=1e-2),
    metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
)
callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)]
model.fit(x_train, y_train, batch_size=64, epochs=6, validation_split=0.15,
          callbacks=callbacks, verbose=0)
score = model.evaluate(x_test, y_test, verbose=0)
predictions = model.predict(x_test, verbose=0)
print(score, predictions.shape)
assert score[1] > 0.6

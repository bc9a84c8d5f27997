"""After keras.io/examples/timeseries/timeseries_classification_from_scratch: a fully
convolutional network (Conv1D, BatchNormalization, GlobalAveragePooling1D) with
ModelCheckpoint, ReduceLROnPlateau and EarlyStopping, on synthetic two-class series."""
import os
import tempfile

import numpy as np

from ndflow import keras

rng = np.random.default_rng(0)
t = np.linspace(0, 1, 100)
n = 240
y_all = rng.integers(0, 2, n)
freq = np.where(y_all == 1, 7.0, 3.0)[:, None]
x_all = np.sin(2 * np.pi * freq * t[None] + rng.uniform(0, 6, (n, 1)))
x_all += 0.3 * rng.normal(size=x_all.shape)
x_all = x_all.reshape((x_all.shape[0], x_all.shape[1], 1)).astype("float32")
x_train, y_train = x_all[:200], y_all[:200]
x_test, y_test = x_all[200:], y_all[200:]
num_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)
    conv1 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)
    conv2 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)
    conv3 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)
    gap = keras.layers.GlobalAveragePooling1D()(conv3)
    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


model = make_model(input_shape=x_train.shape[1:])
epochs = 8
batch_size = 32
workdir = tempfile.mkdtemp()
callbacks = [
    keras.callbacks.ModelCheckpoint(os.path.join(workdir, "best_model.keras"),
                                    save_best_only=True, monitor="val_loss"),
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2,
                                      min_lr=0.0001),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, verbose=1),
]
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                    callbacks=callbacks, validation_split=0.2, verbose=0)
model = keras.models.load_model(os.path.join(workdir, "best_model.keras"))
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print("Test accuracy", test_acc)
print("Test loss", test_loss)

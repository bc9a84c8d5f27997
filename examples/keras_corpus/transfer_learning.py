"""After keras.io/guides/transfer_learning: trainable and non-trainable weights, freezing a
base model, BatchNormalization kept in inference mode, then fine-tuning the whole model with
a low learning rate (a small convnet base pre-trained on half the digits, transferred to the
other half)."""
import numpy as np

from ndflow import keras

layer = keras.layers.Dense(3)
layer.build((None, 4))
print(len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights))
layer = keras.layers.BatchNormalization()
layer.build((None, 4))
print(len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights))
layer = keras.layers.Dense(3)
layer.build((None, 4))
layer.trainable = False
assert len(layer.trainable_weights) == 0

(x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
x_train = x_train[..., None].astype("float32") / 255
x_test = x_test[..., None].astype("float32") / 255
first = y_train < 5

base_model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
    keras.layers.BatchNormalization(),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.GlobalAveragePooling2D(),
], name="base")
pretrain = keras.Sequential([base_model, keras.layers.Dense(5)])
pretrain.compile(optimizer="adam",
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
pretrain.fit(x_train[first], y_train[first], epochs=4, verbose=0)

base_model.trainable = False
inputs = keras.Input(shape=(8, 8, 1))
x = base_model(inputs, training=False)
x = keras.layers.Dropout(0.2)(x)
outputs = keras.layers.Dense(5)(x)
model = keras.Model(inputs, outputs)
model.summary(show_trainable=True)
model.compile(optimizer=keras.optimizers.Adam(),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[keras.metrics.SparseCategoricalAccuracy()])
second_train, second_test = y_train >= 5, y_test >= 5
model.fit(x_train[second_train], y_train[second_train] - 5, epochs=6, verbose=0)

base_model.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-4),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[keras.metrics.SparseCategoricalAccuracy()])
model.fit(x_train[second_train], y_train[second_train] - 5, epochs=2, verbose=0)
loss, acc = model.evaluate(x_test[second_test], y_test[second_test] - 5, verbose=0)
print("transfer accuracy", acc)
assert np.isfinite(loss)

"""After keras.io/guides/serialization_and_saving: saving and reloading a .keras model,
custom objects with register_keras_serializable and get_config, weights-only files, and
cloning from config."""
import os
import tempfile

import numpy as np

from ndflow import keras

workdir = tempfile.mkdtemp()


def get_model():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
    return model


model = get_model()
test_input = np.random.random((128, 32))
test_target = np.random.random((128, 1))
model.fit(test_input, test_target, verbose=0)
path = os.path.join(workdir, "my_model.keras")
model.save(path)
reconstructed_model = keras.models.load_model(path)
np.testing.assert_allclose(model.predict(test_input, verbose=0),
                           reconstructed_model.predict(test_input, verbose=0), rtol=1e-6)


@keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
def custom_fn(x):
    return x**2


@keras.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config


@keras.saving.register_keras_serializable(package="my_package", name="MyDense")
class MyDense(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


model = keras.Sequential([
    keras.Input(shape=(4,)),
    MyDense(3),
    CustomLayer(0.5),
    keras.layers.Activation(custom_fn),
])
model.compile(optimizer="rmsprop", loss="mse")
model.fit(np.random.rand(16, 4), np.random.rand(16, 3), verbose=0)
path = os.path.join(workdir, "custom_model.keras")
model.save(path)
reloaded = keras.models.load_model(path)
x = np.random.rand(5, 4).astype("float32")
np.testing.assert_allclose(model.predict(x, verbose=0), reloaded.predict(x, verbose=0),
                           rtol=1e-6)

config = model.get_config()
new_model = keras.Sequential.from_config(config)
weights_path = os.path.join(workdir, "my.weights.h5")
model.save_weights(weights_path)
new_model.load_weights(weights_path)
np.testing.assert_allclose(model.predict(x, verbose=0), new_model.predict(x, verbose=0),
                           rtol=1e-6)

layer = keras.layers.Dense(3, activation="relu")
layer_config = layer.get_config()
new_layer = keras.layers.Dense.from_config(layer_config)
serialized = keras.saving.serialize_keras_object(layer)
print(type(keras.saving.deserialize_keras_object(serialized)).__name__)
clone = keras.models.clone_model(model)
print(len(clone.layers))

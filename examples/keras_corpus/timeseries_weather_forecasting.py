"""After keras.io/examples/timeseries/timeseries_weather_forecasting: normalised features,
timeseries_dataset_from_array windows, an LSTM regressor with EarlyStopping and
ModelCheckpoint (weights), on a synthetic multivariate series."""
import os
import tempfile

import numpy as np

from ndflow import keras

rng = np.random.default_rng(0)
steps = np.arange(3000)
features = np.stack([
    np.sin(steps / 50) + 0.1 * rng.normal(size=steps.shape),
    np.cos(steps / 30) + 0.1 * rng.normal(size=steps.shape),
    0.01 * steps + rng.normal(size=steps.shape),
], axis=1).astype("float32")

split_fraction = 0.715
train_split = int(split_fraction * int(features.shape[0]))
step = 6
past = 120
future = 12
learning_rate = 0.001
batch_size = 64
epochs = 2


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


features = normalize(features, train_split)
train_data = features[0: train_split - 1]
val_data = features[train_split:]

start = past + future
end = start + train_split
x_train = train_data
y_train = features[start:end][:, [0]]
sequence_length = int(past / step)

dataset_train = keras.preprocessing.timeseries_dataset_from_array(
    x_train, y_train, sequence_length=sequence_length, sampling_rate=step,
    batch_size=batch_size)

x_end = len(val_data) - past - future
label_start = train_split + past + future
x_val = val_data[:x_end]
y_val = features[label_start:][:, [0]]
dataset_val = keras.preprocessing.timeseries_dataset_from_array(
    x_val, y_val, sequence_length=sequence_length, sampling_rate=step, batch_size=batch_size)

for batch in dataset_train.take(1):
    inputs, targets = batch
print("Input shape:", inputs.numpy().shape)
print("Target shape:", targets.numpy().shape)

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(16)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
model.summary()

path_checkpoint = os.path.join(tempfile.mkdtemp(), "model_checkpoint.weights.h5")
es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss", filepath=path_checkpoint, verbose=0, save_weights_only=True,
    save_best_only=True)
history = model.fit(dataset_train, epochs=epochs, validation_data=dataset_val,
                    callbacks=[es_callback, modelckpt_callback], verbose=0)
print(history.history)
for x, y in dataset_val.take(2):
    print(model.predict(x, verbose=0)[0], y[0].numpy())

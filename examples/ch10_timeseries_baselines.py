"""Deep Learning with Python (2nd ed.), chapter 10: temperature forecasting, the parts before
the recurrent models: parsing the Jena climate CSV, normalizing, the three
`timeseries_dataset_from_array` datasets, the common-sense (naive) baseline, and the densely
connected and 1D-convolutional models, with `import ndflow as tf; from ndflow import keras`.

The book downloads jena_climate_2009_2016.csv (420,451 rows of 14 features every 10 minutes);
`make_synthetic_jena` writes a CSV of the same layout (daily and yearly temperature cycles,
weather noise, 13 other features correlated with it) so the code runs without a download.
Run: `python examples/ch10_timeseries_baselines.py`.
"""

import os

import numpy as np

from ndflow import keras
from ndflow.keras import layers

HEADER = ['"Date Time"', '"p (mbar)"', '"T (degC)"', '"Tpot (K)"', '"Tdew (degC)"', '"rh (%)"',
          '"VPmax (mbar)"', '"VPact (mbar)"', '"VPdef (mbar)"', '"sh (g/kg)"',
          '"H2OC (mmol/mol)"', '"rho (g/m**3)"', '"wv (m/s)"', '"max. wv (m/s)"', '"wd (deg)"']


def make_synthetic_jena(path: str, rows: int = 20000, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    weather = np.cumsum(rng.normal(0, 0.05, rows))
    weather -= np.convolve(weather, np.ones(1440) / 1440, mode="same")  # slow drift removed
    temp = (9 + 8 * np.sin(2 * np.pi * t / (144 * 365)) + 5 * np.sin(2 * np.pi * t / 144)
            + 3 * weather + rng.normal(0, 0.3, rows))
    cols = [990 - 0.5 * temp + rng.normal(0, 1, rows), temp, temp + 273.15,
            temp - 5 + rng.normal(0, 1, rows)]
    for k in range(10):
        cols.append((k + 1) * 0.3 * temp + rng.normal(0, 1 + k, rows))
    lines = [",".join(HEADER)]
    for i in range(rows):
        stamp = f"{1 + (i // 144) % 28:02d}.01.2009 {(i % 144) // 6:02d}:{(i % 6) * 10:02d}:00"
        lines.append(stamp + "," + ",".join(f"{c[i]:.2f}" for c in cols))
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def run(folder: str, epochs: int = 3, verbose: int = 2, rows: int = 20000,
        models: tuple = ("dense", "conv")) -> dict:
    """The chapter's listings; returns the naive baseline's and the models' MAE."""
    keras.utils.set_random_seed(0)
    fname = make_synthetic_jena(os.path.join(folder, "jena_climate_2009_2016.csv"), rows)
    # --- the book's listings, unchanged but for the import ---
    with open(fname) as f:
        data = f.read()
    lines = data.split("\n")
    header = lines[0].split(",")
    lines = lines[1:]
    temperature = np.zeros((len(lines),))
    raw_data = np.zeros((len(lines), len(header) - 1))
    for i, line in enumerate(lines):
        values = [float(x) for x in line.split(",")[1:]]
        temperature[i] = values[1]
        raw_data[i, :] = values[:]
    num_train_samples = int(0.5 * len(raw_data))
    num_val_samples = int(0.25 * len(raw_data))
    mean = raw_data[:num_train_samples].mean(axis=0)
    raw_data -= mean
    std = raw_data[:num_train_samples].std(axis=0)
    raw_data /= std
    sampling_rate = 6
    sequence_length = 120
    delay = sampling_rate * (sequence_length + 24 - 1)
    batch_size = 256
    train_dataset = keras.utils.timeseries_dataset_from_array(
        raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
        sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
        start_index=0, end_index=num_train_samples)
    val_dataset = keras.utils.timeseries_dataset_from_array(
        raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
        sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
        start_index=num_train_samples, end_index=num_train_samples + num_val_samples)
    test_dataset = keras.utils.timeseries_dataset_from_array(
        raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
        sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
        start_index=num_train_samples + num_val_samples)

    def evaluate_naive_method(dataset):
        total_abs_err = 0.
        samples_seen = 0
        for samples, targets in dataset:
            preds = samples[:, -1, 1] * std[1] + mean[1]
            total_abs_err += np.sum(np.abs(preds - targets))
            samples_seen += samples.shape[0]
        return total_abs_err / samples_seen

    results = {"naive_val_mae": evaluate_naive_method(val_dataset),
               "naive_test_mae": evaluate_naive_method(test_dataset)}
    if "dense" in models:
        results["dense_test_mae"] = _dense(folder, train_dataset, val_dataset, test_dataset,
                                           sequence_length, raw_data, epochs, verbose)
    if "conv" in models:
        results["conv_test_mae"] = _conv(folder, train_dataset, val_dataset, test_dataset,
                                         sequence_length, raw_data, epochs, verbose)
    # for the test: the same naive baseline computed directly from the arrays
    start = num_train_samples + num_val_samples
    n = len(raw_data) - delay - start - (sequence_length - 1) * sampling_rate
    n = min(n, len(temperature) - delay)
    last = start + np.arange(n) + (sequence_length - 1) * sampling_rate
    results["naive_test_mae_direct"] = float(np.mean(np.abs(
        temperature[last] - temperature[delay + start + np.arange(n)])))
    results["temperature_std"] = float(temperature.std())
    return results


def _dense(folder, train_dataset, val_dataset, test_dataset, sequence_length, raw_data,
           epochs, verbose):
    inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
    x = layers.Flatten()(inputs)
    x = layers.Dense(16, activation="relu")(x)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    path = os.path.join(folder, "jena_dense.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(path, save_best_only=True)]
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    model.fit(train_dataset, epochs=epochs, validation_data=val_dataset, callbacks=callbacks,
              verbose=verbose)
    model = keras.models.load_model(path)
    return model.evaluate(test_dataset, verbose=verbose)[1]


def _conv(folder, train_dataset, val_dataset, test_dataset, sequence_length, raw_data,
          epochs, verbose):
    inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
    x = layers.Conv1D(8, 24, activation="relu")(inputs)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(8, 12, activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(8, 6, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    path = os.path.join(folder, "jena_conv.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(path, save_best_only=True)]
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    model.fit(train_dataset, epochs=epochs, validation_data=val_dataset, callbacks=callbacks,
              verbose=verbose)
    model = keras.models.load_model(path)
    return model.evaluate(test_dataset, verbose=verbose)[1]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(run(d))

"""compile / fit / evaluate / predict, checked against NumPy, and the book's training styles."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers

RNG = np.random.default_rng(1)


def _linear_data(n=64, d=3):
    x = RNG.standard_normal((n, d)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32")[:d] + 0.3).astype("float32")
    return x, y


def _linear_model(d=3):
    return keras.Sequential([keras.Input((d,)), layers.Dense(1)])


def test_one_fit_step_matches_numpy_sgd():
    x, y = _linear_data(16)
    model = _linear_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    w0, b0 = model.get_weights()
    hist = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    err = x @ w0 + b0 - y
    np.testing.assert_allclose(hist.history["loss"][0], np.mean(err ** 2), rtol=1e-5)
    gw = 2 * x.T @ err / len(x)
    gb = 2 * err.mean(0)
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.1 * gw, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b1, b0 - 0.1 * gb, rtol=1e-4, atol=1e-6)


def test_fit_learns_linear_regression_and_evaluate_predict():
    x, y = _linear_data(256)
    model = _linear_model()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    hist = model.fit(x, y, batch_size=32, epochs=30, verbose=0)
    assert set(hist.history) == {"loss", "mae"} and len(hist.history["loss"]) == 30
    assert hist.history["loss"][-1] < 1e-3 < hist.history["loss"][0]
    loss, mae = model.evaluate(x, y, verbose=0)
    pred = model.predict(x, batch_size=50, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (256, 1)
    np.testing.assert_allclose(loss, np.mean((pred - y) ** 2), rtol=1e-3, atol=1e-7)
    np.testing.assert_allclose(mae, np.mean(np.abs(pred - y)), rtol=1e-3, atol=1e-7)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "mae"}


def test_chapter3_simple_dense_classifier_trains():
    class SimpleDense(keras.layers.Layer):
        def __init__(self, units, activation=None):
            super().__init__()
            self.units = units
            self.activation = activation

        def build(self, input_shape):
            self.W = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, inputs):
            y = tf.matmul(inputs, self.W) + self.b
            return self.activation(y) if self.activation is not None else y

    n = 400
    neg = RNG.multivariate_normal([0, 3], [[1, 0.5], [0.5, 1]], n).astype("float32")
    pos = RNG.multivariate_normal([3, 0], [[1, 0.5], [0.5, 1]], n).astype("float32")
    x = np.vstack([neg, pos])
    y = np.concatenate([np.zeros(n, "int32"), np.ones(n, "int32")])
    order = np.random.default_rng(3).permutation(2 * n)
    x, y = x[order], y[order]
    keras.utils.set_random_seed(1)
    model = keras.Sequential([SimpleDense(16, activation=tf.nn.relu),
                              SimpleDense(2, activation=tf.nn.softmax)])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=10, batch_size=64, validation_split=0.2, verbose=0)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} == set(hist.history)
    assert hist.history["accuracy"][-1] > 0.9 and hist.history["val_accuracy"][-1] > 0.9
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    probs = model.predict(x[:10], verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert type(model._compile_metrics.metrics[0]).__name__ == "SparseCategoricalAccuracy"


@pytest.mark.parametrize("loss,y_kind,expected", [
    ("sparse_categorical_crossentropy", "sparse", "SparseCategoricalAccuracy"),
    ("categorical_crossentropy", "onehot", "CategoricalAccuracy"),
    ("binary_crossentropy", "binary", "BinaryAccuracy"),
])
def test_accuracy_string_resolution(loss, y_kind, expected):
    units = 1 if y_kind == "binary" else 3
    act = "sigmoid" if y_kind == "binary" else "softmax"
    model = keras.Sequential([keras.Input((4,)), layers.Dense(units, activation=act)])
    model.compile("sgd", loss, metrics=["accuracy"])
    x = RNG.random((8, 4)).astype("float32")
    labels = RNG.integers(0, 3 if units == 3 else 2, 8)
    y = {"sparse": labels, "onehot": np.eye(3)[labels],
         "binary": labels.reshape(-1, 1).astype("float32")}[y_kind]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    metric = model._compile_metrics.metrics[0]
    assert type(metric).__name__ == expected and metric.name == "accuracy"
    pred = model.predict(x, verbose=0)
    want = ((pred[:, 0] > 0.5) == labels).mean() if units == 1 else (
        pred.argmax(1) == labels).mean()
    np.testing.assert_allclose(logs["accuracy"], want, rtol=1e-6)


def _ticket_model():
    title = keras.Input(shape=(10,), name="title")
    tags = keras.Input(shape=(4,), name="tags")
    features = layers.Dense(8, activation="relu")(layers.Concatenate()([title, tags]))
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(3, activation="softmax", name="department")(features)
    return keras.Model([title, tags], [priority, department])


def test_multi_output_losses_lists_dicts_and_loss_weights():
    n = 32
    xs = [RNG.random((n, 10)).astype("float32"), RNG.random((n, 4)).astype("float32")]
    yp = RNG.random((n, 1)).astype("float32")
    yd = np.eye(3, dtype="float32")[RNG.integers(0, 3, n)]
    model = _ticket_model()
    model.compile(optimizer="rmsprop",
                  loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
                  loss_weights={"priority": 1.0, "department": 0.2},
                  metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})
    logs = model.evaluate({"title": xs[0], "tags": xs[1]},
                          {"priority": yp, "department": yd}, verbose=0, return_dict=True,
                          batch_size=n)
    p, d = model.predict(xs, verbose=0)
    mse = np.mean((p - yp) ** 2)
    cce = np.mean(-np.sum(yd * np.log(np.clip(d, 1e-7, 1)), axis=1))
    np.testing.assert_allclose(logs["priority_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["department_loss"], cce, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], mse + 0.2 * cce, rtol=1e-5)
    np.testing.assert_allclose(logs["priority_mean_absolute_error"], np.mean(np.abs(p - yp)),
                               rtol=1e-5)
    np.testing.assert_allclose(logs["department_accuracy"],
                               np.mean(d.argmax(1) == yd.argmax(1)), rtol=1e-6)
    # list spelling trains too
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    hist = model.fit(xs, [yp, yd], epochs=2, batch_size=8, verbose=0)
    assert {"loss", "priority_loss", "department_loss", "priority_mean_absolute_error",
            "department_accuracy"} == set(hist.history)


def test_sample_weight_and_class_weight_match_numpy():
    x, y = _linear_data(20)
    model = _linear_model()
    model.compile("sgd", "mse")
    sw = RNG.random(20).astype("float32")
    got = model.evaluate(x, y, sample_weight=sw, batch_size=20, verbose=0)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(got, np.sum(sw * ((pred - y) ** 2)[:, 0]) / 20, rtol=1e-5)

    clf = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="softmax")])
    clf.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    labels = np.array([0, 1] * 10)
    w0 = clf.get_weights()
    clf.fit(x, labels, class_weight={0: 1.0, 1: 3.0}, batch_size=20, shuffle=False, verbose=0)
    via_cw = clf.get_weights()
    clf.set_weights(w0)
    clf.fit(x, labels, sample_weight=np.where(labels == 1, 3.0, 1.0), batch_size=20,
            shuffle=False, verbose=0)
    for a, b in zip(via_cw, clf.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_generators_steps_per_epoch_initial_epoch_and_validation_data():
    x, y = _linear_data(64)

    def gen():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    model = _linear_model()
    model.compile(keras.optimizers.SGD(0.05), "mse")
    hist = model.fit(gen(), steps_per_epoch=4, epochs=5, initial_epoch=2,
                     validation_data=(x, y), verbose=0)
    assert hist.epoch == [2, 3, 4]
    assert len(hist.history["val_loss"]) == 3
    np.testing.assert_allclose(hist.history["val_loss"][-1], model.evaluate(x, y, verbose=0),
                               rtol=1e-5)
    # a finite generator: one epoch = until exhausted
    finite = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 64, 8))
    assert model.evaluate(finite, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-5)
    preds = model.predict((x[i:i + 10] for i in range(0, 64, 10)), verbose=0)
    assert preds.shape == (64, 1)
    # arrays with steps_per_epoch: fewer steps per epoch
    seen = []
    cb = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    model.fit(x, y, batch_size=8, steps_per_epoch=3, epochs=2, callbacks=[cb], verbose=0)
    assert seen == [0, 1, 2, 0, 1, 2]


def test_pydataset_like_sequence():
    x, y = _linear_data(30)

    class Seq:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]

    model = _linear_model()
    model.compile("sgd", "mse")
    hist = model.fit(Seq(), epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2


def test_on_batch_methods():
    x, y = _linear_data(8)
    model = _linear_model()
    model.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"])
    before = model.test_on_batch(x, y)
    assert isinstance(before, list) and len(before) == 2
    model.train_on_batch(x, y)
    after = model.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < before[0]
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray) and out.shape == (8, 1)


def test_custom_metric_class_and_function():
    class RootMeanSquaredError(keras.metrics.Metric):
        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.mse_sum = self.add_variable(name="mse_sum", shape=(), initializer="zeros")
            self.total_samples = self.add_variable(name="total_samples", shape=(),
                                                   initializer="zeros", dtype="int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            mse = tf.reduce_sum(tf.square(y_true - y_pred))
            self.mse_sum.assign_add(mse)
            self.total_samples.assign_add(tf.shape(y_pred)[0])

        def result(self):
            return tf.sqrt(self.mse_sum / tf.cast(self.total_samples, "float32"))

        def reset_state(self):
            self.mse_sum.assign(0.0)
            self.total_samples.assign(0)

    def max_abs_error(y_true, y_pred):
        return tf.reduce_max(tf.abs(y_true - y_pred), axis=-1)

    x, y = _linear_data(40)
    model = _linear_model()
    model.compile("sgd", "mse", metrics=[RootMeanSquaredError(), max_abs_error])
    logs = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(logs["rmse"], np.sqrt(np.mean((pred - y) ** 2)), rtol=1e-5)
    np.testing.assert_allclose(logs["max_abs_error"], np.mean(np.abs(pred - y)), rtol=1e-5)


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_train_step_override_keras3_compute_loss_and_metrics(run_eagerly):
    calls = []

    class CustomModel(keras.Model):
        def train_step(self, data):
            inputs, targets = data
            calls.append(1)
            with tf.GradientTape() as tape:
                predictions = self(inputs, training=True)
                loss = self.compute_loss(y=targets, y_pred=predictions)
            gradients = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(gradients, self.trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(targets, predictions)
            return {m.name: m.result() for m in self.metrics}

    class Linear(CustomModel):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    x, y = _linear_data(64)
    model = Linear()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse",
                  metrics=[keras.metrics.MeanAbsoluteError()], run_eagerly=run_eagerly)
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    if run_eagerly:
        assert len(calls) == 80
    else:  # compiled: the Python body runs while tracing only
        assert 1 <= len(calls) < 80
    assert set(hist.history) == {"loss", "mean_absolute_error"}
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.1


def test_train_step_override_keras2_compiled_loss_and_metrics():
    class Keras2Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    x, y = _linear_data(64)
    model = Keras2Model()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert set(hist.history) == {"loss", "mae"}
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.1
    # evaluate uses the default test_step
    loss, mae = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, np.mean((model.predict(x, verbose=0) - y) ** 2), rtol=1e-4)


def test_train_step_with_own_trackers_keras3_guide_style():
    loss_tracker = keras.metrics.Mean(name="loss")

    class Tracked(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = keras.losses.mean_squared_error(y, y_pred)
                loss = tf.reduce_mean(loss)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [loss_tracker, self.mae_metric]

    x, y = _linear_data(32)
    model = Tracked()
    model.compile(optimizer="adam")
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert set(hist.history) == {"loss", "mae"}
    # metrics are reset each epoch: the epoch value is a mean over that epoch only
    assert hist.history["loss"][2] < hist.history["loss"][0]


def test_custom_training_loop_with_gradient_tape():
    x, y = _linear_data(128)
    model = _linear_model()
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    loss_fn = keras.losses.MeanSquaredError()
    metric = keras.metrics.MeanAbsoluteError()
    for _epoch in range(30):
        metric.reset_state()
        for i in range(0, 128, 32):
            xb, yb = x[i:i + 32], y[i:i + 32]
            with tf.GradientTape() as tape:
                pred = model(xb, training=True)
                loss = loss_fn(yb, pred)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            metric.update_state(yb, pred)
    assert float(metric.result()) < 0.01
    w, b = model.get_weights()
    np.testing.assert_allclose(w[:, 0], [1.0, -2.0, 0.5], atol=0.02)
    np.testing.assert_allclose(b, [0.3], atol=0.02)


def test_add_loss_only_model_vae_style():
    class Penalized(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2, kernel_initializer="zeros")

        def call(self, x):
            out = self.dense(x)
            self.add_loss(tf.reduce_mean(tf.square(out - 1.0)))
            return out

    model = Penalized()
    model.compile(keras.optimizers.SGD(0.1))
    x = RNG.random((32, 3)).astype("float32")
    hist = model.fit(x, epochs=30, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.1


def test_regularization_losses_are_part_of_the_training_loss():
    model = keras.Sequential([keras.Input((3,)),
                              layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.5))])
    model.compile("sgd", "mse")
    x, y = _linear_data(16)
    logs = model.evaluate(x, y, verbose=0, batch_size=16)
    pred = model.predict(x, verbose=0)
    k = model.get_weights()[0]
    np.testing.assert_allclose(logs, np.mean((pred - y) ** 2) + 0.5 * np.sum(k ** 2),
                               rtol=1e-5)


def test_dropout_active_only_in_training():
    model = keras.Sequential([keras.Input((100,)), layers.Dropout(0.5)])
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    out = model(x, training=True).numpy()
    assert 0.2 < (out == 0).mean() < 0.8


def test_evaluate_list_order_loss_then_output_losses_then_metrics():
    model = _ticket_model()
    model.compile("rmsprop", loss=["mse", "categorical_crossentropy"],
                  metrics=[["mae"], ["accuracy"]])
    n = 8
    xs = [RNG.random((n, 10)).astype("float32"), RNG.random((n, 4)).astype("float32")]
    ys = [RNG.random((n, 1)).astype("float32"), np.eye(3, dtype="float32")[np.arange(n) % 3]]
    values = model.evaluate(xs, ys, verbose=0)
    logs = model.evaluate(xs, ys, verbose=0, return_dict=True)
    assert values[:3] == [logs["loss"], logs["priority_loss"], logs["department_loss"]]
    assert sorted(values[3:]) == sorted([logs["priority_mae"], logs["department_accuracy"]])


def test_keras_utils_pydataset_and_single_callback_argument():
    x, y = _linear_data(24)

    class Batches(keras.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.epochs_seen = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

        def on_epoch_end(self):
            self.epochs_seen += 1

    data = Batches(workers=2)
    model = _linear_model()
    model.compile("sgd", "mse")
    hist = model.fit(data, epochs=3, verbose=0, callbacks=keras.callbacks.History())
    assert data.epochs_seen == 3 and len(hist.history["loss"]) == 3
    np.testing.assert_allclose(model.evaluate(data, verbose=0),
                               model.evaluate(x, y, verbose=0), rtol=1e-5)


def test_chapter2_dense_network_on_bundled_digits_reaches_96_percent():
    (train_images, train_labels), (test_images, test_labels) = keras.datasets.digits.load_data()
    train_images = train_images.reshape((len(train_images), -1)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), -1)).astype("float32") / 255
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(train_images, train_labels, epochs=30, batch_size=32, verbose=0)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    assert test_acc >= 0.96
    predictions = model.predict(test_images[:10], verbose=0)
    assert predictions.shape == (10, 10)
    np.testing.assert_allclose(predictions.sum(1), 1.0, rtol=1e-5)


def test_one_shot_generator_runs_out_of_data_with_a_warning():
    x, y = _linear_data(32)
    model = _linear_model()
    model.compile("sgd", "mse")
    gen = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8))
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = model.fit(gen, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 1


def test_fit_evaluate_predict_release_compiled_buffers_and_match_eager():
    x = RNG.standard_normal((200, 64)).astype("float32")
    y = RNG.integers(0, 10, 200)

    def run(run_eagerly):
        keras.utils.set_random_seed(4)
        model = keras.Sequential([keras.Input((64,)), layers.Dense(128, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        model.compile("rmsprop", "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
        pools = []
        seen = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: pools.append(
            len(getattr(model.train_function, "_buffer_pool", {}))))
        losses = []
        for _ in range(2):  # a second fit allocates the released buffers again
            losses += model.fit(x, y, batch_size=64, epochs=1, shuffle=False, callbacks=[seen],
                                validation_data=(x, y), verbose=0).history["loss"]
        assert all(pools) != run_eagerly  # buffers pooled while the graph loop runs
        return model, losses, model.evaluate(x, y, batch_size=64, verbose=0), model.predict(
            x, batch_size=64, verbose=0)

    model, *graph = run(False)
    _, *eager = run(True)
    for g, e in zip(graph, eager):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)
    # the step functions hold no pooled intermediate buffers once their loop has returned
    for fn in (model.train_function, model.test_function, model.predict_function):
        assert isinstance(fn, tf.function(lambda: None).__class__)
        assert fn._buffer_pool == {}


def test_predict_outputs_joined_in_place_or_by_concatenation():
    from ndflow.keras.trainer.trainer import _BatchOutputs

    rng = np.random.default_rng(0)
    batches = [[rng.standard_normal((4, 3)).astype(np.float32), np.arange(4)] for _ in range(3)]
    full = _BatchOutputs(12)
    for b in batches:
        full.add(b)
    assert full.arrays is not None  # written in place
    expected = [np.concatenate([b[i] for b in batches]) for i in range(2)]
    for got, exp in zip(full.joined(), expected):
        np.testing.assert_array_equal(got, exp)
    short = _BatchOutputs(20)  # fewer samples than announced (predict with steps)
    for b in batches:
        short.add(b)
    assert [a.shape for a in short.joined()] == [(12, 3), (12,)]
    odd = _BatchOutputs(12)  # a batch whose trailing shape differs: falls back, same values
    odd.add(batches[0])
    odd.add([np.ones((4, 5), np.float32), np.arange(4)])
    assert odd.arrays is None
    with pytest.raises(ValueError):
        odd.joined()  # (4, 3) and (4, 5) cannot be joined, as with np.concatenate
    scalars = _BatchOutputs(8)
    scalars.add([np.float32(1.0)])
    scalars.add([np.float32(2.0)])
    np.testing.assert_array_equal(scalars.joined()[0], [1.0, 2.0])

"""Callbacks, History and the progress bar."""

import io

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import layers
from ndflow.keras.utils.progbar import Progbar

RNG = np.random.default_rng(2)


def _data(n=64):
    x = RNG.standard_normal((n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-1.0], [2.0]], "float32")).astype("float32")


def _model(lr=0.05):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(lr), "mse")
    return model


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin{epoch}")

    def on_train_batch_end(self, batch, logs=None):
        assert isinstance(logs["loss"], float)
        self.events.append(f"batch{batch}")

    def on_epoch_end(self, epoch, logs=None):
        assert set(logs) == {"loss", "val_loss"}
        self.events.append(f"epoch_end{epoch}")

    def on_train_end(self, logs=None):
        self.events.append("train_end")

    def on_test_begin(self, logs=None):
        self.events.append("test_begin")


def test_hook_order_history_and_params():
    x, y = _data(32)
    model = _model()
    rec = Recorder()
    hist = model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), callbacks=[rec],
                     verbose=0)
    # validation inside fit runs the test hooks before epoch_end, as Keras 3's fit does
    assert rec.events == ["train_begin", "epoch_begin0", "batch0", "batch1", "test_begin",
                          "epoch_end0", "epoch_begin1", "batch0", "batch1", "test_begin",
                          "epoch_end1", "train_end"]
    assert rec.model is model and rec.params["epochs"] == 2 and rec.params["steps"] == 2
    assert model.history is hist and hist.epoch == [0, 1]
    model.evaluate(x, y, callbacks=[rec], verbose=0)
    assert rec.events[-1] == "test_begin"


def test_early_stopping_restores_best_weights():
    x, y = _data()
    model = _model(lr=0.05)
    snapshots = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["loss"], self.model.get_weights()))
            if epoch == 3:  # make things worse from here on
                self.model.optimizer.learning_rate = 5.0

    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    hist = model.fit(x, y, epochs=50, batch_size=64, callbacks=[Snap(), stop], verbose=0)
    n = len(hist.history["loss"])
    assert n < 50 and stop.stopped_epoch == n - 1
    best = int(np.argmin([s[0] for s in snapshots]))
    assert stop.best_epoch == best
    for a, b in zip(model.get_weights(), snapshots[best][1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_mode_auto_and_patience():
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy")
    assert stop.monitor_op is np.greater
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)

    class FakeModel:
        stop_training = False

    stop.set_model(FakeModel())
    stop.on_train_begin()
    for epoch, v in enumerate([1.0, 0.5, 0.6, 0.7]):
        stop.on_epoch_end(epoch, {"val_loss": v})
        if stop.model.stop_training:
            break
    assert epoch == 2 and stop.best == 0.5


def test_reduce_lr_on_plateau_and_scheduler():
    x, y = _data()
    model = _model(lr=0.01)
    seen = []
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.02 if epoch < 2 else 0.005)
    rec = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(float(model.optimizer.learning_rate)))
    hist = model.fit(x, y, epochs=4, callbacks=[sched, rec], verbose=0)
    np.testing.assert_allclose(seen, [0.02, 0.02, 0.005, 0.005], rtol=1e-6)
    np.testing.assert_allclose(hist.history["learning_rate"], seen, rtol=1e-6)

    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                                min_lr=0.001)

    class Fake:
        pass

    fake = Fake()
    fake.optimizer = keras.optimizers.SGD(0.1)
    plateau.set_model(fake)
    plateau.on_train_begin()
    lrs = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 0.1, 0.1]):
        plateau.on_epoch_end(epoch, {"loss": loss})
        lrs.append(float(fake.optimizer.learning_rate))
    np.testing.assert_allclose(lrs, [0.1, 0.05, 0.025, 0.0125, 0.0125, 0.00625], rtol=1e-6)


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(path))])
    rows = path.read_text().strip().splitlines()
    assert rows[0] == "epoch,loss,val_loss" and len(rows) == 4
    assert rows[3].startswith("2,")
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(path), append=True)])
    assert len(path.read_text().strip().splitlines()) == 5


def test_terminate_on_nan():
    x, y = _data()
    model = _model(lr=1e30)
    with np.errstate(all="ignore"):
        hist = model.fit(x * 1e20, y, epochs=5, batch_size=8, verbose=0,
                         callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(hist.history["loss"]) == 1


def test_stop_training_from_callback():
    x, y = _data()
    model = _model()
    cb = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1))
    assert len(model.fit(x, y, epochs=10, verbose=0, callbacks=[cb]).history["loss"]) == 2


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(TypeError, match="unknown hook"):
        keras.callbacks.LambdaCallback(on_epoch_ending=print)


def test_progress_bar_verbose_1_and_2(capsys):
    x, y = _data(64)
    model = _model()
    model.compile(keras.optimizers.SGD(0.01), "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=2)
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 - ") and "/step - " in lines[1]
    assert " - loss: " in lines[1] and " - mae: " in lines[1]
    model.fit(x, y, epochs=1, batch_size=16, verbose=1)  # stdout is not a TTY under pytest
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("4/4") and "\r" not in out
    model.evaluate(x, y, verbose=1)
    assert "loss: " in capsys.readouterr().out
    model.fit(x, y, epochs=1, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_live_redraw_is_throttled(monkeypatch):
    from ndflow.keras.utils import progbar

    class TTY(io.StringIO):
        def isatty(self):
            return True

    now = [5.0]  # an injected clock: 1,000 updates 0.01 s apart, a redraw at most every 1 s
    monkeypatch.setattr(progbar, "clock", lambda: now[0])
    out = TTY()
    bar = Progbar(1000, stream=out, interval=1.0)
    for i in range(1, 1001):
        now[0] += 0.01
        bar.update(i, {"loss": 1.0 / i})
    text = out.getvalue()
    # the first draw, one per second of the 10 s, and the final one (at 10 s it coincides)
    assert text.count("\r") == 11, text.count("\r")
    assert "1000/1000" in text and text.endswith("\n")
    out = TTY()
    bar = Progbar(1000, stream=out, interval=3600)  # throttled: first and final draws only
    for i in range(1, 1001):
        now[0] += 0.01
        bar.update(i, {"loss": 1.0 / i})
    assert out.getvalue().count("\r") == 2
    bar2 = Progbar(None, stream=TTY(), verbose=1, interval=0)
    bar2.update(5, [("loss", 2.0)], finalize=True)
    assert "5 " in bar2.stream.getvalue()

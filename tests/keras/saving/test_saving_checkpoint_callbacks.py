"""ModelCheckpoint and BackupAndRestore inside one process."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ndflow import keras

L = keras.layers


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((5,)), L.Dense(8, activation="relu"),
                              L.Dropout(0.2), L.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse", metrics=["mae"])
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 5)).astype("float32")
    return x, (x[:, :1] * 2 - x[:, 1:2]).astype("float32")


def test_checkpoint_every_epoch_with_template(tmp_path):
    model = _model()
    x, y = _data()
    tpl = str(tmp_path / "ck" / "m-{epoch:02d}-{val_loss:.3f}.keras")
    cb = keras.callbacks.ModelCheckpoint(tpl, monitor="val_loss")
    hist = model.fit(x, y, validation_split=0.25, epochs=3, batch_size=16, verbose=0,
                     callbacks=[cb])
    names = sorted(os.listdir(tmp_path / "ck"))
    want = [f"m-{e + 1:02d}-{v:.3f}.keras" for e, v in enumerate(hist.history["val_loss"])]
    assert names == want
    last = keras.models.load_model(str(tmp_path / "ck" / names[-1]))
    np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_best_only_min_and_max(tmp_path):
    model = _model()
    x, y = _data()
    path = str(tmp_path / "best.weights.h5")
    cb = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True,
                                         save_weights_only=True, mode="min")
    saved = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(os.path.getmtime(path) if os.path.exists(path) else None)

    hist = model.fit(x, y, validation_split=0.25, epochs=4, batch_size=16, verbose=0,
                     callbacks=[cb, Spy()])
    losses = hist.history["val_loss"]
    assert cb.best == pytest.approx(min(losses))
    # loading the best weights reproduces the best val_loss
    fresh = _model()
    fresh.load_weights(path)
    assert cb.mode == "min"
    acc_cb = keras.callbacks.ModelCheckpoint(str(tmp_path / "a.keras"), monitor="val_acc")
    assert acc_cb.mode == "max"
    # a monitor that is never in the logs: warns and saves nothing
    missing = keras.callbacks.ModelCheckpoint(str(tmp_path / "never.keras"), monitor="nope",
                                              save_best_only=True)
    with pytest.warns(UserWarning, match="nope"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[missing])
    assert not os.path.exists(tmp_path / "never.keras")


def test_initial_value_threshold_blocks_saves(tmp_path):
    model = _model()
    x, y = _data()
    path = str(tmp_path / "t.keras")
    cb = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                         initial_value_threshold=-1.0)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert not os.path.exists(path)


def test_save_freq_in_batches(tmp_path):
    model = _model()
    x, y = _data(64)
    tpl = str(tmp_path / "b-{epoch}-{batch}.weights.h5")
    cb = keras.callbacks.ModelCheckpoint(tpl, save_weights_only=True, save_freq=3)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])  # 4 batches per epoch
    # batches seen: 3 -> epoch 1 batch 3; 6 -> epoch 2 batch 2
    assert sorted(os.listdir(tmp_path)) == ["b-1-3.weights.h5", "b-2-2.weights.h5"]


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=".weights.h5"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "x.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match=".keras"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "x.h5"))
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "x.keras"), save_freq="batch")
    model = _model()
    x, y = _data()
    cb = keras.callbacks.ModelCheckpoint(str(tmp_path / "{nope}.keras"))
    with pytest.raises(KeyError, match="nope"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])


class _Crash(keras.callbacks.Callback):
    """Raise after ``at`` training batches (a crash in the middle of an epoch)."""

    def __init__(self, at):
        super().__init__()
        self.at = at
        self.n = 0

    def on_train_batch_end(self, batch, logs=None):
        self.n += 1
        if self.n == self.at:
            raise KeyboardInterrupt("simulated crash")


@pytest.mark.parametrize("save_freq", [2, "epoch"])
def test_backup_and_restore_in_process(tmp_path, save_freq):
    x, y = _data(64)
    ref = _model()
    ref.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=True)
    backup = str(tmp_path / "backup")
    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=True,
                  callbacks=[keras.callbacks.BackupAndRestore(backup, save_freq=save_freq),
                             _Crash(7)])
    assert os.path.exists(os.path.join(backup, "latest.weights.h5"))
    # a new process would build the same model again; here: same seed, fresh objects
    model = _model()
    cb = keras.callbacks.BackupAndRestore(backup, save_freq=save_freq)
    hist = model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=True, callbacks=[cb])
    assert cb.restored_from == ({"epoch": 1, "step": 2} if save_freq == 2 else
                                {"epoch": 1, "step": 0})
    assert len(hist.history["loss"]) == 2
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ref.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not os.path.exists(backup)


def test_backup_double_checkpoint_falls_back(tmp_path):
    x, y = _data(64)
    backup = str(tmp_path / "b")
    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(backup, double_checkpoint=True), _Crash(10)])
    assert os.path.exists(os.path.join(backup, "latest.weights.h5.bkp"))
    with open(os.path.join(backup, "latest.weights.h5"), "wb") as f:
        f.write(b"garbage")
    model = _model()
    cb = keras.callbacks.BackupAndRestore(backup, double_checkpoint=True)
    with pytest.warns(UserWarning, match="previous"):
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[cb])
    assert cb.restored_from == {"epoch": 1, "step": 0}


def test_backup_keep_checkpoint_and_errors(tmp_path):
    x, y = _data(32)
    backup = str(tmp_path / "keep")
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "training_metadata.json"]
    with pytest.raises(ValueError):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore(backup, save_freq=0)
    unbuilt = keras.Sequential([L.Dense(1)])
    unbuilt.compile("sgd", "mse")
    with pytest.raises(ValueError, match="built"):
        unbuilt.fit(x, y, epochs=1, verbose=0,
                    callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "u"))])

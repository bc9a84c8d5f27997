"""Child process for test_saving_crash.py (killed with SIGKILL by the test).

usage: python crash_child_script.py train BACKUP_DIR OUT_NPZ [SAVE_FREQ]
       python crash_child_script.py train_ckpt FOLDER OUT_NPZ
       python crash_child_script.py save_loop PATH
"""

import os
import sys

import numpy as np

from ndflow import keras

L = keras.layers


def model_and_data():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), L.Dense(16, activation="relu"),
                              L.Dropout(0.25), L.BatchNormalization(), L.Dense(3)])
    model.compile(keras.optimizers.Adam(1e-2), "mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 10)).astype("float32")
    y = rng.standard_normal((96, 3)).astype("float32")
    return model, x, y


class Report(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.n = 0

    def on_train_batch_end(self, batch, logs=None):
        self.n += 1
        print(f"batch {self.n}", flush=True)


def train(backup_dir, out, save_freq):
    model, x, y = model_and_data()
    cb = keras.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)
    model.fit(x, y, batch_size=8, epochs=4, shuffle=True, verbose=0, callbacks=[cb, Report()])
    np.savez(out, *model.get_weights(), *[v.numpy() for v in model.optimizer.variables])
    print("done", flush=True)


def train_with_checkpoints(folder, out):
    """BackupAndRestore every batch and a ModelCheckpoint every 5 batches (both atomic)."""
    model, x, y = model_and_data()
    backup = keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"), save_freq=1)
    ckpt = keras.callbacks.ModelCheckpoint(os.path.join(folder, "ckpt.keras"), save_freq=5)
    model.fit(x, y, batch_size=8, epochs=4, shuffle=True, verbose=0,
              callbacks=[backup, ckpt, Report()])
    np.savez(out, *model.get_weights(), *[v.numpy() for v in model.optimizer.variables])
    print("done", flush=True)


def save_loop(path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((256,)), L.Dense(512), L.Dense(512), L.Dense(10)])
    k = 0
    while True:
        k += 1
        for w in model.weights:
            w.assign(np.full(tuple(w.shape), float(k), "float32"))
        print(f"saving {k}", flush=True)
        model.save(path)
        print(f"saved {k}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "train":
        freq = sys.argv[4] if len(sys.argv) > 4 else "3"
        train(sys.argv[2], sys.argv[3], freq if freq == "epoch" else int(freq))
    elif sys.argv[1] == "train_ckpt":
        train_with_checkpoints(sys.argv[2], sys.argv[3])
    else:
        save_loop(sys.argv[2])
    if os.environ.get("CRASH_CHILD_AWAIT_KILL"):
        # a run that finishes before its kill arrives waits for it, so the kill test does not
        # depend on how fast the machine is
        print("finished", flush=True)
        import time

        time.sleep(600)
    os._exit(0)

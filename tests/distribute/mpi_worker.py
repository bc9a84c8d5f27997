"""One worker of the 2-worker MPI tests (run by test_mpi.py under mpirun), and the model, data
and loops the single-process references in the tests share with it.

    python mpi_worker.py train WORKDIR   fit + evaluate + custom loop + collectives
    python mpi_worker.py resume WORKDIR  fit with BackupAndRestore (NDFLOW_TEST_KILL_AT=epoch,step
                                         makes worker 1 kill itself there)

Each worker writes its results to WORKDIR/results/worker<rank>.npz; files ndflow writes go to
WORKDIR/files.
"""

from __future__ import annotations

import os
import signal
import sys

import numpy as np

GLOBAL_BATCH = 12
N = 63  # 5 full batches and one of 3 (split 2 + 1: the workers' shares differ)
EPOCHS = 3


def make_data() -> tuple:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, 8)).astype(np.float32)
    y = (x[:, :3].sum(1) > 0).astype(np.int64) + (x[:, 3] > 0.5)
    return x, y


def make_model(keras):
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def fit(keras, model, x, y, callbacks=(), verbose=0):
    return model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=EPOCHS, shuffle=True,
                     verbose=verbose, callbacks=list(callbacks))


def fit_dataset(tf, keras, strategy, x, y):
    """fit on a dataset of global batches given through experimental_distribute_dataset."""
    with strategy.scope():
        model = make_model(keras)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
    model.fit(strategy.experimental_distribute_dataset(data), epochs=2, verbose=0)
    return [w.numpy() for w in model.weights]


def custom_loop(tf, keras, strategy, x, y, steps: int = 4) -> tuple:
    """The TF guide's custom loop: strategy.run(step) in a tf.function with a GradientTape."""
    with strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
        optimizer = keras.optimizers.SGD(0.1)
    data = tf.data.Dataset.from_tensor_slices((x[:48], y[:48])).batch(GLOBAL_BATCH)
    dist = strategy.experimental_distribute_dataset(data)

    def step_fn(inputs):
        xb, yb = inputs
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            per_example = keras.losses.sparse_categorical_crossentropy(yb, logits,
                                                                       from_logits=True)
            # global batch = this replica's batch x num_replicas_in_sync, as in TF's guide
            loss = tf.nn.compute_average_loss(per_example)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(inputs):
        per_replica = strategy.run(step_fn, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    losses = [float(train_step(batch)) for batch, _ in zip(dist, range(steps))]
    return [v.numpy() for v in model.trainable_variables], losses


def _weights(model) -> list:
    return [v.numpy() for v in model.weights]


def main(mode: str, workdir: str) -> None:
    import ndflow as tf
    from ndflow import keras

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    rank = strategy.cluster_resolver.task_id
    files = os.path.join(workdir, "files")
    out: dict = {"num_replicas": np.array(strategy.num_replicas_in_sync),
                 "threads": np.array(os.environ.get("OPENBLAS_NUM_THREADS", ""))}
    x, y = make_data()
    # different seeds per worker: the weights must still start as worker 0's
    keras.utils.set_random_seed(rank)
    if mode == "train":
        with strategy.scope():
            model = make_model(keras)
        keras.utils.set_random_seed(0)
        cbs = [keras.callbacks.ModelCheckpoint(os.path.join(files, "ckpt.weights.h5"),
                                               save_weights_only=True, monitor="loss"),
               keras.callbacks.CSVLogger(os.path.join(files, "log.csv"))]
        h = fit(keras, model, x, y, cbs, verbose=2)  # one log line per epoch, worker 0's
        model.save(os.path.join(files, "model.keras"))
        for k, v in h.history.items():
            out["history_" + k] = np.array(v)
        for i, w in enumerate(_weights(model)):
            out[f"w{i}"] = w
        ev = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
        out["eval_loss"], out["eval_accuracy"] = ev["loss"], ev["accuracy"]
        keras.utils.set_random_seed(0)
        for i, w in enumerate(fit_dataset(tf, keras, strategy, x, y)):
            out[f"ds_w{i}"] = w
        cw, losses = custom_loop(tf, keras, strategy, x, y)
        out["loop_losses"] = np.array(losses)
        for i, w in enumerate(cw):
            out[f"loop_w{i}"] = w
        # the collectives on their own
        out["allreduce"] = tf.distribute.allreduce(tf.constant([1.0, 2.0]) * (rank + 1)).numpy()
        out["allreduce_mean"] = tf.distribute.allreduce(tf.constant(float(rank)),
                                                        "mean").numpy()
        out["broadcast"] = tf.distribute.broadcast(tf.constant([rank + 5])).numpy()
        out["allgather"] = tf.distribute.allgather(tf.fill([rank + 1, 2], rank)).numpy()
        traced = tf.function(lambda v: tf.distribute.allreduce(v * 2.0) + 1.0)
        out["traced_allreduce"] = traced(tf.constant([float(rank), 1.0])).numpy()
    elif mode == "resume":
        with strategy.scope():
            model = make_model(keras)
        keras.utils.set_random_seed(0)
        kill_at = os.environ.get("NDFLOW_TEST_KILL_AT")
        backup = keras.callbacks.BackupAndRestore(os.path.join(files, "backup"), save_freq=2)
        cbs: list = [backup]
        if kill_at and rank == 1:
            e_kill, s_kill = (int(v) for v in kill_at.split(","))

            class Kill(keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.epoch = epoch

                def on_train_batch_begin(self, batch, logs=None):
                    if (self.epoch, batch) == (e_kill, s_kill):
                        os.kill(os.getpid(), signal.SIGKILL)

            cbs.append(Kill())
        fit(keras, model, x, y, cbs)
        restored = backup.restored_from or {"epoch": -1, "step": -1}
        out["restored"] = np.array([restored["epoch"], restored["step"]])
        for i, w in enumerate(_weights(model)):
            out[f"w{i}"] = w
    results = os.path.join(workdir, "results")
    os.makedirs(results, exist_ok=True)
    np.savez(os.path.join(results, f"worker{rank}.npz"), **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""tf.train.Checkpoint / CheckpointManager / latest_checkpoint: a custom training loop resumed
from a checkpoint continues exactly as if uninterrupted (model, optimizer state, step), the
manager keeps the newest files and finds them again, restore reports what it matched, and
writes are atomic."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras

X = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
Y = X.sum(1, keepdims=True)


def _model_and_optimizer():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    return model, keras.optimizers.Adam(1e-2)


def _step(model, opt):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(X) - Y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss)


def test_a_restored_training_loop_continues_bitwise_as_if_uninterrupted(tmp_path):
    model, opt = _model_and_optimizer()
    step = tf.Variable(0)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model, optimizer=opt, step=step), tmp_path, max_to_keep=3)
    for _ in range(3):
        _step(model, opt)
        step.assign_add(1)
    path = manager.save()
    assert path == os.path.join(tmp_path, "ckpt-1") and tf.train.latest_checkpoint(tmp_path) == path
    uninterrupted = [_step(model, opt) for _ in range(3)]

    model2, opt2 = _model_and_optimizer()  # a fresh process's objects: optimizer not built
    step2 = tf.Variable(0)
    ckpt2 = tf.train.Checkpoint(model=model2, optimizer=opt2, step=step2)
    ckpt2.restore(tf.train.latest_checkpoint(tmp_path)).assert_consumed()
    assert int(step2) == 3 and int(opt2.iterations) == 3
    assert [_step(model2, opt2) for _ in range(3)] == uninterrupted


def test_manager_keeps_the_newest_and_a_new_manager_finds_them(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0]), items={"a": tf.Variable(1)},
                               seq=[tf.Variable(0.5)])
    manager = tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=2, checkpoint_name="run")
    paths = [manager.save() for _ in range(4)]
    assert [os.path.basename(p) for p in manager.checkpoints] == ["run-3", "run-4"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "run-3.ckpt.h5", "run-4.ckpt.h5"]
    assert manager.save(checkpoint_number=100).endswith("run-100")
    again = tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=2, checkpoint_name="run")
    assert again.latest_checkpoint == manager.latest_checkpoint == paths[-1][:-1] + "100"
    assert [os.path.basename(p) for p in again.checkpoints] == ["run-4", "run-100"]
    ckpt.v.assign([0.0, 0.0])
    ckpt.items["a"].assign(7)
    assert again.restore_or_initialize() == again.latest_checkpoint
    assert ckpt.v.numpy().tolist() == [1.0, 2.0] and int(ckpt.items["a"]) == 1


def test_manager_interval_and_initialization(tmp_path):
    step = tf.Variable(0)
    calls = []
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), tmp_path, None,
                                         step_counter=step, checkpoint_interval=5,
                                         init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    saved = []
    for _ in range(12):
        saved.append(manager.save() is not None)
        step.assign_add(1)
    assert saved == [True] + [False] * 4 + [True] + [False] * 4 + [True, False]
    assert tf.train.latest_checkpoint(tmp_path / "elsewhere") is None


def test_restore_reports_what_did_not_match(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(1.0), b=tf.Variable(2.0)).save(tmp_path / "c")
    status = tf.train.Checkpoint(a=tf.Variable(0.0)).restore(path)
    with pytest.raises(AssertionError, match="no object took"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    status = tf.train.Checkpoint(a=tf.Variable(0.0), c=tf.Variable(0.0)).restore(path)
    with pytest.raises(AssertionError, match="not found.*c"):
        status.assert_existing_objects_matched()
    status.expect_partial()
    with pytest.raises(AssertionError, match="No checkpoint"):
        tf.train.Checkpoint(a=tf.Variable(0.0)).restore(None).assert_consumed()
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        tf.train.Checkpoint(a=tf.Variable(0.0)).restore(tmp_path / "nothing")


def test_bad_objects_shapes_and_unbuilt_models_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="'x' must be a Variable"):
        tf.train.Checkpoint(x=np.zeros(3))
    path = tf.train.Checkpoint(a=tf.Variable([1.0, 2.0])).save(tmp_path / "c")
    with pytest.raises(ValueError, match="expects shape"):
        tf.train.Checkpoint(a=tf.Variable([1.0, 2.0, 3.0])).restore(path)
    saved_model, _ = _model_and_optimizer()
    path = tf.train.Checkpoint(model=saved_model).save(tmp_path / "m")
    unbuilt = keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="not built"):
        tf.train.Checkpoint(model=unbuilt).restore(path)


def test_a_failed_restore_assigns_nothing(tmp_path):
    """A checkpoint that fails validation part-way leaves every object as it was, the Keras
    models read before the failing entry included (no half-restored state)."""
    saved_model, _ = _model_and_optimizer()
    path = tf.train.Checkpoint(a_model=saved_model, z=tf.Variable([1.0, 2.0])).save(
        tmp_path / "c")
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    before = [w.copy() for w in model.get_weights()]
    assert not all(np.array_equal(a, b) for a, b in zip(before, saved_model.get_weights()))
    z = tf.Variable([0.0, 0.0, 0.0])  # the wrong shape: restore must fail on it
    with pytest.raises(ValueError, match="expects shape"):
        tf.train.Checkpoint(a_model=model, z=z).restore(path)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    assert z.numpy().tolist() == [0.0, 0.0, 0.0]
    tf.train.Checkpoint(a_model=model).restore(path).expect_partial()
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(),
                                                     saved_model.get_weights()))


def test_a_failed_write_leaves_the_previous_checkpoint_in_place(tmp_path, monkeypatch):
    import h5py

    v = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(v=v)
    prefix = ckpt.write(tmp_path / "c")
    before = (tmp_path / "c.ckpt.h5").read_bytes()
    v.assign([5.0, 6.0])

    class Broken(h5py.File):
        def require_group(self, name):
            raise OSError("disk full")

    monkeypatch.setattr(h5py, "File", Broken)
    with pytest.raises(OSError, match="disk full"):
        ckpt.write(prefix)
    monkeypatch.undo()
    assert (tmp_path / "c.ckpt.h5").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.ckpt.h5"]  # no temporary file left behind
    ckpt.restore(prefix).assert_consumed()
    assert v.numpy().tolist() == [1.0, 2.0]

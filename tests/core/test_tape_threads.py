"""GradientTape recording is per thread (as in TensorFlow): a tape sees only the ops of the
thread that opened it, so input-pipeline workers never land on the training step's tape."""

from __future__ import annotations

import threading

import numpy as np

import ndflow as tf
from ndflow.core import dispatch


def _in_thread(fn):
    out, err = [], []

    def run():
        try:
            out.append(fn())
        except BaseException as e:  # surfaced in the test thread
            err.append(e)

    th = threading.Thread(target=run)
    th.start()
    th.join()
    if err:
        raise err[0]
    return out[0]


def test_a_tape_does_not_record_ops_of_another_thread():
    x = tf.constant([1.0, 2.0, 3.0])
    w = tf.Variable([0.5, 0.5, 0.5])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        worker_y = _in_thread(lambda: tf.reduce_sum(x * w))  # a pipeline worker's op
        main_y = tf.reduce_sum(x * x)
    recorded = [n.op.name for n in tape._nodes]
    assert recorded == ["multiply", "reduce_sum"]  # only the main thread's two ops
    assert tape.gradient(worker_y, [x, w]) == [None, None]
    np.testing.assert_allclose(tape.gradient(main_y, x).numpy(), [2.0, 4.0, 6.0])


def test_a_tape_in_a_worker_thread_while_the_main_thread_records():
    opened, done = threading.Event(), threading.Event()
    x = tf.constant([1.0, -2.0])

    def worker():
        with tf.GradientTape() as tape:
            tape.watch(x)
            opened.set()
            done.wait()  # the main thread runs its ops while this tape records
            y = tf.reduce_sum(x * x * x)
        return [n.op.name for n in tape._nodes], tape.gradient(y, x).numpy()

    result = []
    th = threading.Thread(target=lambda: result.append(worker()))
    with tf.GradientTape() as tape:
        tape.watch(x)
        th.start()
        opened.wait()
        y = tf.reduce_sum(tf.sin(x))
        done.set()
        th.join()
    assert [n.op.name for n in tape._nodes] == ["sin", "reduce_sum"]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.cos([1.0, -2.0]), rtol=1e-6)
    names, g = result[0]
    assert names == ["multiply", "multiply", "reduce_sum"]
    np.testing.assert_allclose(g, [3.0, 12.0])


def test_nested_tapes_in_a_worker_give_second_order():
    def second_derivative():
        x = tf.constant(2.0)
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = x * x * x
            dy = inner.gradient(y, x)
        return float(dy), float(outer.gradient(dy, x))

    assert _in_thread(second_derivative) == (12.0, 12.0)


def test_recording_count_returns_to_zero():
    before = dispatch.recording

    def worker_tape():
        with tf.GradientTape():
            return dispatch.recording

    try:
        with tf.GradientTape():
            assert _in_thread(worker_tape) == before + 2  # both threads' tapes count
            raise KeyError("leave the block by an exception")
    except KeyError:
        pass
    assert dispatch.recording == before
    assert dispatch.current_tapes() == []


def test_paused_tapes_record_nothing_and_come_back():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        with dispatch.tapes_paused():
            assert dispatch.current_tapes() == []
            _ = x * x
        y = x + x
    assert [n.op.name for n in tape._nodes] == ["add"]
    assert float(tape.gradient(y, x)) == 2.0

"""Parallel map, prefetch, AUTOTUNE, abandoning iterators, worker errors.

Ordering is forced with events and barriers (never with sleeps): every wait has a generous
timeout so that a broken implementation fails instead of hanging.
"""

import os
import threading
import time

import numpy as np
import pytest

import ndflow as tf
from ndflow.data.parallel import AUTOTUNE, prefetch_iter

T = 20.0  # seconds: only reached when the code under test is broken


def _until(pred, what):
    end = time.monotonic() + T
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.001)


def _data_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ndflow.data")]


@pytest.fixture(autouse=True)
def no_leaked_threads():
    yield
    _until(lambda: not _data_threads(), "pipeline threads to end")


def test_parallel_map_runs_calls_concurrently():
    barrier = threading.Barrier(4, timeout=T)

    def f(x):
        if x < 4:
            barrier.wait()  # passes only if 4 calls are in flight at once
        return x * 10

    ds = tf.data.Dataset.range(8).map(f, num_parallel_calls=4)
    assert [int(v) for v in ds] == [0, 10, 20, 30, 40, 50, 60, 70]


def test_autotune_map_grows_until_the_work_can_proceed():
    barrier = threading.Barrier(5, timeout=T)

    def f(x):
        if x < 5:
            barrier.wait()
        return x

    ds = tf.data.Dataset.range(12).map(f, num_parallel_calls=tf.data.AUTOTUNE)
    assert [int(v) for v in ds] == list(range(12))


def test_deterministic_order_despite_a_late_first_element():
    started3 = threading.Event()

    def f(x):
        if x == 3:
            started3.set()
        if x == 0:
            assert started3.wait(T)  # element 0 finishes only after element 3 started
        return x

    ds = tf.data.Dataset.range(10).map(f, num_parallel_calls=4, deterministic=True)
    assert [int(v) for v in ds] == list(range(10))


@pytest.mark.parametrize("how", ["argument", "options"])
def test_nondeterministic_map_lets_finished_elements_pass(how):
    release0 = threading.Event()

    def f(x):
        if x == 0:
            assert release0.wait(T)
        return x

    ds = tf.data.Dataset.range(10)
    if how == "argument":
        ds = ds.map(f, num_parallel_calls=4, deterministic=False)
    else:
        ds = ds.map(f, num_parallel_calls=4)
        opts = tf.data.Options()
        opts.deterministic = False
        ds = ds.with_options(opts)
    out = []
    for v in ds:
        out.append(int(v))
        if out[-1] == 3:
            release0.set()  # 0 can only finish after 1, 2, 3 were consumed
    assert sorted(out) == list(range(10))
    assert out.index(3) < out.index(0)


def test_prefetch_produces_ahead_into_a_bounded_buffer():
    produced = []

    def gen():
        for i in range(100):
            produced.append(i)
            yield i

    ds = tf.data.Dataset.from_generator(gen, output_types=tf.int64).prefetch(3)
    it = iter(ds)
    assert int(next(it)) == 0
    # 1 consumed + 3 buffered + 1 held by the producer waiting for room
    _until(lambda: len(produced) == 5, "the producer to fill the buffer")
    time.sleep(0.05)  # a runaway producer would go on; a bounded one stays at 5
    assert len(produced) == 5
    assert [int(next(it)) for _ in range(4)] == [1, 2, 3, 4]
    it.close()


def test_prefetch_autotune_grows_the_buffer_each_time_the_consumer_waits():
    gate = threading.Semaphore(0)
    starved = 6

    def upstream():
        for i in range(60):
            if i < starved:
                assert gate.acquire(timeout=T)
            yield i

    seen = []
    it = prefetch_iter(upstream, AUTOTUNE, observe=seen.append)

    def releaser():
        _until(lambda: seen, "the first next() to start the producer")
        buf = seen[0].buffer
        for k in range(1, starved + 1):
            _until(lambda k=k: buf.waits >= k and buf.waiting, "the consumer to wait")
            gate.release()

    th = threading.Thread(target=releaser)
    th.start()
    assert [next(it) for _ in range(starved)] == list(range(starved))
    th.join(T)
    buf = seen[0].buffer
    assert buf.capacity == 1 + starved
    _until(lambda: len(buf._q) == buf.capacity, "the producer to fill the grown buffer")
    assert list(it) == list(range(starved, 60))


def test_autotune_disabled_keeps_the_prefetch_buffer_at_one():
    produced = []

    def gen():
        for i in range(50):
            produced.append(i)
            yield i

    opts = tf.data.Options()
    opts.autotune.enabled = False
    ds = tf.data.Dataset.from_generator(gen, output_types=tf.int64).prefetch(
        tf.data.AUTOTUNE).with_options(opts)
    it = iter(ds)
    assert int(next(it)) == 0
    _until(lambda: len(produced) == 3, "the producer to fill its one slot")
    time.sleep(0.05)  # an autotuned or unbounded buffer would keep producing
    assert len(produced) == 3  # 1 consumed + 1 buffered + 1 held by the blocked producer
    it.close()


def test_abandoned_iterators_stop_threads_and_close_sources():
    closed = threading.Event()

    def gen():
        try:
            yield from range(10**6)
        finally:
            closed.set()

    ds = (tf.data.Dataset.from_generator(gen, output_types=tf.int64)
          .map(lambda x: x + 1, num_parallel_calls=3).prefetch(4))
    for v in ds:
        if int(v) == 5:
            break  # the iterator is dropped here
    assert closed.is_set()
    assert not _data_threads()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count open files")
def test_abandoned_file_readers_close_their_files(tmp_path):
    paths = []
    for k in range(3):
        p = tmp_path / f"f{k}.txt"
        p.write_text("".join(f"{k}-{i}\n" for i in range(1000)))
        paths.append(str(p))

    def open_count():
        n = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                n += os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path))
            except OSError:
                pass
        return n

    ds = tf.data.TextLineDataset(paths, num_parallel_reads=3).prefetch(2)
    it = ds.as_numpy_iterator()
    first = [next(it) for _ in range(6)]
    assert first == [b"0-0", b"1-0", b"2-0", b"0-1", b"1-1", b"2-1"]
    assert open_count() == 3
    it.close()
    assert open_count() == 0


def test_worker_error_surfaces_in_the_consumer_naming_the_stage():
    def bad(x):
        if int(x) == 3:
            raise ValueError("element three is bad")
        return x

    for n in (None, 2, tf.data.AUTOTUNE):
        ds = tf.data.Dataset.range(6).map(bad, num_parallel_calls=n).prefetch(2)
        got = []
        with pytest.raises(ValueError, match=r"Dataset\.map\(bad\).*element three is bad"):
            for v in ds:
                got.append(int(v))
        assert got == [0, 1, 2]


def test_ignore_errors_drops_failing_elements_in_parallel_and_sequential_maps():
    def bad(x):
        if int(x) % 3 == 0:
            raise ValueError("multiple of three")
        return x

    for n in (None, 3):
        ds = tf.data.Dataset.range(10).map(bad, num_parallel_calls=n).ignore_errors()
        assert [int(v) for v in ds] == [1, 2, 4, 5, 7, 8]
        assert int(ds.cardinality()) == tf.data.experimental.UNKNOWN_CARDINALITY


def test_generator_error_names_the_stage_through_prefetch():
    def gen():
        yield np.zeros(2)
        yield np.zeros(3)

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([2], tf.float32)).prefetch(1)
    with pytest.raises(ValueError, match=r"from_generator: element 1.*expected shape \(2,\), "
                                         r"got \(3,\)"):
        list(ds)


def test_private_threadpool_size_caps_autotune_threads():
    active, peak, lock = [0], [0], threading.Lock()
    go = threading.Event()

    def f(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        go.wait(0.01)
        with lock:
            active[0] -= 1
        return x

    opts = tf.data.Options()
    opts.threading.private_threadpool_size = 2
    ds = tf.data.Dataset.range(30).map(f, num_parallel_calls=tf.data.AUTOTUNE).with_options(opts)
    assert [int(v) for v in ds] == list(range(30))
    assert peak[0] <= 2


def test_map_in_processes_for_gil_bound_work():
    # each iteration starts its own worker processes: one worker keeps the test quick
    ds = tf.data.Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 10)).apply(
        tf.data.experimental.map_in_processes(np.add, 1))
    assert [int(v) for v in ds] == [0, 11, 22, 33, 44, 55]
    mats = tf.data.Dataset.from_tensor_slices(np.array([[[4.0]], [[-1.0]], [[9.0]]])).apply(
        tf.data.experimental.map_in_processes(np.linalg.cholesky, 1))
    with pytest.raises(Exception, match=r"map_in_processes\(cholesky\)"):
        list(mats)
    assert [float(np.asarray(v).ravel()[0]) for v in mats.ignore_errors()] == [2.0, 3.0]


def test_pipeline_threads_run_ops_eagerly_while_the_main_thread_traces():
    # fit traces its train step while prefetch/map threads already run ndflow ops
    in_trace, worker_done = threading.Event(), threading.Event()

    def map_fn(x):
        assert in_trace.wait(T)
        y = tf.cast(x, tf.float32) * 2.0 + tf.zeros_like(tf.random.uniform([]))
        worker_done.set()
        return y

    out = []
    ds = tf.data.Dataset.range(1, 2).map(map_fn, num_parallel_calls=2).prefetch(1)
    th = threading.Thread(target=lambda: out.extend(float(v) for v in ds))
    th.start()

    @tf.function
    def f(v):
        in_trace.set()
        assert worker_done.wait(T), "the pipeline's ops failed while this thread traced"
        return v * 3.0 + tf.random.uniform([]) * 0.0

    assert float(f(tf.constant(1.0))) == 3.0
    th.join(T)
    assert out == [2.0]
    assert float(f(tf.constant(2.0))) == 6.0 and f.experimental_get_tracing_count() == 1


def test_parallel_batch_stacks_several_batches_at_once_in_order(monkeypatch):
    import ndflow.data.dataset as dataset_mod

    barrier = threading.Barrier(3, timeout=T)
    calls = {"n": 0}
    lock = threading.Lock()
    real = dataset_mod.stack

    def stack(chunk, stage):
        with lock:
            calls["n"] += 1
            first = calls["n"] <= 3
        if first:
            barrier.wait()  # only passes when three batches are being stacked together
        return real(chunk, stage)

    monkeypatch.setattr(dataset_mod, "stack", stack)
    ds = tf.data.Dataset.range(10).batch(3, num_parallel_calls=3)
    assert [b.tolist() for b in ds.as_numpy_iterator()] == [[0, 1, 2], [3, 4, 5], [6, 7, 8],
                                                            [9]]


@pytest.mark.parametrize("kwargs", [{"num_parallel_calls": 4},
                                    {"num_parallel_calls": AUTOTUNE},
                                    {"num_parallel_calls": 2, "drop_remainder": True},
                                    {"num_parallel_calls": 3, "deterministic": False}])
def test_parallel_batch_gives_the_sequential_batches(kwargs):
    x = np.arange(46 * 3, dtype="float32").reshape(46, 3)
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(46)))
    drop = kwargs.get("drop_remainder", False)
    want = [(a.tolist(), b.tolist()) for a, b in ds.batch(5, drop).as_numpy_iterator()]
    got = [(a.tolist(), b.tolist()) for a, b in ds.batch(5, **kwargs).as_numpy_iterator()]
    if kwargs.get("deterministic") is False:
        got, want = sorted(got, key=lambda p: p[1]), sorted(want, key=lambda p: p[1])
    assert got == want
    assert ds.batch(5, **kwargs).cardinality() == ds.batch(5, drop).cardinality()


def test_parallel_batch_errors_name_the_stage():
    ds = tf.data.Dataset.from_generator(lambda: (np.zeros(i % 3 + 1) for i in range(9)),
                                        output_signature=tf.TensorSpec([None], tf.float64))
    with pytest.raises(ValueError, match="Dataset.batch"):
        list(ds.batch(3, num_parallel_calls=2))
    with pytest.raises(ValueError, match="num_parallel_calls"):
        tf.data.Dataset.range(3).batch(2, num_parallel_calls=0)
    it = iter(tf.data.Dataset.range(100).batch(2, num_parallel_calls=4))
    next(it)
    del it  # abandoned: the autouse fixture checks that the pool's threads end


def test_parallel_interleave_reads_the_next_cycle_ahead():
    started = [threading.Event() for _ in range(6)]

    def source(i):
        def gen():
            started[i].set()
            yield from (10 * i + k for k in range(3))
        return tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec([], tf.int64))

    ds = tf.data.Dataset.range(6).interleave(lambda i: source(int(i)), cycle_length=2,
                                             num_parallel_calls=2)
    it = ds.as_numpy_iterator()
    assert [next(it), next(it)] == [0, 10]  # inputs 0 and 1 fill the cycle
    # inputs 2 and 3 refill the slots only after 0 and 1 run dry, yet they are already read
    for i in (2, 3):
        assert started[i].wait(T), f"input {i} was not read ahead"
    rest = list(it)
    seq = list(tf.data.Dataset.range(6).interleave(lambda i: source(int(i)), cycle_length=2)
               .as_numpy_iterator())
    assert [0, 10] + rest == seq  # same order as the sequential interleave


def test_parallel_interleave_read_ahead_error_waits_for_its_turn():
    def make(i):
        if int(i) == 3:
            raise RuntimeError("input 3 is broken")
        return tf.data.Dataset.range(2).map(lambda x: x + 10 * i)

    ds = tf.data.Dataset.range(5).interleave(make, cycle_length=2, num_parallel_calls=2)
    got = []
    with pytest.raises(Exception, match="input 3 is broken"):
        for x in ds.as_numpy_iterator():
            got.append(int(x))
    assert got == [0, 10, 1, 11, 20]  # everything before input 3's turn came out

"""ndflow.distribute in one process: strategies, contexts, input splitting, cluster resolvers,
worker threads, the bucketed all-reduce (on a stand-in communicator) and a 1-worker MPI job."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.distribute import _context
from ndflow.distribute.cluster_resolver import SlurmClusterResolver
from ndflow.distribute.collectives import BucketedAllReduce
from ndflow.distribute.input_lib import shard_batch, shard_bounds
from ndflow.distribute.threads import (
    THREAD_VARIABLES, local_size_from_env, set_thread_env, worker_threads,
)

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def test_one_device_strategy_scope_run_reduce():
    s = tf.distribute.OneDeviceStrategy("/cpu:0")
    assert s.num_replicas_in_sync == 1
    assert tf.distribute.get_replica_context().num_replicas_in_sync == 1  # the default
    assert not tf.distribute.has_strategy()
    with s.scope() as entered:
        assert entered is s and tf.distribute.get_strategy() is s
        assert tf.distribute.in_cross_replica_context()
        assert tf.distribute.get_replica_context() is None
        v = tf.Variable([1.0, 2.0])

    def step(a):
        ctx = tf.distribute.get_replica_context()
        assert ctx.replica_id_in_sync_group == 0 and not tf.distribute.in_cross_replica_context()
        return v * a

    out = s.run(step, args=(tf.constant([[1.0, 2.0], [3.0, 4.0]]),))
    np.testing.assert_array_equal(out.numpy(), [[1.0, 4.0], [3.0, 8.0]])
    np.testing.assert_array_equal(s.reduce("sum", out, axis=0).numpy(), [4.0, 12.0])
    np.testing.assert_array_equal(s.reduce(tf.distribute.ReduceOp.MEAN, out, axis=0).numpy(),
                                  [2.0, 6.0])
    assert s.reduce("sum", out, axis=None) is out
    assert s.experimental_local_results(out) == (out,)
    assert tf.distribute.get_strategy() is not s
    with pytest.raises(ValueError, match="reduce op"):
        s.reduce("max", out)
    with pytest.raises(TypeError, match="callable"):
        s.run(3)


def test_compute_average_loss_divides_by_the_global_batch():
    per_example = np.array([1.0, 2.0, 4.0, 8.0], np.float32)
    got = tf.nn.compute_average_loss(per_example, sample_weight=[1.0, 0.5, 0.0, 1.0],
                                     global_batch_size=8)
    np.testing.assert_allclose(float(got), (1 + 1 + 8) / 8)
    s = tf.distribute.OneDeviceStrategy("/cpu:0")
    got = s.run(lambda: tf.nn.compute_average_loss(per_example))  # 4 x 1 replica
    np.testing.assert_allclose(float(got), 15 / 4)
    np.testing.assert_allclose(float(tf.nn.scale_regularization_loss([1.0, 2.0])), 3.0)
    with pytest.raises(ValueError, match="global_batch_size"):
        tf.nn.compute_average_loss(per_example, global_batch_size=0)


def test_mirrored_strategy_is_one_replica_per_process():
    s = tf.distribute.MirroredStrategy()
    assert s.num_replicas_in_sync == 1
    with pytest.raises(ValueError, match="one process per device"):
        tf.distribute.MirroredStrategy(["/gpu:0", "/gpu:1"])


def test_datasets_keep_batches_with_one_replica():
    s = tf.distribute.OneDeviceStrategy("/cpu:0")
    x = np.arange(10, dtype=np.float32)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4)
    got = [b.numpy().tolist() for b in s.experimental_distribute_dataset(ds)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    seen = []

    def fn(ctx):
        seen.append(ctx)
        return ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)

    dist = s.distribute_datasets_from_function(fn)
    assert [b.numpy().tolist() for b in dist] == got
    assert (seen[0].num_input_pipelines, seen[0].input_pipeline_id,
            seen[0].num_replicas_in_sync) == (1, 0, 1)


@pytest.mark.parametrize("n,k", [(0, 2), (7, 3), (9, 3), (2, 4)])
def test_dataset_shard_is_every_kth_element(n, k):
    for i in range(k):
        d = tf.data.Dataset.range(n).shard(k, i)
        assert [int(v) for v in d] == list(range(i, n, k)) and len(d) == len(range(i, n, k))
    with pytest.raises(ValueError, match="index"):
        tf.data.Dataset.range(3).shard(2, 2)


def test_input_context_batch_size():
    ctx = tf.distribute.InputContext(4, 1, 4)
    assert ctx.get_per_replica_batch_size(64) == 16
    with pytest.raises(ValueError, match="not divisible"):
        ctx.get_per_replica_batch_size(10)


@pytest.mark.parametrize("n,size", [(12, 2), (3, 2), (7, 3), (5, 8), (0, 2)])
def test_shards_cover_each_row_once(n, size):
    bounds = [shard_bounds(n, r, size) for r in range(size)]
    rows = [i for lo, hi in bounds for i in range(lo, hi)]
    assert rows == list(range(n))  # contiguous, in order, each row once
    assert max(hi - lo for lo, hi in bounds) - min(hi - lo for lo, hi in bounds) <= 1


def test_shard_batch_splits_every_array_of_a_batch():
    x = {"a": tf.constant(np.arange(10).reshape(5, 2)), "b": np.arange(5)}
    local, rows, total = shard_batch((x, tf.constant([1, 2, 3, 4, 5])), rank=1, size=2)
    assert (rows, total) == (2, 5)
    assert local[0]["a"].numpy().tolist() == [[6, 7], [8, 9]]
    assert local[0]["b"].tolist() == [3, 4] and local[1].numpy().tolist() == [4, 5]


def test_slurm_cluster_resolver():
    env = {"SLURM_PROCID": "5", "SLURM_NTASKS": "7", "SLURM_LOCALID": "0", "SLURM_NODEID": "2",
           "SLURM_STEP_TASKS_PER_NODE": "2(x2),3"}
    r = SlurmClusterResolver(env)
    assert (r.task_type, r.task_id, r.num_workers, r.local_rank, r.local_size) == (
        "worker", 5, 7, 0, 3)
    with pytest.raises(ValueError, match="SLURM_PROCID"):
        SlurmClusterResolver({})
    with pytest.raises(ValueError, match="outside"):
        SlurmClusterResolver({"SLURM_PROCID": "4", "SLURM_NTASKS": "4"})
    with pytest.raises(ValueError, match="tasks-per-node"):
        SlurmClusterResolver(dict(env, SLURM_STEP_TASKS_PER_NODE="two"))


def test_worker_thread_share():
    assert worker_threads(16, 4) == 4 and worker_threads(2, 4) == 1
    assert local_size_from_env({"OMPI_COMM_WORLD_LOCAL_SIZE": "3"}) == 3
    assert local_size_from_env({"MPI_LOCALNRANKS": "2"}) == 2
    assert local_size_from_env({"SLURM_PROCID": "0", "SLURM_NTASKS": "4",
                                "SLURM_TASKS_PER_NODE": "4"}) == 4
    assert local_size_from_env({}) == 1
    env = {"OMP_NUM_THREADS": "7"}
    n = set_thread_env(env)
    assert env["OMP_NUM_THREADS"] == "7"  # what the user set is kept
    assert all(env[k] == str(n) for k in THREAD_VARIABLES if k != "OMP_NUM_THREADS")
    set_thread_env(env, threads=2)
    assert all(env[k] == "2" for k in THREAD_VARIABLES)


def test_launcher_sets_threads_before_the_script_starts(tmp_path):
    script = tmp_path / "show.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        print(os.environ["OPENBLAS_NUM_THREADS"], os.environ["OMP_NUM_THREADS"], sys.argv[1:],
              "numpy" in sys.modules)
    """))
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.update(PYTHONPATH=SRC, OMPI_COMM_WORLD_LOCAL_SIZE="1")
    out = subprocess.run([sys.executable, "-m", "ndflow.distribute", "--threads", "3",
                          str(script), "a", "b"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "3", "['a',", "'b']", "False"]
    bad = subprocess.run([sys.executable, "-m", "ndflow.distribute", "--threads", "x"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "positive integer" in bad.stderr


class _TwoIdenticalWorkers:
    """Stands in for a communicator of two workers holding the same arrays: a sum doubles."""

    size = 2

    def __init__(self):
        self.messages = []

    def allreduce_(self, buf, op="sum"):
        self.messages.append(buf.size)
        buf *= 2
        return buf


def test_bucketed_allreduce_fuses_small_tensors():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s).astype(np.float32) for s in [(3, 4), (4,), (100,), (2, 2)]]
    grads.insert(2, np.arange(5, dtype=np.float64))
    comm = _TwoIdenticalWorkers()
    fused = BucketedAllReduce(comm, bucket_bytes=1 << 20)
    out = fused(grads, scale=0.25)
    for g, o in zip(grads, out):
        assert o.shape == g.shape and o.dtype == g.dtype
        np.testing.assert_allclose(o, g * 0.5, rtol=1e-6)
    assert comm.messages == [12 + 4 + 100 + 4, 5]  # one buffer per dtype
    comm.messages.clear()
    small = BucketedAllReduce(comm, bucket_bytes=64)  # 16 floats a bucket
    small(grads)
    assert comm.messages == [12 + 4, 5, 100, 4]  # a big tensor goes alone
    comm.messages.clear()
    BucketedAllReduce(comm, bucket_bytes=0)(grads)
    assert comm.messages == [12, 4, 5, 100, 4]  # one all-reduce per tensor


def test_communication_options():
    opts = tf.distribute.experimental.CommunicationOptions(bytes_per_pack=1024)
    assert opts.bytes_per_pack == 1024
    with pytest.raises(ValueError, match="non-negative"):
        tf.distribute.experimental.CommunicationOptions(bytes_per_pack=-1)
    with pytest.raises(ValueError, match="timeout_seconds"):
        tf.distribute.experimental.CommunicationOptions(timeout_seconds=5)


def test_missing_mpi_says_what_to_install(monkeypatch):
    from ndflow.distribute import mpi

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"ndflow\[mpi\]"):
        mpi.mpi()


def test_no_mpi_and_no_thread_variables_on_plain_import():
    code = ("import os, sys; import ndflow; from ndflow import keras; "
            f"print('mpi4py' in sys.modules, any(k in os.environ for k in {THREAD_VARIABLES!r}))")
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env["PYTHONPATH"] = SRC
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_multi_worker_strategy_with_one_worker():
    pytest.importorskip("mpi4py", reason="needs the mpi extra (pip install 'ndflow[mpi]')")
    s = tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(1024))
    try:
        assert s.num_replicas_in_sync == 1 and s.cluster_resolver.task_id == 0
        assert s.cluster_resolver.local_size == 1
        x = tf.constant([[1.0, 2.0], [3.0, 5.0]])
        np.testing.assert_array_equal(tf.distribute.allreduce(x).numpy(), x.numpy())
        np.testing.assert_array_equal(tf.distribute.broadcast(x).numpy(), x.numpy())
        np.testing.assert_array_equal(tf.distribute.allgather(x, axis=1).numpy(), x.numpy())
        assert tf.distribute.broadcast(tf.constant(2.5)).shape == ()
        np.testing.assert_array_equal(s.reduce("mean", x, axis=0).numpy(), [2.0, 3.5])
        traced = tf.function(lambda t: tf.distribute.allreduce(t * 2.0))
        np.testing.assert_array_equal(traced(x).numpy(), 2 * x.numpy())
        with pytest.raises(ValueError, match="root"):
            tf.distribute.broadcast(x, root=3)
        with s.scope():
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
        assert all(v._distribute_strategy is s for v in model.weights)
        h = model.fit(np.ones((6, 2)), np.ones((6, 1)), batch_size=3, epochs=2, verbose=0)
        assert len(h.history["loss"]) == 2
        bad = SlurmClusterResolver({"SLURM_PROCID": "1", "SLURM_NTASKS": "2"})
        with pytest.raises(ValueError, match="MPI says 0 of 1"):
            tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=bad)
    finally:
        _context.worker = None


@pytest.mark.parametrize("module", [
    "ndflow.distribute", "ndflow.distribute.strategy", "ndflow.distribute.cluster_resolver",
    "ndflow.distribute.input_lib", "ndflow.distribute.reduce_op",
    "ndflow.distribute.experimental", "ndflow.distribute.threads",
    "ndflow.distribute.loss_scaling"])
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0

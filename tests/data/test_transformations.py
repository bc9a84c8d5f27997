"""Transformations beyond the TF table: randomness, options, sampling, and bad input."""

import collections

import numpy as np
import pytest

import ndflow as tf


def _np(ds):
    return [np.asarray(e).tolist() if not isinstance(e, (tuple, dict)) else e
            for e in ds.as_numpy_iterator()]


def test_sample_from_datasets_follows_weights_and_stops_as_asked():
    a = tf.data.Dataset.from_tensors(np.int64(0)).repeat()
    b = tf.data.Dataset.from_tensors(np.int64(1)).repeat()
    ds = tf.data.Dataset.sample_from_datasets([a, b], weights=[0.8, 0.2], seed=5).take(5000)
    share = np.mean(_np(ds))
    assert abs(share - 0.2) < 0.03  # 5000 draws: sd 0.006
    assert _np(ds) != _np(ds)  # reseeded each iteration by default
    fixed = tf.data.Dataset.sample_from_datasets([a, b], seed=5,
                                                 rerandomize_each_iteration=False).take(50)
    assert _np(fixed) == _np(fixed)
    short = tf.data.Dataset.range(3)
    long = tf.data.Dataset.range(100, 110)
    both = _np(tf.data.Dataset.sample_from_datasets([short, long], seed=1))
    assert sorted(both) == [0, 1, 2] + list(range(100, 110))  # exhausted inputs drop out
    stop = _np(tf.data.Dataset.sample_from_datasets([short, long], seed=1,
                                                    stop_on_empty_dataset=True))
    assert 3 <= len(stop) < 13 and [v for v in stop if v < 3] == [0, 1, 2]
    with pytest.raises(ValueError, match="sample_from_datasets: expected 2 non-negative weights"):
        tf.data.Dataset.sample_from_datasets([short, long], weights=[1.0])


def test_random_and_counter():
    r = tf.data.Dataset.random(seed=4).take(5)
    assert _np(r) == _np(r) and len(set(_np(r))) == 5
    rr = tf.data.Dataset.random(seed=4, rerandomize_each_iteration=True).take(5)
    assert _np(rr) != _np(rr)
    assert int(tf.data.Dataset.random().cardinality()) == tf.data.experimental.INFINITE_CARDINALITY
    assert _np(tf.data.Dataset.counter(10, -3).take(3)) == [10, 7, 4]


def test_options_merge_later_settings_win():
    fresh = tf.data.Options()  # unset options read as TF's defaults
    assert fresh.experimental_distribute.auto_shard_policy == \
        tf.data.experimental.AutoShardPolicy.AUTO
    assert fresh.deterministic is None and fresh.autotune.enabled is True
    o1 = tf.data.Options()
    o1.deterministic = False
    o1.threading.private_threadpool_size = 3
    o2 = tf.data.Options()
    o2.deterministic = True
    ds = tf.data.Dataset.range(3).with_options(o1).map(lambda x: x).with_options(o2)
    opts = ds.options()
    assert opts.deterministic is True and opts.threading.private_threadpool_size == 3
    z = tf.data.Dataset.zip((tf.data.Dataset.range(2).with_options(o1), tf.data.Dataset.range(2)))
    assert z.options().threading.private_threadpool_size == 3
    with pytest.raises(AttributeError, match="no option 'determinstic'"):
        o1.determinstic = True


def test_parallel_interleave_nondeterministic_produces_everything():
    ds = tf.data.Dataset.range(6).interleave(
        lambda x: tf.data.Dataset.range(x * 10, x * 10 + 5), cycle_length=3,
        num_parallel_calls=3, deterministic=False)
    out = _np(ds)
    assert sorted(out) == sorted(x * 10 + i for x in range(6) for i in range(5))
    per_source = collections.defaultdict(list)
    for v in out:
        per_source[v // 10].append(v)
    assert all(v == sorted(v) for v in per_source.values())  # each input stays in order


def test_element_spec_and_get_single_element():
    ds = tf.data.Dataset.from_tensor_slices(({"a": np.zeros((4, 3), np.float32)},
                                             np.arange(4)))
    spec = ds.element_spec
    assert spec[0]["a"] == tf.TensorSpec([3], tf.float32)
    assert spec[1] == tf.TensorSpec([], tf.int64)
    assert int(tf.data.Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x)) == 10
    assert int(tf.data.Dataset.range(7, 8).get_single_element()) == 7
    with pytest.raises(ValueError, match="exactly one element, got more than one"):
        tf.data.Dataset.range(2).get_single_element()


def test_bad_input_errors_name_the_stage():
    ds = tf.data.Dataset.range(3)
    with pytest.raises(ValueError, match="Dataset.zip: expected a \\(nested\\) structure of "
                                         "datasets, got list at position 1"):
        tf.data.Dataset.zip((ds, [1, 2, 3]))
    mixed = tf.data.Dataset.from_generator(
        lambda: iter([(np.int64(1), np.float32(2)), (np.int64(1),)]),
        output_types=(tf.int64, tf.float32))
    with pytest.raises(ValueError, match="from_generator: element 1 has structure"):
        list(mixed)
    wrong_dtype = tf.data.Dataset.from_generator(lambda: iter([np.array(["x"])]),
                                                 output_types=tf.int64)
    with pytest.raises(ValueError, match="from_generator: element 0 component 0: cannot "
                                         "convert"):
        list(wrong_dtype)
    with pytest.raises(ValueError, match="Dataset.concatenate: expected elements like"):
        list(ds.concatenate(ds.map(lambda x: (x, x))))
    ragged = tf.data.Dataset.from_generator(lambda: iter([np.zeros((2, 2)), np.zeros((2, 3))]),
                                            output_types=tf.float32)
    with pytest.raises(ValueError, match=r"Dataset.batch: cannot batch elements of different "
                                         r"shapes \[\(2, 2\), \(2, 3\)\]"):
        list(ragged.batch(2))
    with pytest.raises(ValueError, match="Dataset.shard: expected 0 <= index < num_shards"):
        ds.shard(2, 2)
    with pytest.raises(ValueError, match="Dataset.interleave.*expected map_func to return a "
                                         "Dataset, got Tensor"):
        list(ds.interleave(lambda x: x * 2, cycle_length=2))
    with pytest.raises(ValueError, match="choose_from_datasets: expected choices to be int64 "
                                         "scalars in \\[0, 1\\)"):
        list(tf.data.Dataset.choose_from_datasets([ds], tf.data.Dataset.range(1, 2)))
    with pytest.raises(ValueError, match="Dataset.filter\\(<lambda>\\).*scalar bool"):
        list(ds.filter(lambda x: x))
    with pytest.raises(ValueError, match="Dataset.unbatch: expected every component"):
        list(tf.data.Dataset.from_tensors((np.zeros(2), np.zeros(3))).unbatch())
    with pytest.raises(ValueError, match="Dataset.map: expected num_parallel_calls > 0"):
        ds.map(lambda x: x, num_parallel_calls=0)
    with pytest.raises(ValueError, match="Dataset.rebatch: expected batched elements"):
        list(ds.rebatch(2))
    with pytest.raises(ValueError, match="group_by_window.*expected key_func to return an int64"):
        list(ds.group_by_window(lambda x: tf.cast(x, tf.float32), lambda k, w: w, 2))


def test_padded_batch_bucket_errors_and_padding_values():
    seqs = tf.data.Dataset.from_generator(lambda: iter([np.arange(3), np.arange(5)]),
                                          output_signature=tf.TensorSpec([None], tf.int64))
    with pytest.raises(ValueError, match="padded_batch: component 0 has a dimension of 5, larger "
                                         "than its padded shape \\[4\\]"):
        list(seqs.padded_batch(2, padded_shapes=[4]))
    assert _np(seqs.padded_batch(2, padding_values=np.int64(-9)))[0][0] == [0, 1, 2, -9, -9]
    with pytest.raises(ValueError, match="bucket_by_sequence_length: expected "
                                         "len\\(bucket_batch_sizes\\)"):
        seqs.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3], [1])

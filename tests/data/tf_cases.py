"""A table of tf.data pipelines written once for both frameworks: each case takes the module
(`ndflow` or `tensorflow`) and returns a dataset. `record_tf_reference.py` runs them under
TensorFlow and stores elements and cardinalities in reference/tf_data_cases.json; the tests run
them under ndflow and compare (and against live TensorFlow when it is importable)."""

import numpy as np


def _seqs(tf):
    lengths = [1, 4, 2, 7, 3, 5, 6, 2, 8, 1]

    def gen():
        for i, n in enumerate(lengths):
            yield np.arange(1, n + 1, dtype=np.int64) + 10 * i

    return tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec(shape=[None], dtype=tf.int64))


CASES = {
    "batch": lambda tf: tf.data.Dataset.range(10).batch(3),
    "batch_drop": lambda tf: tf.data.Dataset.range(10).batch(3, drop_remainder=True),
    "batch_tuple_dict": lambda tf: tf.data.Dataset.from_tensor_slices(
        ({"a": np.arange(5), "b": np.arange(5) * 2.0}, np.arange(5) % 2)).batch(2),
    "padded_batch": lambda tf: _seqs(tf).padded_batch(3),
    "padded_batch_shapes": lambda tf: _seqs(tf).take(4).padded_batch(
        2, padded_shapes=[9], padding_values=tf.constant(-1, tf.int64)),
    "unbatch": lambda tf: tf.data.Dataset.range(7).batch(3).unbatch(),
    "filter": lambda tf: tf.data.Dataset.range(10).filter(lambda x: x % 3 == 0),
    "repeat_take": lambda tf: tf.data.Dataset.range(3).repeat(3).take(7),
    "repeat_skip": lambda tf: tf.data.Dataset.range(4).repeat(2).skip(3),
    "take_infinite": lambda tf: tf.data.Dataset.range(3).repeat().take(5),
    "skip_all": lambda tf: tf.data.Dataset.range(3).skip(-1),
    "concatenate": lambda tf: tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(5, 7)),
    "zip_nested": lambda tf: tf.data.Dataset.zip(
        (tf.data.Dataset.range(4), {"b": tf.data.Dataset.range(10, 13)})),
    "enumerate": lambda tf: tf.data.Dataset.range(5, 8).enumerate(start=2),
    "counter": lambda tf: tf.data.Dataset.counter(start=3, step=2).take(4),
    "interleave_doc": lambda tf: tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4),
    "interleave_uneven": lambda tf: tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.range(10 * x, 10 * x + x), cycle_length=3, block_length=2),
    "interleave_parallel": lambda tf: tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.range(10 * x, 10 * x + x), cycle_length=3, block_length=2,
        num_parallel_calls=3, deterministic=True),
    "interleave_cycle1": lambda tf: tf.data.Dataset.range(1, 4).interleave(
        lambda x: tf.data.Dataset.range(x), cycle_length=1),
    "flat_map": lambda tf: tf.data.Dataset.range(4).flat_map(
        lambda x: tf.data.Dataset.range(x).map(lambda y: y + 10 * x)),
    "window": lambda tf: tf.data.Dataset.range(7).window(3).flat_map(lambda w: w.batch(3)),
    "window_shift": lambda tf: tf.data.Dataset.range(7).window(3, shift=2).flat_map(
        lambda w: w.batch(3)),
    "window_drop": lambda tf: tf.data.Dataset.range(7).window(3, shift=2, drop_remainder=True)
    .flat_map(lambda w: w.batch(3)),
    "window_stride": lambda tf: tf.data.Dataset.range(10).window(3, shift=1, stride=3)
    .flat_map(lambda w: w.batch(3)),
    "window_big_shift": lambda tf: tf.data.Dataset.range(10).window(2, shift=4).flat_map(
        lambda w: w.batch(2)),
    "window_tuple": lambda tf: tf.data.Dataset.zip(
        (tf.data.Dataset.range(5), tf.data.Dataset.range(5).map(lambda x: x * 2)))
    .window(2).flat_map(lambda a, b: tf.data.Dataset.zip((a.batch(2), b.batch(2)))),
    "shard_1_of_3": lambda tf: tf.data.Dataset.range(10).shard(3, 1),
    "shard_2_of_3": lambda tf: tf.data.Dataset.range(10).shard(3, 2),
    "shard_after_batch": lambda tf: tf.data.Dataset.range(10).batch(2).shard(2, 0),
    "rebatch": lambda tf: tf.data.Dataset.range(8).batch(4).rebatch(3),
    "rebatch_list": lambda tf: tf.data.Dataset.range(8).batch(4).rebatch([2, 1, 1]),
    "rebatch_drop": lambda tf: tf.data.Dataset.range(8).batch(4).rebatch(3,
                                                                          drop_remainder=True),
    "group_by_window": lambda tf: tf.data.Dataset.range(10).group_by_window(
        key_func=lambda x: x % 3, reduce_func=lambda k, ds: ds.batch(2), window_size=2),
    "group_by_window_size_func": lambda tf: tf.data.Dataset.range(12).group_by_window(
        key_func=lambda x: x % 2, reduce_func=lambda k, ds: ds.batch(5),
        window_size_func=lambda k: k + 2),
    "bucket_by_sequence_length": lambda tf: _seqs(tf).bucket_by_sequence_length(
        element_length_func=lambda x: tf.shape(x)[0], bucket_boundaries=[3, 6],
        bucket_batch_sizes=[2, 2, 2]),
    "bucket_pad_to_boundary": lambda tf: _seqs(tf).bucket_by_sequence_length(
        element_length_func=lambda x: tf.shape(x)[0], bucket_boundaries=[3, 6, 9],
        bucket_batch_sizes=[2, 2, 2, 2], pad_to_bucket_boundary=True, drop_remainder=True),
    "scan": lambda tf: tf.data.Dataset.range(6).scan(
        tf.constant(0, tf.int64), lambda s, x: (s + x, s * 10 + x)),
    "unique": lambda tf: tf.data.Dataset.from_tensor_slices(
        np.array([1, 2, 2, 3, 1, 5, 3], np.int64)).unique(),
    "choose_from_datasets": lambda tf: tf.data.Dataset.choose_from_datasets(
        [tf.data.Dataset.range(0, 3), tf.data.Dataset.range(10, 14),
         tf.data.Dataset.range(20, 21)],
        tf.data.Dataset.from_tensor_slices(np.array([0, 1, 2, 1, 0, 1, 1], np.int64))),
    "choose_stop_on_empty": lambda tf: tf.data.Dataset.choose_from_datasets(
        [tf.data.Dataset.range(0, 3), tf.data.Dataset.range(20, 21)],
        tf.data.Dataset.from_tensor_slices(np.array([0, 1, 1, 0], np.int64))),
    "choose_skip_empty": lambda tf: tf.data.Dataset.choose_from_datasets(
        [tf.data.Dataset.range(0, 3), tf.data.Dataset.range(20, 21)],
        tf.data.Dataset.from_tensor_slices(np.array([0, 1, 1, 0], np.int64)),
        stop_on_empty_dataset=False),
    "map_parallel_deterministic": lambda tf: tf.data.Dataset.range(20).map(
        lambda x: x * x, num_parallel_calls=4, deterministic=True),
    "map_autotune_batch": lambda tf: tf.data.Dataset.range(10).map(
        lambda x: (x, -x), num_parallel_calls=tf.data.AUTOTUNE).batch(4).prefetch(
        tf.data.AUTOTUNE),
    "take_while": lambda tf: tf.data.Dataset.range(10).take_while(lambda x: x < 4),
    "cache_mem": lambda tf: tf.data.Dataset.range(4).cache().repeat(2),
    "prefetch": lambda tf: tf.data.Dataset.range(5).prefetch(2),
    "strings": lambda tf: tf.data.Dataset.from_tensor_slices(
        np.array([b"a", b"bb", b"ccc"], dtype=object)).batch(2),
}

# Cases whose cardinality is compared too (TF's static cardinality for each transformation).
CARDINALITY = {
    "range": lambda tf: tf.data.Dataset.range(10),
    "batch": lambda tf: tf.data.Dataset.range(10).batch(3),
    "batch_drop": lambda tf: tf.data.Dataset.range(10).batch(3, drop_remainder=True),
    "batch_infinite": lambda tf: tf.data.Dataset.range(10).repeat().batch(3),
    "map": lambda tf: tf.data.Dataset.range(10).map(lambda x: x, num_parallel_calls=2),
    "filter": lambda tf: tf.data.Dataset.range(10).filter(lambda x: x > 2),
    "repeat": lambda tf: tf.data.Dataset.range(10).repeat(3),
    "repeat_inf": lambda tf: tf.data.Dataset.range(10).repeat(),
    "repeat_empty": lambda tf: tf.data.Dataset.range(0).repeat(),
    "take": lambda tf: tf.data.Dataset.range(10).take(4),
    "take_more": lambda tf: tf.data.Dataset.range(10).take(40),
    "take_inf": lambda tf: tf.data.Dataset.range(10).repeat().take(4),
    "skip": lambda tf: tf.data.Dataset.range(10).skip(4),
    "skip_more": lambda tf: tf.data.Dataset.range(10).skip(40),
    "skip_inf": lambda tf: tf.data.Dataset.range(10).repeat().skip(4),
    "shard": lambda tf: tf.data.Dataset.range(10).shard(3, 0),
    "shard_last": lambda tf: tf.data.Dataset.range(10).shard(3, 2),
    "shuffle": lambda tf: tf.data.Dataset.range(10).shuffle(4),
    "prefetch": lambda tf: tf.data.Dataset.range(10).prefetch(2),
    "cache": lambda tf: tf.data.Dataset.range(10).cache(),
    "enumerate": lambda tf: tf.data.Dataset.range(10).enumerate(),
    "zip": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(5))),
    "zip_inf": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(3).repeat(),
                                               tf.data.Dataset.range(5))),
    "concat": lambda tf: tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(5)),
    "concat_unknown": lambda tf: tf.data.Dataset.range(3).concatenate(
        tf.data.Dataset.range(5).filter(lambda x: x > 1)),
    "window": lambda tf: tf.data.Dataset.range(7).window(3, shift=2),
    "window_drop": lambda tf: tf.data.Dataset.range(7).window(3, shift=2, drop_remainder=True),
    "unbatch": lambda tf: tf.data.Dataset.range(10).batch(2).unbatch(),
    "flat_map": lambda tf: tf.data.Dataset.range(3).flat_map(tf.data.Dataset.range),
    "padded_batch": lambda tf: tf.data.Dataset.range(10).map(lambda x: [x]).padded_batch(4),
    "scan": lambda tf: tf.data.Dataset.range(10).scan(tf.constant(0, tf.int64),
                                                      lambda s, x: (s, x)),
    "counter": lambda tf: tf.data.Dataset.counter(),
    "random": lambda tf: tf.data.Dataset.random(seed=1),
    "ignore_errors": lambda tf: tf.data.Dataset.range(10).ignore_errors(),
    "unique": lambda tf: tf.data.Dataset.range(10).unique(),
    "from_generator": lambda tf: tf.data.Dataset.from_generator(
        lambda: iter([1, 2]), output_signature=tf.TensorSpec([], tf.int64)),
}


def to_jsonable(element):
    """Elements as JSON values: dicts, lists for tuples, nested lists for arrays."""
    if isinstance(element, dict):
        return {k: to_jsonable(v) for k, v in sorted(element.items())}
    if isinstance(element, tuple):
        return [to_jsonable(v) for v in element]
    a = np.asarray(element)
    if a.dtype.kind in "OS":
        return [v.decode() for v in a.reshape(-1)] if a.ndim else bytes(a.item()).decode()
    return a.tolist()


def run(tf, case):
    return [to_jsonable(e) for e in case(tf).as_numpy_iterator()]

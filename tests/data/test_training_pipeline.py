"""End to end: digits written as tf.train.Example PNG records, read back by a parallel
pipeline (TFRecordDataset -> parse -> decode_png -> cache -> shuffle -> batch -> prefetch) and
trained with Model.fit to a stated test accuracy."""


import ndflow as tf
from ndflow import keras


def _write_shards(tmp_path, x, y, shards):
    paths = []
    for s in range(shards):
        p = str(tmp_path / f"digits-{s:02d}.tfrecord")
        with tf.io.TFRecordWriter(p) as w:
            for img, label in zip(x[s::shards], y[s::shards]):
                w.write(tf.train.Example(features=tf.train.Features(feature={
                    "png": tf.train.Feature(bytes_list=tf.train.BytesList(
                        value=[tf.io.encode_png(img[..., None])])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                })).SerializeToString())
        paths.append(p)
    return paths


def test_fit_from_parallel_tfrecord_pipeline_reaches_accuracy(tmp_path):
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    files = _write_shards(tmp_path, x_train, y_train, 4)
    spec = {"png": tf.io.FixedLenFeature([], "string"),
            "label": tf.io.FixedLenFeature([], tf.int64)}

    def parse(record):
        ex = tf.io.parse_single_example(record, spec)
        img = tf.cast(tf.io.decode_png(ex["png"]), tf.float32) / 255.0
        return tf.reshape(img, [64]), ex["label"]

    ds = (tf.data.Dataset.list_files(str(tmp_path / "*.tfrecord"), seed=0)
          .interleave(tf.data.TFRecordDataset, cycle_length=2, num_parallel_calls=2)
          .map(parse, num_parallel_calls=tf.data.AUTOTUNE).cache()
          .shuffle(512, seed=0).batch(32).prefetch(tf.data.AUTOTUNE))
    assert len(files) == 4

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(ds, epochs=8, verbose=0)
    _, acc = model.evaluate(x_test.reshape(-1, 64) / 255.0, y_test, verbose=0)
    assert acc >= 0.9, f"test accuracy {acc:.3f}"

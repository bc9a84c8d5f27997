"""Deep Learning with Python (2nd ed.), chapter 11: bag-of-words and bag-of-bigrams text
classification (TextVectorization with multi_hot and tf_idf outputs mapped over a
`text_dataset_from_directory` dataset, then a small Dense model), with
`import ndflow as tf; from ndflow import keras` as the only change.

The book downloads the IMDB reviews (aclImdb); `make_synthetic_imdb` writes a corpus of the
same layout (train/test, neg/pos folders of .txt files) with a vocabulary of more than 20,000
words, so the book's `max_tokens=20000` models run unchanged without a download.
Run: `python examples/ch11_bag_of_words.py`.
"""

import os
import pathlib
import random
import shutil

import numpy as np

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from ndflow.keras.layers import TextVectorization

POSITIVE = ["excellent", "wonderful", "loved", "superb", "brilliant", "enjoyable", "great",
            "touching", "masterpiece", "fantastic", "delightful", "moving"]
NEGATIVE = ["awful", "boring", "terrible", "hated", "dull", "waste", "worst", "poor",
            "disappointing", "mess", "bland", "annoying"]


def make_synthetic_imdb(root: str, n_train: int = 800, n_test: int = 400, seed: int = 0) -> str:
    """Write aclImdb/{train,test}/{neg,pos}/*.txt: 40 filler words drawn from 60,000 plus
    three words of the review's sentiment and one of the other (label noise)."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    filler = ["".join(letters[rng.integers(0, 26, 7)]) for _ in range(60000)]
    base = pathlib.Path(root) / "aclImdb"
    for split, n in (("train", n_train), ("test", n_test)):
        for label, own, other in (("pos", POSITIVE, NEGATIVE), ("neg", NEGATIVE, POSITIVE)):
            folder = base / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n // 2):
                words = [filler[j] for j in rng.integers(0, len(filler), 40)]
                words += list(rng.choice(own, 3)) + [str(rng.choice(other))]
                rng.shuffle(words)
                text = " ".join(words).capitalize() + "."
                (folder / f"{i}_{label}.txt").write_text(text)
    return str(base)


def book_validation_split(base_dir: pathlib.Path) -> None:
    """The book's listing: move 20% of the training reviews to aclImdb/val."""
    val_dir = base_dir / "val"
    train_dir = base_dir / "train"
    for category in ("neg", "pos"):
        os.makedirs(val_dir / category)
        files = os.listdir(train_dir / category)
        random.Random(1337).shuffle(files)
        num_val_samples = int(0.2 * len(files))
        val_files = files[-num_val_samples:]
        for fname in val_files:
            shutil.move(train_dir / category / fname, val_dir / category / fname)


def get_model(max_tokens=20000, hidden_dim=16):
    inputs = keras.Input(shape=(max_tokens,))
    x = layers.Dense(hidden_dim, activation="relu")(inputs)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop",
                  loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def run(root: str, variants=("1gram", "2gram", "tfidf"), epochs: int = 10,
        verbose: int = 2) -> dict:
    """Train the book's models; returns each variant's test accuracy and the raw-string
    inference model's prediction for a positive review."""
    keras.utils.set_random_seed(0)
    base_dir = pathlib.Path(make_synthetic_imdb(root))
    book_validation_split(base_dir)
    batch_size = 32
    train_ds = keras.utils.text_dataset_from_directory(
        base_dir / "train", batch_size=batch_size, seed=0)
    val_ds = keras.utils.text_dataset_from_directory(
        base_dir / "val", batch_size=batch_size, seed=0)
    test_ds = keras.utils.text_dataset_from_directory(
        base_dir / "test", batch_size=batch_size, seed=0)
    results = {}
    for name in variants:
        results.update(train_variant(name, train_ds, val_ds, test_ds, root, epochs, verbose))
    return results


def train_variant(name: str, train_ds, val_ds, test_ds, root: str, epochs: int,
                  verbose: int) -> dict:
    """One of the book's three models: "1gram" / "2gram" (multi_hot) or "tfidf"."""
    settings = {"1gram": {}, "2gram": {"ngrams": 2}, "tfidf": {"ngrams": 2}}
    modes = {"1gram": "multi_hot", "2gram": "multi_hot", "tfidf": "tf_idf"}
    text_only_train_ds = train_ds.map(lambda x, y: x)
    text_vectorization = TextVectorization(
        max_tokens=20000,
        output_mode=modes[name],
        **settings[name],
    )
    text_vectorization.adapt(text_only_train_ds)
    train = train_ds.map(lambda x, y: (text_vectorization(x), y), num_parallel_calls=4)
    val = val_ds.map(lambda x, y: (text_vectorization(x), y), num_parallel_calls=4)
    test = test_ds.map(lambda x, y: (text_vectorization(x), y), num_parallel_calls=4)
    model = get_model()
    path = str(pathlib.Path(root) / f"{name}.keras")
    callbacks = [keras.callbacks.ModelCheckpoint(path, save_best_only=True)]
    model.fit(train.cache(), validation_data=val.cache(), epochs=epochs,
              callbacks=callbacks, verbose=verbose)
    model = keras.models.load_model(path)
    results = {name: model.evaluate(test, verbose=verbose)[1]}
    if verbose:
        print(f"{name} test acc: {results[name]:.3f}")
    # exporting a model that processes raw strings (the book's last listing)
    inputs = keras.Input(shape=(1,), dtype="string")
    processed_inputs = text_vectorization(inputs)
    outputs = model(processed_inputs)
    inference_model = keras.Model(inputs, outputs)
    raw_text_data = tf.convert_to_tensor([
        ["That was an excellent movie, I loved it."],
    ])
    predictions = inference_model(raw_text_data)
    # the book writes float(predictions[0] * 100): a shape-(1,) tensor, which TensorFlow
    # itself refuses to turn into a float with NumPy >= 2.4; [0, 0] is the scalar
    results[name + "_positive"] = float(predictions[0, 0] * 100)
    if verbose:
        print(f"{float(predictions[0, 0] * 100):.2f} percent positive")
    return results


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(run(d))

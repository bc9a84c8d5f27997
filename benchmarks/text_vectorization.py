"""TextVectorization throughput on an IMDB-sized synthetic corpus (25,000 reviews of 230
words), ndflow vs Keras 3 on TensorFlow when importable (run this file with an interpreter
that has TensorFlow and pass --keras to time Keras instead).

    python benchmarks/text_vectorization.py [--docs 25000] [--keras]

Prints seconds for adapt (1-gram and 2-gram vocabularies, max_tokens=20000) and for
vectorizing every review in batches of 32 (multi_hot and int with sequence length 600).
"""

import argparse
import time

import numpy as np


def corpus(n_docs: int, words: int = 230, vocab: int = 60000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lex = np.array(["".join(letters[rng.integers(0, 26, 6)]) for _ in range(vocab)])
    # Zipf-like word frequencies, punctuation and capitals for standardization to strip
    ranks = np.minimum(rng.zipf(1.2, size=(n_docs, words)) - 1, vocab - 1)
    docs = [" ".join(lex[r]).capitalize() + ", indeed!" for r in ranks]
    return np.array(docs)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=25000)
    p.add_argument("--keras", action="store_true", help="time Keras (needs TensorFlow)")
    a = p.parse_args()
    texts = corpus(a.docs)
    if a.keras:
        import os

        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras
        import tensorflow as tf

        def batches():
            return tf.data.Dataset.from_tensor_slices(texts).batch(32)
        name = f"keras {keras.__version__} (tensorflow {tf.__version__})"
    else:
        import ndflow as tf
        from ndflow import keras

        def batches():
            return tf.data.Dataset.from_tensor_slices(texts).batch(32)
        name = "ndflow"
    results = {}
    for label, kw in (("1gram multi_hot", {"output_mode": "multi_hot"}),
                      ("2gram tf_idf", {"output_mode": "tf_idf", "ngrams": 2}),
                      ("int len 600", {"output_sequence_length": 600})):
        tv = keras.layers.TextVectorization(max_tokens=20000, **kw)
        t0 = time.perf_counter()
        tv.adapt(batches())
        t1 = time.perf_counter()
        for x in batches():
            tv(x)
        t2 = time.perf_counter()
        results[label] = (t1 - t0, t2 - t1)
    print(f"{name}: {a.docs} docs")
    for label, (ad, vec) in results.items():
        print(f"  {label:16s} adapt {ad:6.2f} s   vectorize {vec:6.2f} s "
              f"({a.docs / vec:,.0f} docs/s)")


if __name__ == "__main__":
    main()

"""`keras.datasets`: `digits` (bundled, no download); `mnist`, `imdb` and `reuters` (Keras's
cached downloads).

>>> from ndflow.keras import datasets
>>> (x, y), _ = datasets.digits.load_data()
>>> x.shape[1:]
(8, 8)
"""

from ndflow.keras.datasets import digits, imdb, mnist, reuters

__all__ = ["digits", "imdb", "mnist", "reuters"]

"""`keras.datasets`: `digits` (bundled, no download), and Keras's downloaded datasets
(`mnist`, `fashion_mnist`, `cifar10`, `cifar100`, `boston_housing`, `california_housing`,
`imdb`, `reuters`): fetched once into the local cache (``$KERAS_HOME/datasets`` or
``~/.keras/datasets``), checked, then read from the cache.

>>> from ndflow.keras import datasets
>>> (x, y), _ = datasets.digits.load_data()
>>> x.shape[1:]
(8, 8)
"""

from ndflow.keras.datasets import (
    boston_housing, california_housing, cifar10, cifar100, digits, fashion_mnist, imdb, mnist,
    reuters,
)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "digits",
           "fashion_mnist", "imdb", "mnist", "reuters"]

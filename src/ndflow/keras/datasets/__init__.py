"""`keras.datasets`: `digits` (bundled, no download) and `mnist` (Keras's cached download).

>>> from ndflow.keras import datasets
>>> (x, y), _ = datasets.digits.load_data()
>>> x.shape[1:]
(8, 8)
"""

from ndflow.keras.datasets import digits, mnist

__all__ = ["digits", "mnist"]

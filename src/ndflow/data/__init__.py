"""`tf.data`: input pipelines (`Dataset`)."""

from ndflow.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset


class experimental:  # noqa: N801 - TensorFlow's namespace name
    """`tf.data.experimental` constants."""

    AUTOTUNE = AUTOTUNE
    INFINITE_CARDINALITY = INFINITE
    UNKNOWN_CARDINALITY = UNKNOWN


__all__ = ["AUTOTUNE", "Dataset", "experimental"]

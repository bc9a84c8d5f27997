"""`tf.data`: input pipelines (`Dataset`), file readers, options."""

from ndflow.data.dataset import INFINITE, UNKNOWN, Dataset
from ndflow.data.options import (
    AutoShardPolicy, AutotuneOptions, DistributeOptions, OptimizationOptions, Options,
    ThreadingOptions,
)
from ndflow.data.parallel import AUTOTUNE
from ndflow.data.processes import map_in_processes
from ndflow.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset


class experimental:  # noqa: N801 - TensorFlow's namespace name
    """`tf.data.experimental`: constants and the older spellings of some functions."""

    AUTOTUNE = AUTOTUNE
    INFINITE_CARDINALITY = INFINITE
    UNKNOWN_CARDINALITY = UNKNOWN
    AutoShardPolicy = AutoShardPolicy
    DistributeOptions = DistributeOptions
    ThreadingOptions = ThreadingOptions
    OptimizationOptions = OptimizationOptions
    AutotuneOptions = AutotuneOptions
    sample_from_datasets = staticmethod(Dataset.sample_from_datasets)
    choose_from_datasets = staticmethod(Dataset.choose_from_datasets)
    Counter = staticmethod(Dataset.counter)
    map_in_processes = staticmethod(map_in_processes)

    @staticmethod
    def cardinality(dataset: Dataset):  # noqa: ANN205
        return dataset.cardinality()


__all__ = ["AUTOTUNE", "AutoShardPolicy", "Dataset", "FixedLengthRecordDataset", "Options",
           "TFRecordDataset", "TextLineDataset", "ThreadingOptions", "experimental"]

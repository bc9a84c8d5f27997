"""`tf.train`: checkpoints of variables, models and optimizers (`Checkpoint`,
`CheckpointManager`, `latest_checkpoint`) and the `Example` protocol messages (TFRecord).

>>> import ndflow as tf
>>> f = tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"]))
>>> tf.train.Example(features=tf.train.Features(feature={"s": f})).SerializeToString()
b'\\n\\x0c\\n\\n\\n\\x01s\\x12\\x05\\n\\x03\\n\\x01x'
"""

from ndflow.io.example import BytesList, Example, Feature, Features, FloatList, Int64List
from ndflow.train.checkpoint import (
    Checkpoint, CheckpointLoadStatus, CheckpointManager, latest_checkpoint,
)

__all__ = ["BytesList", "Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "Example",
           "Feature", "Features", "FloatList", "Int64List", "latest_checkpoint"]

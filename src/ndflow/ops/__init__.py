"""ndflow's ops, one module per family. Importing this package fills the op registry."""

from ndflow.ops import (  # noqa: F401  (import order matters: each family registers its ops)
    shape_ops,
    math,
    reduce,
    array,
    linalg,
    nn,
    random,
    creation,
    conv_pool,
    conv_pool_grad,
    decomp,
    spectral,
    normalization,
)

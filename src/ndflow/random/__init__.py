"""`tf.random`: seeded random tensors and the `Generator` object."""

from ndflow.ops.random import (
    Generator, categorical, gamma, get_global_generator, normal, poisson, set_seed, shuffle,
    stateless_normal, stateless_uniform, truncated_normal, uniform,
)

__all__ = ["Generator", "categorical", "gamma", "get_global_generator", "normal", "poisson",
           "set_seed", "shuffle", "stateless_normal", "stateless_uniform", "truncated_normal",
           "uniform"]

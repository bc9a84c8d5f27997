"""Graph functions: `ndflow.function` traces Python into a graph IR, optimises it with passes
and compiles it into straight-line code (see trace.py, ir.py, passes/, executor.py)."""

from ndflow.graph.control_flow import cond, while_loop
from ndflow.graph.trace import ConcreteFunction, Function, TensorSpec, function, host_callable

__all__ = ["ConcreteFunction", "Function", "TensorSpec", "cond", "function", "host_callable",
           "while_loop"]

"""ndflow's core: tensors, variables, dtypes, the op registry, eager dispatch and the tape."""

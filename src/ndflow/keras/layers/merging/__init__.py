"""Keras layers: the merging family (one public layer per module)."""

"""Keras layers: the reshaping family (one public layer per module)."""

"""Keras layers: the normalization family (one public layer per module)."""

"""Keras layers: the preprocessing family (one public layer per module)."""

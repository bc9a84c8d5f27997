"""Keras layers: the regularization family (one public layer per module)."""

"""Keras layers: the core family (one public layer per module)."""

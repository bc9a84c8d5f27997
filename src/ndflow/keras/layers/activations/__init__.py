"""Keras layers: the activations family (one public layer per module)."""

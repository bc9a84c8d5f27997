"""Pooling layers: Max/AveragePooling1D/2D/3D and their global versions."""

"""Image preprocessing and augmentation layers (the random ones act only when training)."""

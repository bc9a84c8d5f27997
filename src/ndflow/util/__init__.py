"""Small helpers shared across ndflow."""

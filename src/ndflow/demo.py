"""The main job behind `python -m ndflow`.

Trains a linear classifier with `GradientTape` on two synthetic 2-D point clouds (chapter 3 of
Deep Learning with Python) and prints its accuracy.
"""

from __future__ import annotations

import argparse

import numpy as np

import ndflow as tf


def linear_classifier(steps: int = 40, learning_rate: float = 0.1, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    cov = [[1, 0.5], [0.5, 1]]
    neg = rng.multivariate_normal([0, 3], cov, size=1000)
    pos = rng.multivariate_normal([3, 0], cov, size=1000)
    x = np.vstack([neg, pos]).astype(np.float32)
    y = np.vstack([np.zeros((1000, 1)), np.ones((1000, 1))]).astype(np.float32)
    tf.random.set_seed(seed)
    w = tf.Variable(tf.random.uniform((2, 1)))
    b = tf.Variable(tf.zeros((1,)))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(y - (tf.matmul(x, w) + b)))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(gw * learning_rate)
        b.assign_sub(gb * learning_rate)
    return float(np.mean(((tf.matmul(x, w) + b).numpy() > 0.5) == y))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ndflow", description=__doc__)
    parser.parse_args(argv)
    acc = linear_classifier()
    print(f"linear classifier accuracy: {acc:.4f}")
    return 0

"""Devices: CPU placement, device strings, and the GPU path (skipped without CUDA)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow.backend import cupy_backend

HAS_GPU = cupy_backend.device_count() > 0


def test_cpu_path_never_imports_cupy():
    code = (
        "import sys, ndflow as tf\n"
        "x = tf.Variable(tf.random.normal([4, 4]))\n"
        "with tf.GradientTape() as t:\n"
        "    y = tf.reduce_sum(tf.nn.relu(tf.matmul(x, x)))\n"
        "t.gradient(y, x)\n"
        "with tf.device('/CPU:0'):\n"
        "    tf.ones([2])\n"
        "print('cupy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cpu_device_names():
    with tf.device("/CPU:0"):
        x = tf.ones([2])
    assert x.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert tf.list_physical_devices("CPU")[0].device_type == "CPU"


def test_bad_device_name_is_a_clear_error():
    with pytest.raises(ValueError, match="device: cannot parse device name 'TPU:9'"):
        with tf.device("TPU:9"):
            pass


@pytest.mark.skipif(HAS_GPU, reason="a GPU is present")
def test_gpu_request_without_gpu_names_the_extra():
    with pytest.raises(RuntimeError, match=r"ndflow\[gpu\]"):
        with tf.device("/GPU:0"):
            pass


@pytest.mark.skipif(not HAS_GPU, reason="no CUDA device")
def test_gpu_matches_cpu_forward_and_gradient():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 5)).astype(np.float32)
    b = rng.standard_normal((5, 3)).astype(np.float32)

    def run():
        x = tf.Variable(a)
        with tf.GradientTape() as t:
            y = tf.reduce_sum(tf.nn.softmax(tf.matmul(x, tf.constant(b))))
        return y.numpy(), t.gradient(y, x).numpy()

    cpu = run()
    with tf.device("/GPU:0"):
        gpu = run()
        assert "GPU" in tf.ones([1]).device
    for c, g in zip(cpu, gpu):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)

"""`python -m ndflow`: the README's main job trains, evaluates, saves and reloads."""

import re
import subprocess
import sys

from ndflow.demo import train_dense_digits


def test_dense_network_reaches_96_percent_on_bundled_digits():
    assert train_dense_digits(seed=0, verbose=0)["test_accuracy"] >= 0.96


def test_main_job_saves_and_reloads_with_same_accuracy(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ndflow", "--verbose", "0", "--save",
                          str(tmp_path / "m.keras")], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    trained = float(re.search(r"digits test accuracy: ([0-9.]+)", out.stdout).group(1))
    reloaded = float(re.search(r"reloaded model test accuracy: ([0-9.]+)", out.stdout).group(1))
    assert trained >= 0.97 and reloaded == trained  # the default main job is the convnet
    assert (tmp_path / "m.keras").exists()
    # with ndflow[onnx] (a test extra) it also exports to ONNX and scores it in onnxruntime
    onnx_acc = float(re.search(r"onnxruntime test accuracy: ([0-9.]+)", out.stdout).group(1))
    assert abs(onnx_acc - trained) < 1e-4 and (tmp_path / "digits_model.onnx").exists()

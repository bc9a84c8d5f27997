"""The main job's pictures (training curves with matplotlib, the model with plot_model), the
one-line notes when their packages are missing, and `python -m ndflow info`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from ndflow import demo, sysinfo

SRC = os.path.dirname(os.path.dirname(os.path.abspath(demo.__file__)))


def _png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_main_job_draws_history_and_model(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason='needs ndflow[viz]')
    pytest.importorskip("pydot", reason='needs ndflow[viz]')
    if shutil.which("dot") is None and not os.environ.get("CI"):  # CI installs it
        pytest.skip("Graphviz is not installed (apt-get install graphviz)")
    hist, model = tmp_path / "h.png", tmp_path / "m.png"
    rc = demo.main(["--model", "dense", "--epochs", "2", "--verbose", "0", "--save",
                    str(tmp_path / "m.keras"), "--history-plot", str(hist), "--model-plot",
                    str(model), "--onnx", ""])
    out = capsys.readouterr().out
    assert rc == 0 and f"drew {hist}" in out and f"drew {model}" in out
    assert _png_size(hist) == (900, 340)  # 9 x 3.4 inches at 100 dpi
    w, h = _png_size(model)
    assert h > w > 100  # a vertical stack of layer boxes
    assert sorted(os.listdir(tmp_path)) == ["h.png", "m.keras", "m.png"]  # no temp files left


def test_missing_packages_give_one_line_notes(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    note = demo.plot_history({"loss": [1.0, 0.5]}, str(tmp_path / "h.png"))
    assert note is not None and "\n" not in note and 'pip install "ndflow[viz]"' in note
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz
    from ndflow import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    note = demo.plot_model_picture(model, str(tmp_path / "m.png"))
    assert note is not None and "\n" not in note
    assert "apt-get install graphviz" in note or "ndflow[viz]" in note
    assert not os.listdir(tmp_path)


def test_info_reports_versions_extras_devices_threads_and_kernels():
    info = sysinfo.collect()
    import numpy as np

    import ndflow

    assert info["versions"]["numpy"] == np.__version__
    assert info["versions"]["ndflow"] == ndflow.__version__
    assert set(info["extras"]) >= {"jit", "gpu", "viz", "tensorboard", "image"}
    assert info["devices"][0] == "/physical_device:CPU:0"
    assert info["threads"]["cpus"] == os.cpu_count()
    from ndflow.backend import jit

    assert info["compiled_kernels"]["on"] == jit.enabled()
    from ndflow.backend import parallel, pool_gemm

    split = info["threads"]["intra_op_split"]
    assert split is None or (pool_gemm.available() and split == parallel.with_split_products(
        parallel.threads)())
    line = sysinfo.render(dict(info, threads=dict(info["threads"], intra_op=1,
                                                  intra_op_split=2)))
    assert "1 thread per op (2 in graphs whose products split" in line
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
               NDFLOW_JIT="0")
    out = subprocess.run([sys.executable, "-m", "ndflow", "info"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert re.search(rf"numpy {re.escape(np.__version__)}", text)
    assert "compiled kernels: off" in text and "NDFLOW_JIT=0" in text
    assert "devices: /physical_device:CPU:0" in text and "BLAS:" in text
    for extra in ("jit", "gpu", "viz", "tensorboard"):
        assert re.search(rf"^  {extra}\s+(installed|partly installed|not installed)", text,
                         re.M), extra

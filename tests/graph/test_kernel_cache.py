"""The on-disk cache of generated kernels: a kernel compiled in one process is loaded (not
compiled) in the next, a file that is not exactly what ndflow wrote is rewritten before it is
run, an unusable folder falls back to compiling in memory, and processes writing the same
kernels at once leave whole files. Each test uses its own folder (``NDFLOW_CACHE_DIR``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from ndflow.backend import jit
from ndflow.core import elementwise as ew
from ndflow.graph.codegen import elementwise as cg
from ndflow.graph.codegen import kernel_cache

SRC = str(Path(__file__).resolve().parents[2] / "src")
needs_numba = pytest.mark.skipif(not jit.enabled(), reason="numba not installed or NDFLOW_JIT=0")

# A child process: builds a fused ufunc (with the erf helper) and an optimizer-style update
# loop, runs them, and reports the numba compiler passes that ran while doing so (none when
# the machine code came from numba's disk cache), the kernel cache's counters and the results.
_CHILD = r"""
import json, os, sys, time
import numpy as np
from numba.core import event
from ndflow.core import elementwise as ew
from ndflow.graph.codegen import elementwise as cg, kernel_cache

start = os.environ.get("KC_START")
while start and not os.path.exists(start):  # line up with the other writer
    time.sleep(0.001)
with event.install_recorder("numba:run_pass") as rec:
    f32 = np.float32
    x = np.linspace(-3, 3, 101, dtype=f32)
    fused = cg.numba_ufunc(ew.parse("maximum(erf(x * 0.5) * y + 0.25, 0)", args=("x", "y")),
                           [((101,), f32), ((101,), f32)])
    y = fused(x, x[::-1].copy())
    outs = ew.parse_assignments("m = m * b + g\nw = w - m / (sqrt(m * m) + 1e-7) * lr",
                                ("w", "m", "g", "b", "lr"))
    a, s = ((1,), np.dtype(f32)), ((), np.dtype(f32))
    k = cg.multi_kernel(tuple(t for _, t in outs), tuple(i for i, _ in outs), [a, a, a, s, s])
    w, m = np.ones(101, f32), np.zeros(101, f32)
    loop = k.loop()
    loop(w, m, x, f32(0.9), f32(0.01))
    loop(w, m, x, f32(0.9), f32(0.01))
passes = sum(1 for _, e in rec.buffer if e.kind == "numba:run_pass" and e.is_start)
print(json.dumps({"passes": passes, "stats": kernel_cache.stats,
                  "loop_hits": sum(loop.stats.cache_hits.values()),
                  "values": [v.tobytes().hex() for v in (y, w, m)]}))
"""


def _child_env(cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC, "NDFLOW_CACHE_DIR": str(cache)}
    env.pop("NUMBA_CACHE_DIR", None)  # numba's files go beside the kernels
    env.pop("NDFLOW_KERNEL_CACHE", None)  # the cache on, whatever the suite runs with
    return env


def _run_child(cache: Path, **env: str) -> dict:
    full = _child_env(cache)
    full.update(env)
    out = subprocess.run([sys.executable, "-c", _CHILD], env=full, capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _numba_files(cache: Path) -> dict:
    return {p.name: p.read_bytes() for p in (cache / "kernels" / "__pycache__").iterdir()}


@needs_numba
def test_second_process_loads_compiled_kernels_from_disk(tmp_path):
    first = _run_child(tmp_path)
    assert first["passes"] > 0 and first["stats"]["written"] == 2
    sources = sorted((tmp_path / "kernels").glob("_ndflow_kernel_*.py"))
    assert len(sources) == 2
    stored = _numba_files(tmp_path)
    assert any(n.endswith(".nbi") for n in stored) and any(n.endswith(".nbc") for n in stored)

    second = _run_child(tmp_path)
    assert second["passes"] == 0  # nothing compiled: numba loaded the machine code
    assert second["stats"] == {"written": 0, "reused": 2, "replaced": 0, "unavailable": 0}
    assert second["loop_hits"] == 1
    assert _numba_files(tmp_path) == stored
    # the same source compiled: the same bits as compiling in memory (cache off)
    off = _run_child(tmp_path / "unused", NDFLOW_KERNEL_CACHE="0")
    assert off["passes"] > 0 and not (tmp_path / "unused").exists()
    assert first["values"] == second["values"] == off["values"]


def _use_cache(monkeypatch, folder: Path) -> None:
    monkeypatch.setenv("NDFLOW_CACHE_DIR", str(folder))
    monkeypatch.delenv("NDFLOW_KERNEL_CACHE", raising=False)
    monkeypatch.setattr(kernel_cache, "stats", dict.fromkeys(kernel_cache.stats, 0))


SOURCE = "def kernel(a0):\n    return a0 * 3.0 + OFFSET\n"


def test_altered_file_is_rewritten_before_it_runs(tmp_path, monkeypatch):
    _use_cache(monkeypatch, tmp_path)
    ns = kernel_cache.load(SOURCE, "f8->f8", {"OFFSET": 1.0})
    assert ns["kernel"](2.0) == 7.0
    (path,) = (tmp_path / "kernels").glob("_ndflow_kernel_*.py")
    expected = path.read_bytes()
    assert expected == kernel_cache.file_text(SOURCE, "f8->f8").encode()
    assert ns["kernel"].__code__.co_filename == str(path)
    assert (path.parent.stat().st_mode & 0o777) == 0o700

    tampered = [expected.replace(b"3.0", b"4.0") + b"TAMPERED = True\n",
                expected[:-5],  # cut short
                expected + b"\nTAMPERED = True\n",  # extra code after the expected text
                b"\xff\xfe not even text"]
    for i, bad in enumerate(tampered):
        path.write_bytes(bad)
        ns = kernel_cache.load(SOURCE, "f8->f8", {"OFFSET": 1.0})
        assert "TAMPERED" not in ns and ns["kernel"](2.0) == 7.0
        assert path.read_bytes() == expected
        assert kernel_cache.stats["replaced"] == i + 1
    assert kernel_cache.stats["written"] == 1
    kernel_cache.load(SOURCE, "f8->f8", {"OFFSET": 1.0})
    assert kernel_cache.stats["reused"] == 1
    # nothing but the kernel file is left in the folder (no temporary files)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    # another signature or dependency: another file
    kernel_cache.load(SOURCE, "f4->f4", {"OFFSET": 1.0})
    kernel_cache.load(SOURCE, "f8->f8", {"OFFSET": 1.0}, extra="helper v2")
    assert len(list(path.parent.glob("_ndflow_kernel_*.py"))) == 3


@needs_numba
def test_altered_kernel_file_is_replaced_for_a_fused_group(tmp_path, monkeypatch):
    _use_cache(monkeypatch, tmp_path)
    monkeypatch.setattr(cg, "_NUMBA_CACHE", {})
    tree, specs = ew.parse("x * x + 1.5"), [((4,), np.float64)]
    x = np.arange(4.0)
    np.testing.assert_array_equal(cg.numba_ufunc(tree, specs)(x), x * x + 1.5)
    (path,) = (tmp_path / "kernels").glob("_ndflow_kernel_*.py")
    good = path.read_text()
    path.write_text(good.replace("np.float64(1.5)", "np.float64(100.0)"))
    monkeypatch.setattr(cg, "_NUMBA_CACHE", {})  # a new process, in effect
    np.testing.assert_array_equal(cg.numba_ufunc(tree, specs)(x), x * x + 1.5)
    assert path.read_text() == good and kernel_cache.stats["replaced"] == 1


def _falls_back(folder: Path, monkeypatch) -> None:
    _use_cache(monkeypatch, folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert kernel_cache.load(SOURCE, "f8->f8", {"OFFSET": 1.0}) is None
        assert kernel_cache.load(SOURCE, "f4->f4", {"OFFSET": 1.0}) is None
        if jit.enabled():
            monkeypatch.setattr(cg, "_NUMBA_CACHE", {})
            x = np.arange(4.0)
            np.testing.assert_array_equal(cg.numba_ufunc(ew.parse("x * 0.5"),
                                                         [((4,), np.float64)])(x), x * 0.5)
            k = cg.MultiKernel((ew.parse("x * 0.5 + y"),), (0,), [((1,), np.dtype(np.float64))] * 2)
            y = x.copy()
            k.loop()(y, x)
            np.testing.assert_array_equal(y, x * 0.5 + x)
    assert caught == []
    assert kernel_cache.stats["unavailable"] == 2 + 2 * jit.enabled()
    assert kernel_cache.stats["written"] == 0


def test_folder_that_cannot_be_created_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    _falls_back(blocker / "cache", monkeypatch)


def test_folder_others_may_write_is_not_used(tmp_path, monkeypatch):
    if not hasattr(os, "getuid"):
        pytest.skip("ownership and permission bits are POSIX")
    (tmp_path / "kernels").mkdir(mode=0o700)
    os.chmod(tmp_path / "kernels", 0o777)
    _falls_back(tmp_path, monkeypatch)
    assert list((tmp_path / "kernels").iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write to a read-only folder")
def test_read_only_folder_falls_back_to_memory(tmp_path, monkeypatch):
    (tmp_path / "kernels").mkdir(mode=0o700)
    os.chmod(tmp_path / "kernels", 0o500)
    try:
        _falls_back(tmp_path, monkeypatch)
    finally:
        os.chmod(tmp_path / "kernels", 0o700)


def test_switched_off_writes_nothing(tmp_path, monkeypatch):
    _use_cache(monkeypatch, tmp_path)
    monkeypatch.setenv("NDFLOW_KERNEL_CACHE", "0")
    assert kernel_cache.directory() is None
    assert kernel_cache.load(SOURCE, "f8->f8", {"OFFSET": 1.0}) is None
    assert not (tmp_path / "kernels").exists()


@needs_numba
def test_two_processes_writing_the_same_kernels_leave_whole_files(tmp_path):
    cache, start = tmp_path / "cache", tmp_path / "start"
    env = {**_child_env(cache), "KC_START": str(start)}
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.5)  # both waiting on the start file (a race is likelier, not required)
    start.write_text("go")
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0]["values"] == results[1]["values"]
    folder = cache / "kernels"
    files = sorted(folder.glob("_ndflow_kernel_*.py"))
    assert len(files) == 2 and not list(folder.glob(".tmp-*"))
    for f in files:  # each file is a whole kernel source that ndflow wrote
        text = f.read_text()
        assert text.startswith("# generated by ndflow") and text.endswith("\n")
        compile(text, str(f), "exec")
    # and a third process finds intact sources and numba files: nothing to compile
    third = _run_child(cache)
    assert third["passes"] == 0 and third["stats"]["reused"] == 2
    assert third["values"] == results[0]["values"]

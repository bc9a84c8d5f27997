"""The benchmark environment is made by one command relative to the checkout, and run.py
finds it there by default (no machine-specific absolute path)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_make_env_dry_run_uses_the_checkout(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH / "make_env.py"), "--dry-run"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    venv = BENCH / ".venv"
    assert lines[0].endswith(f"-m venv {venv}")
    assert lines[2].endswith(f"-m pip install -r {BENCH / 'requirements.txt'}")
    assert not venv.exists() or venv.is_dir()  # dry run created nothing new
    reqs = (BENCH / "requirements.txt").read_text().split()
    assert {"numpy", "torch==2.13.0", "keras", "tensorflow-cpu", "jax"} <= set(reqs)


def test_make_env_creates_a_venv_where_asked(tmp_path):
    mod = _load("make_env")
    cmds = mod.commands(tmp_path / "env")
    # create only the venv (no network in tests): the first command, run for real
    subprocess.run(cmds[0] + ["--without-pip"], check=True, timeout=120)
    py = mod.venv_python(tmp_path / "env")
    assert py.exists()
    ver = subprocess.run([str(py), "-c", "import sys; print(sys.prefix)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.samefile(ver, tmp_path / "env")


def test_run_py_defaults_to_the_checkout_env():
    src = (BENCH / "run.py").read_text()
    assert "/work/benchenv" not in src and "/work/benchenv" not in (BENCH / "README.md").read_text()
    assert 'DEFAULT_PYTHON = HERE / ".venv"' in src

"""`python -m ndflow info`: what ndflow runs on — versions, which extras are installed,
devices, NumPy's BLAS and threads, and whether compiled kernels are on.

>>> from ndflow import sysinfo
>>> "numpy" in sysinfo.collect()["versions"]
True
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
import platform
import shutil
import sys
from typing import Any

# extra -> the distributions it installs (pyproject.toml) and, for viz, Graphviz's program
EXTRAS: dict[str, tuple[str, ...]] = {
    "jit": ("numba",),
    "gpu": ("cupy-cuda12x",),
    "onnx": ("onnx", "onnxruntime"),
    "mpi": ("mpi4py",),
    "viz": ("matplotlib", "pydot"),
    "tensorboard": ("tensorboard",),
    "image": ("pillow",),
    "keras-interop": ("keras", "torch"),
}
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _blas() -> dict:
    """NumPy's BLAS as threadpoolctl sees it (threads included) or as NumPy reports it."""
    import numpy as np

    if importlib.util.find_spec("threadpoolctl") is not None:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                return {"name": lib.get("internal_api"), "version": lib.get("version"),
                        "threads": lib.get("num_threads"), "source": "threadpoolctl"}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return {"name": blas.get("name"), "version": blas.get("version"), "threads": None,
                "source": "numpy.show_config"}
    except (TypeError, AttributeError):  # NumPy < 1.25
        return {"name": None, "version": None, "threads": None, "source": None}


def collect() -> dict[str, Any]:
    """Everything `info` prints, as a dict."""
    import numpy as np

    import ndflow
    from ndflow.backend import jit, native_calls, parallel, pool_gemm
    from ndflow.backend.devices import list_physical_devices

    versions = {"ndflow": getattr(ndflow, "__version__", _version("ndflow")),
                "python": platform.python_version(), "numpy": np.__version__,
                "h5py": _version("h5py")}
    extras = {}
    for extra, dists in EXTRAS.items():
        found = {d: _version(d) for d in dists}
        if extra == "viz":
            found["graphviz (dot)"] = shutil.which("dot")
        extras[extra] = found
    try:
        devices = [d.name for d in list_physical_devices()]
    except Exception as e:  # a broken GPU driver must not hide the rest
        devices = [f"/physical_device:CPU:0 (GPU query failed: {e})"]
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "versions": versions,
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "extras": extras,
        "devices": devices,
        "blas": _blas(),
        "threads": {"cpus": os.cpu_count(), "usable": usable, "intra_op": parallel.threads(),
                    # in a compiled graph whose products split into single-thread BLAS calls
                    "intra_op_split": parallel.with_split_products(parallel.threads)()
                    if pool_gemm.worth_splitting() else None,
                    **{k: os.environ[k] for k in _THREAD_VARS if k in os.environ}},
        "compiled_kernels": {"on": jit.enabled(), "numba": _version("numba"),
                             "NDFLOW_JIT": os.environ.get("NDFLOW_JIT"),
                             "numpy_calls": native_calls.gemm(np.float32) is not None
                             and native_calls.unary_loop(np.tanh, np.float32) is not None},
    }


def render(info: dict[str, Any]) -> str:
    v = info["versions"]
    lines = [f"ndflow {v['ndflow']} on Python {v['python']} ({info['platform']})",
             f"numpy {v['numpy']}, h5py {v['h5py']}", "", "extras:"]
    for extra, found in info["extras"].items():
        have = [f"{d} {ver}" if ver and not ver.startswith("/") else d
                for d, ver in found.items() if ver]
        missing = [d for d, ver in found.items() if not ver]
        state = "installed" if not missing else ("partly installed" if have else "not installed")
        detail = ", ".join(have) + (f"; missing {', '.join(missing)}" if have and missing else "")
        lines.append(f"  {extra:<14} {state}{': ' + detail if have else ''}")
    lines += ["", "devices: " + ", ".join(info["devices"])]
    b = info["blas"]
    lines.append(f"BLAS: {b['name'] or 'unknown'} {b['version'] or ''}".rstrip()
                 + (f", {b['threads']} threads" if b["threads"] else "")
                 + (f" (from {b['source']})" if b["source"] else ""))
    t = info["threads"]
    env = ", ".join(f"{k}={v}" for k, v in t.items()
                    if k not in ("cpus", "usable", "intra_op", "intra_op_split"))
    split = t.get("intra_op_split")
    lines.append(f"CPUs: {t['cpus']} ({t['usable']} usable by this process), "
                 f"{t['intra_op']} thread{'s' if t['intra_op'] != 1 else ''} per op"
                 + (f" ({split} in graphs whose products split into single-thread BLAS calls)"
                    if split and split != t["intra_op"] else "") + (f"; {env}" if env else ""))
    c = info["compiled_kernels"]
    why = (f"numba {c['numba']}" if c["numba"]
           else 'numba not installed: pip install "ndflow[jit]"')
    if c["NDFLOW_JIT"] is not None:
        why += f", NDFLOW_JIT={c['NDFLOW_JIT']}"
    if c["on"]:
        why += ("; recurrent kernels call NumPy's BLAS and tanh" if c["numpy_calls"]
                else "; recurrent kernels step in Python (NumPy's BLAS not reachable)")
    lines.append(f"compiled kernels: {'on' if c['on'] else 'off'} ({why})")
    return "\n".join(lines)


def main() -> int:
    sys.stdout.write(render(collect()) + "\n")
    return 0

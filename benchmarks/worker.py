"""Run ONE (workload, framework) benchmark in this process and print its result as JSON.

Used by run.py, one subprocess per pair; can be run by hand too:

    python benchmarks/worker.py W5 torch --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import traceback

import common
from common import RESULT_MARK, Skip, env_info

MODULES = {"W5": "w5_eager", "W5f": "w5f_function", "L": "l_limits", "W1": "w1_mlp",
           "W2": "w2_convnet"}

# What must be importable for a framework to run (else the pair is skipped with a note).
REQUIRES = {
    "ndflow": ["ndflow.keras"],  # W1, W2; W5/W5f need only ndflow (see below)
    "ndflow-eager": ["ndflow.keras"],
    "torch": ["torch"],
    "tensorflow": ["tensorflow"],
    "keras-jax": ["keras", "jax"],
    "keras-tensorflow": ["keras", "tensorflow"],
    "numpy": ["numpy"],
    "numpy-hand": ["numpy"],
}


def missing_modules(workload: str, framework: str) -> list[str]:
    needs = REQUIRES.get(framework, [])
    if framework == "ndflow" and workload not in ("W1", "W2"):
        needs = ["ndflow"]
    out = []
    for name in needs:
        try:
            if importlib.util.find_spec(name) is None:
                out.append(name)
        except ModuleNotFoundError:  # parent package missing
            out.append(name)
    return out


def blas_info() -> list[dict]:
    try:
        import threadpoolctl
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{k: d.get(k) for k in keep} for d in threadpoolctl.threadpool_info()]


def emit(payload: dict) -> None:
    sys.stdout.write(RESULT_MARK + json.dumps(payload) + "\n")
    sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=sorted(MODULES))
    ap.add_argument("framework")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=1, help="W1: epochs per timed region")
    ap.add_argument("--passes", type=int, default=1, help="W1: predict passes per region")
    ap.add_argument("--repeats", type=int, default=None, help="override the repeats (3)")
    args = ap.parse_args()
    if args.repeats is not None:
        common.REPEATS_OVERRIDE = max(1, args.repeats)

    missing = missing_modules(args.workload, args.framework)
    if missing:
        emit({"framework": args.framework, "workload": args.workload,
              "skipped": f"not importable here: {', '.join(missing)}"})
        return 0
    module = importlib.import_module(MODULES[args.workload])
    runner = module.RUNNERS.get(args.framework)
    if runner is None:
        emit({"framework": args.framework, "workload": args.workload,
              "skipped": f"no {args.framework} implementation of {args.workload}"})
        return 0
    try:
        if args.workload == "W1":
            res = runner(args.quick, args.epochs, args.passes)
        else:
            res = runner(args.quick)
    except Skip as e:
        emit({"framework": args.framework, "workload": args.workload, "skipped": str(e)})
        return 0
    except Exception as e:
        traceback.print_exc()
        emit({"framework": args.framework, "workload": args.workload,
              "error": f"{type(e).__name__}: {e}"[:500]})
        return 1
    res.info.setdefault("python", platform.python_version())
    import numpy

    res.info["numpy"] = numpy.__version__
    res.info["env"] = env_info()
    res.info["blas"] = blas_info()
    res.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run by test_kops_more_vs_keras.py in a subprocess with KERAS_BACKEND=torch: evaluates the
shared table (kops_more_cases.py) on Keras 3 and writes <out>/keras.npz (arrays, with their
dtypes) and <out>/keras.json (errors)."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import kops_more_cases as cases  # noqa: E402

import keras  # noqa: E402


def main(out: str) -> None:
    res = cases.run_all(keras)
    arrays, errors = {}, {}
    for name, v in res.items():
        if isinstance(v, str):
            errors[name] = v
            continue
        for i, a in enumerate(v):
            arrays[f"{name}#{i}"] = a
    np.savez(os.path.join(out, "keras.npz"), **arrays)
    with open(os.path.join(out, "keras.json"), "w") as f:
        json.dump({"errors": errors, "counts": {n: len(v) for n, v in res.items()
                                                if not isinstance(v, str)}}, f)


if __name__ == "__main__":
    main(sys.argv[1])

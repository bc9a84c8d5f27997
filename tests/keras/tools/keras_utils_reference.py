"""Run by test_utils_vs_keras.py in a subprocess with KERAS_BACKEND=torch: computes Keras 3's
results for the shared table of cases (tools_cases.py) and writes them to
<out>/keras.npz (arrays) and <out>/keras.json (everything else)."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import tools_cases as cases  # noqa: E402

import keras  # noqa: E402


def main(root: str, out: str) -> None:
    arrays: dict = {}
    info = cases.run_all(keras, root, arrays)
    np.savez(os.path.join(out, "keras.npz"), **arrays)
    with open(os.path.join(out, "keras.json"), "w") as f:
        json.dump(info, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

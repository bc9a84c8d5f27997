"""Record real Keras 3's structure of every application variant the tests check
(keras_structure.json): run with the keras-interop extra installed,

    KERAS_BACKEND=torch python tests/keras/applications/make_keras_structure.py

The tests compare ndflow's models with this file without starting Keras (the deep variants
are too slow to build in Keras at every test run); numeric interop runs live in the tests.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
from structure import summary  # noqa: E402
from variants import VARIANTS  # noqa: E402

if __name__ == "__main__":
    path = os.path.join(os.path.dirname(__file__), "keras_structure.json")
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            out = json.load(f)
    only = set(sys.argv[1:])
    for key, (module, fn, kwargs) in VARIANTS.items():
        if only and key not in only and module not in only:
            continue
        keras.backend.clear_session()
        owner = getattr(keras.applications, module) if module else keras.applications
        model = getattr(owner, fn)(weights=None, **kwargs)
        out[key] = summary(model)
        print(key, out[key]["params"], flush=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    os.replace(tmp, path)

"""Record real Keras 3's structure of every application variant the tests check
(keras_structure.json): run with the keras-interop extra installed,

    KERAS_BACKEND=torch python tests/keras/applications/make_keras_structure.py [KEY|MODULE ...]

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


def build(module, fn, kwargs):
    owner = getattr(keras.applications, module) if module else keras.applications
    if fn == "NASNetMobile" and keras.backend.backend() == "torch":
        # Keras 3.15 refuses NASNetMobile on the torch backend (a guard, not a structural
        # difference): build what NASNetMobile builds through the generic NASNet
        from keras.src.applications import nasnet

        kw = dict(kwargs)
        if not kw.get("include_top", True) and kw.get("input_shape") is None:
            kw["input_shape"] = (224, 224, 3)
        return nasnet.NASNet(penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                             skip_reduction=False, filter_multiplier=2, default_size=224,
                             weights=None, name=kw.pop("name", "nasnet_mobile"), **kw)
    return getattr(owner, fn)(weights=None, **kwargs)


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
        out[key] = summary(build(module, fn, kwargs))
        print(key, out[key]["params"], flush=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    os.replace(tmp, path)

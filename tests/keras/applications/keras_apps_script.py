"""Run by the application tests in a subprocess with real Keras 3 (torch backend).

usage: python keras_apps_script.py FOLDER
FOLDER/specs.json lists models ({"key", "module", "fn", "kwargs", "legacy"}); FOLDER/x_<key>.npy
is each model's input. For each model this writes FOLDER/meta_<key>.json (layer names, weight
shapes, parameter count), FOLDER/k_<key>.weights.h5 (Keras's weights, perturbed so that biases
and BatchNormalization statistics are not trivial), FOLDER/k_<key>.h5 (the same in the legacy
layout, when "legacy"), FOLDER/kout_<key>.npy (Keras's output), and, when ndflow's weights file
FOLDER/nd_<key>.weights.h5 exists, FOLDER/kfromnd_<key>.npy (Keras's output with them).
FOLDER/pre.json, when present, asks for `preprocess_input`/`decode_predictions` results.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402


def perturb(model, seed):
    rng = np.random.default_rng(seed)
    for v in model.weights:
        val = np.asarray(keras.ops.convert_to_numpy(v))
        name = v.path.split("/")[-1]
        if not np.issubdtype(val.dtype, np.floating):
            continue
        if "variance" in name:
            val = rng.uniform(0.5, 1.5, val.shape)
        elif name in ("gamma", "scale") and np.all(val == 1):
            val = rng.uniform(0.8, 1.2, val.shape)
        elif not np.any(val):
            val = rng.normal(0, 0.05, val.shape)
        else:
            continue
        v.assign(val.astype(v.dtype))


def run_models(folder):
    from keras.src.legacy.saving import legacy_h5_format
    import h5py

    with open(os.path.join(folder, "specs.json")) as f:
        specs = json.load(f)
    for spec in specs:
        keras.backend.clear_session()
        key = spec["key"]
        if spec["module"].startswith("src:"):  # a family's generic builder
            import importlib

            module = importlib.import_module("keras.src.applications." + spec["module"][4:])
        else:
            module = (getattr(keras.applications, spec["module"]) if spec["module"]
                      else keras.applications)
        model = getattr(module, spec["fn"])(weights=None, **spec["kwargs"])
        meta = {
            "name": model.name,
            "layers": [[la.name, type(la).__name__,
                        [list(w.shape) for w in la.weights]] for la in model.layers],
            "params": int(model.count_params()),
            "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        }
        with open(os.path.join(folder, f"meta_{key}.json"), "w") as f:
            json.dump(meta, f)
        if not spec.get("numeric", True):
            keras.backend.clear_session()
            continue
        x = np.load(os.path.join(folder, f"x_{key}.npy"))
        nd_file = os.path.join(folder, f"nd_{key}.weights.h5")
        if os.path.exists(nd_file):
            model.load_weights(nd_file)
            out = keras.ops.convert_to_numpy(model(x, training=False))
            np.save(os.path.join(folder, f"kfromnd_{key}.npy"), out)
        perturb(model, spec.get("seed", 0))
        model.save_weights(os.path.join(folder, f"k_{key}.weights.h5"))
        if spec.get("legacy"):
            with h5py.File(os.path.join(folder, f"k_{key}.h5"), "w") as f:
                legacy_h5_format.save_weights_to_hdf5_group(f, model)
        out = keras.ops.convert_to_numpy(model(x, training=False))
        np.save(os.path.join(folder, f"kout_{key}.npy"), out)
        keras.backend.clear_session()


def run_preprocessing(folder):
    from keras.src.applications import imagenet_utils

    with open(os.path.join(folder, "pre.json")) as f:
        req = json.load(f)
    x = np.load(os.path.join(folder, "pre_x.npy"))
    for module_name in req["modules"]:
        module = getattr(keras.applications, module_name)
        out = module.preprocess_input(np.array(x, copy=True))
        np.save(os.path.join(folder, f"pre_{module_name}.npy"),
                keras.ops.convert_to_numpy(out))
    with open(os.path.join(folder, "class_index.json")) as f:
        imagenet_utils.CLASS_INDEX = json.load(f)
    preds = np.load(os.path.join(folder, "preds.npy"))
    decoded = imagenet_utils.decode_predictions(preds, top=req["top"])
    with open(os.path.join(folder, "decoded.json"), "w") as f:
        json.dump([[[a, b, float(s)] for a, b, s in row] for row in decoded], f)


if __name__ == "__main__":
    folder = sys.argv[1]
    if os.path.exists(os.path.join(folder, "specs.json")):
        run_models(folder)
    if os.path.exists(os.path.join(folder, "pre.json")):
        run_preprocessing(folder)

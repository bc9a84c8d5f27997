"""Run by test_new_optimizers.py in a subprocess with real Keras 3 (torch backend).

usage: python keras_optimizer_script.py steps CASES.json DATA.npz OUT.npz
       python keras_optimizer_script.py save DIR   (DIR/files.json: {name: optimizer config})
       python keras_optimizer_script.py load DIR

steps:
For each case: Keras variables named after DATA's "path:<i>" entries start from "init:<i>",
the optimizer deserialized from the case's config applies the gradients "grad:<step>:<i>"
(a variable left out of a case gets no gradient), and OUT gets the final variables
"<case>:var:<i>", every optimizer variable "<case>:opt:<j>" and the optimizer's config JSON.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402


def _snapshot_reads(opt):
    """Make reads of the optimizer's slot variables snapshots, as on Keras's JAX and TF
    backends. On torch `Variable.value` is the live tensor that `assign` overwrites in place,
    so ScheduleFreeAdamW's ``momentum_old = momentum.value`` sees the updated momentum there;
    on JAX/TF (and in the paper's algorithm) it is the value before the update."""
    import torch

    base = type(opt.variables[-1])

    class SnapshotVariable(base):
        @property
        def value(self):
            return base.value.fget(self).clone()

        def _direct_assign(self, value):
            with torch.no_grad():
                self._value.copy_(value)

    for v in opt.variables[2:]:
        v.__class__ = SnapshotVariable


def main(cases_path, data_path, out_path):
    with open(cases_path) as f:
        cases = json.load(f)
    data = np.load(data_path)
    paths = json.loads(str(data["paths"]))
    out = {}
    for name, case in cases.items():
        idx = case["variables"]
        variables = [keras.Variable(data[f"init:{i}"], name=paths[i].split("/")[-1])
                     for i in idx]
        for v, i in zip(variables, idx):
            v._path = paths[i]  # the path a layer would give it (Muon and OptimizerMap read it)
        opt = keras.optimizers.deserialize(case["optimizer"])
        if isinstance(opt, str):  # Keras 3.15's optimizers.deserialize does not know Lamb
            spec = case["optimizer"]
            opt = getattr(keras.optimizers, spec["class_name"]).from_config(spec["config"])
        if case.get("snapshot_reads"):
            opt.build(variables)
            _snapshot_reads(opt)
        for step in range(case["steps"]):
            grads = [keras.ops.convert_to_tensor(data[f"{name}:grad:{step}:{i}"]) for i in idx]
            opt.apply(grads, variables)
        for k, v in zip(idx, variables):
            out[f"{name}:var:{k}"] = keras.ops.convert_to_numpy(v.value)
        for j, v in enumerate(opt.variables):
            out[f"{name}:opt:{j}"] = keras.ops.convert_to_numpy(v.value)
        out[f"{name}:config"] = np.array(json.dumps(keras.optimizers.serialize(opt)))
    np.savez(out_path, **out)


def _model():
    inp = keras.Input((3,))
    x = keras.layers.Dense(4, name="d1")(inp)
    x = keras.layers.Dense(2, name="d2")(x)
    return keras.Model(inp, x)


def _deserialize(spec):
    opt = keras.optimizers.deserialize(spec)
    if isinstance(opt, str):  # Keras 3.15's optimizers.deserialize does not know Lamb
        opt = getattr(keras.optimizers, spec["class_name"]).from_config(spec["config"])
    return opt


def save_files(folder):
    """Train a small model with each optimizer for 3 steps and save it (Keras -> ndflow)."""
    with open(os.path.join(folder, "files.json")) as f:
        specs = json.load(f)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 3)).astype("float32")
    y = rng.standard_normal((12, 2)).astype("float32")
    out = {}
    for name, spec in specs.items():
        model = _model()
        model.compile(optimizer=_deserialize(spec), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        model.save(os.path.join(folder, f"keras_{name}.keras"))
        for j, v in enumerate(model.optimizer.variables):
            out[f"{name}:opt:{j}"] = keras.ops.convert_to_numpy(v.value)
    np.savez(os.path.join(folder, "keras_saved.npz"), **out)


def load_files(folder):
    """Load each ndflow-saved file and dump its optimizer state (ndflow -> Keras)."""
    with open(os.path.join(folder, "files.json")) as f:
        specs = json.load(f)
    out = {}
    for name in specs:
        model = keras.saving.load_model(os.path.join(folder, f"ndflow_{name}.keras"))
        out[f"{name}:class"] = np.array(type(model.optimizer).__name__)
        for j, v in enumerate(model.optimizer.variables):
            out[f"{name}:opt:{j}"] = keras.ops.convert_to_numpy(v.value)
    np.savez(os.path.join(folder, "keras_loaded.npz"), **out)


if __name__ == "__main__":
    if sys.argv[1] == "steps":
        main(*sys.argv[2:5])
    elif sys.argv[1] == "save":
        save_files(sys.argv[2])
    else:
        load_files(sys.argv[2])

"""Run by test_new_optimizers.py in a subprocess with real Keras 3 (torch backend).

usage: python keras_optimizer_script.py CASES.json DATA.npz OUT.npz

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


if __name__ == "__main__":
    main(*sys.argv[1:4])

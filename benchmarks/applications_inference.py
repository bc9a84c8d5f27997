"""Inference speed of keras.applications models: ndflow side by side with Keras 3 (the backend
installed: torch here; TensorFlow when installed) and torchvision when it is installed.

usage: python benchmarks/applications_inference.py [--models ResNet50,MobileNetV2,...]
           [--batches 1,32] [--size 224] [--reps 3]

Each framework runs in its own subprocess (so they never share a process or threads). A run
builds the model with random weights (weights=None: the speed does not depend on the values),
calls it once on the batch to warm up, then times `reps` calls and reports the median
seconds per batch and images per second. The machine load (os.getloadavg) is printed with
the results: numbers taken on a busy machine are only comparable within one run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

MODELS = ["ResNet50", "MobileNetV2", "EfficientNetB0", "VGG16"]
TORCHVISION = {"ResNet50": "resnet50", "MobileNetV2": "mobilenet_v2",
               "EfficientNetB0": "efficientnet_b0", "VGG16": "vgg16"}


def _time_calls(call, x, reps: int) -> float:
    call(x)  # warm-up (and, for ndflow, the first trace)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_one(framework: str, model_name: str, batch: int, size: int, reps: int) -> float:
    import numpy as np

    x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
    if framework == "ndflow":
        from ndflow import keras

        model = getattr(keras.applications, model_name)(weights=None,
                                                        input_shape=(size, size, 3))
        return _time_calls(lambda a: model.predict(a, batch_size=batch, verbose=0), x, reps)
    if framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        model = getattr(keras.applications, model_name)(weights=None,
                                                        input_shape=(size, size, 3))
        return _time_calls(lambda a: model.predict(a, batch_size=batch, verbose=0), x, reps)
    if framework == "torchvision":
        import torch
        import torchvision

        model = getattr(torchvision.models, TORCHVISION[model_name])(weights=None).eval()
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

        def call(a):
            with torch.inference_mode():
                return model(a)
        return _time_calls(call, xt, reps)
    raise ValueError(f"unknown framework {framework!r}")


def frameworks() -> list:
    out = ["ndflow"]
    if importlib.util.find_spec("keras") is not None:
        out.append("keras")
    if importlib.util.find_spec("torchvision") is not None:
        out.append("torchvision")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--batches", default="1,32")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--one", nargs=3, metavar=("FRAMEWORK", "MODEL", "BATCH"),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        fw, model, batch = args.one
        print(json.dumps({"seconds": run_one(fw, model, int(batch), args.size, args.reps)}))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.join(here, "..", "src"), os.environ.get("PYTHONPATH", "")]),
        KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "torch"), CUDA_VISIBLE_DEVICES="")
    fws = frameworks()
    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}; "
          f"frameworks: {fws}; image {args.size}x{args.size}; median of {args.reps}")
    print(f"{'model':<16}{'batch':>6}" + "".join(f"{fw + ' s/batch':>20}{'img/s':>9}"
                                                 for fw in fws))
    for model in args.models.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            row = f"{model:<16}{batch:>6}"
            for fw in fws:
                proc = subprocess.run([sys.executable, __file__, "--one", fw, model, str(batch),
                                       "--size", str(args.size), "--reps", str(args.reps)],
                                      env=env, capture_output=True, text=True)
                if proc.returncode != 0:
                    row += f"{'failed':>20}{'':>9}"
                    print(proc.stderr[-2000:], file=sys.stderr)
                    continue
                sec = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
                row += f"{sec:>20.3f}{batch / sec:>9.1f}"
            print(row, flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""Fuzz the `.keras` loader with 2,000 seeded mutations of valid files.

Mutations: raw byte edits of the zip (caught by the zip layer), raw edits with the CRCs
recomputed (so corrupted JSON/HDF5 reach their parsers), structural edits of config.json
(values replaced by hostile ones, keys deleted, classes renamed, code injected) and of the
weights (datasets deleted, reshaped, retyped, linked elsewhere). Every case must end in a
ValueError or, for a harmless mutation, a model that works; never another exception, a crash,
a hang or a file written anywhere. The counts are printed (run with -s to see them).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import tempfile
import time

import h5py
import numpy as np
import pytest

from ndflow import keras
from tests.keras.saving import hostile_files as hf

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]

HOSTILE_VALUES = [None, True, -1, 0, 10**9, 2**63, -(10**12), 1e308, float("nan"), "",
                  "relu", "../../etc/passwd", [], [None], [10**9, 10**9], {}, {"a": 1},
                  {"class_name": "__lambda__", "config": {"value": ["AAAA", None, None]}},
                  {"module": "os", "class_name": "function", "config": "system",
                   "registered_name": "system"},
                  {"module": "builtins", "class_name": "eval", "config": {},
                   "registered_name": None},
                  {"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}},
                  {"class_name": "__tuple__", "config": {"value": 5}},
                  "x" * 10000]


def _paths(obj, prefix=()):
    """All (path, value) pairs of a JSON tree."""
    out = [(prefix, obj)]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(_paths(v, prefix + (i,)))
    return out


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def _delete(obj, path):
    for p in path[:-1]:
        obj = obj[p]
    if isinstance(obj, dict):
        del obj[path[-1]]
    else:
        obj.pop(path[-1])


def mutate_config(cfg: dict, rng: random.Random) -> dict:
    cfg = copy.deepcopy(cfg)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p, _ in _paths(cfg) if p]
        path = rng.choice(paths)
        op = rng.random()
        if op < 0.55:
            _set(cfg, path, copy.deepcopy(rng.choice(HOSTILE_VALUES)))
        elif op < 0.75:
            _delete(cfg, path)
        elif op < 0.9:
            # rename a class or point it to another module
            dicts = [p for p, v in _paths(cfg) if isinstance(v, dict) and "class_name" in v]
            if dicts:
                target = rng.choice(dicts)
                node = cfg
                for p in target:
                    node = node[p]
                node["class_name"] = rng.choice(["Dense", "Lambda", "Sequential", "Functional",
                                                 "InputLayer", "Adam", "NoSuch", "__lambda__",
                                                 "Model", "system", "function"])
                if rng.random() < 0.3:
                    node["module"] = rng.choice(["os", "subprocess", "keras.layers", "builtins",
                                                 "ndflow.keras.saving.saving_lib"])
        else:
            # duplicate a subtree somewhere else (deep/odd structures)
            src = copy.deepcopy(rng.choice([v for _, v in _paths(cfg)]))
            _set(cfg, path, src)
    return cfg


def mutate_weights(weights: bytes, rng: random.Random) -> bytes:
    def edit(h5):
        names = []
        h5.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        name = rng.choice(names)
        parent, key = name.rsplit("/", 1)
        op = rng.randrange(7)
        data = h5[name][()]
        del h5[name]
        if op == 0:
            return  # deleted
        if op == 1:
            h5[parent].create_dataset(key, data=np.zeros(np.asarray(data).size + 1, "f4"))
        elif op == 2:
            h5[parent].create_dataset(key, data=np.asarray(data).astype("S8"))
        elif op == 3:
            h5[parent][key] = h5py.SoftLink("/" + rng.choice(names))
        elif op == 4:
            h5[parent][key] = h5py.ExternalLink(rng.choice(["/etc/passwd", "x.h5"]), "/a")
        elif op == 5:
            h5[parent].create_dataset(key, shape=(2**20, 2**20), dtype="f4", chunks=(1, 256))
        else:
            h5[parent].create_dataset(key, data=np.asarray(data))
            h5[parent].create_dataset(key + "x", data=np.zeros(3, "f4"))
    return hf.copy_h5(weights, edit)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    op = rng.randrange(5)
    if op == 0:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == 1:
        i = rng.randrange(len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == 2:
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 256)]
    elif op == 3:
        b = b[: rng.randrange(len(b))]
    else:
        i, j = sorted(rng.randrange(len(b)) for _ in range(2))
        b[j:j] = b[i:i + 512]
    return bytes(b)


def generate(bases: list, n_raw: int, n_crc: int, n_cfg: int, n_h5: int, seed: int = 1234):
    rng = random.Random(seed)
    for _ in range(n_raw):
        yield "raw", mutate_bytes(rng.choice(bases), rng)
    for _ in range(n_crc):
        yield "raw+crc", hf.fix_crc(mutate_bytes(rng.choice(bases), rng))
    for _ in range(n_cfg):
        base = rng.choice(bases)
        parts = hf.members(base)
        cfg = mutate_config(json.loads(parts["config.json"]), rng)
        yield "config", hf.rezip(parts, **{"config.json": json.dumps(cfg).encode()})
    for _ in range(n_h5):
        base = rng.choice(bases)
        parts = hf.members(base)
        yield "weights", hf.rezip(parts, **{"model.weights.h5": mutate_weights(
            parts["model.weights.h5"], rng)})


# Messages Python or NumPy write on their own: an error that carries one was not caught and
# explained by ndflow, whatever type it has.
BARE_MESSAGES = re.compile(
    r"object is not (iterable|subscriptable|callable)|invalid literal for|could not convert|"
    r"unsupported operand|has no attribute|positional argument|unexpected keyword argument|"
    r"cannot be interpreted as an integer|object of type .* has no len|index out of range|"
    r"not supported between instances|must be real number|unhashable type|"
    r"could not broadcast|operands could not be|must be str, not|argument must be|"
    r"maximum recursion depth|division by zero|math domain error|overflow encountered|"
    r"only integer scalar arrays|setting an array element with a sequence|"
    r"object cannot be interpreted|expected str, bytes or os.PathLike")
NDFLOW_SRC = os.path.dirname(keras.__file__).rsplit(os.sep, 1)[0]


def unclear(e: BaseException) -> str | None:
    """Why an error is not one of ndflow's clear errors (None if it is): a generic wrapper
    around an unexpected exception, an error raised inside NumPy/Python rather than by
    ndflow's own checks, a bare Python message, or one too short to explain anything."""
    from ndflow.keras.saving.saving_api import UnexpectedLoadError

    if isinstance(e, UnexpectedLoadError):
        return "wrapped unexpected exception"
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None and not tb.tb_frame.f_code.co_filename.startswith(NDFLOW_SRC):
        return f"raised outside ndflow ({tb.tb_frame.f_code.co_filename})"
    if BARE_MESSAGES.search(str(e)):
        return "bare Python/NumPy message"
    if len(str(e)) < 30:
        return "too short"
    return None


def test_fuzz_loader(tmp_path, monkeypatch):
    bases = [hf.valid_file_bytes(tmp_path, "sequential"),
             hf.valid_file_bytes(tmp_path, "functional"),
             hf.valid_file_bytes(tmp_path, "sequential", compiled=False)]
    work = tmp_path / "work"
    work.mkdir()
    target = work / "fuzz.keras"
    tmp_root = tmp_path / "tmp"  # the loader's scratch space, watched for leftovers
    tmp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_root))
    counts: dict = {}
    problems: list = []
    cwd = os.getcwd()
    os.chdir(work)
    t_start = time.perf_counter()
    slowest, over_5s = 0.0, 0
    try:
        for i, (kind, payload) in enumerate(generate(bases, 600, 500, 700, 200)):
            target.write_bytes(payload)
            t0 = time.perf_counter()
            try:
                model = keras.models.load_model(str(target))
            except ValueError as e:
                outcome = "ValueError"
                why = unclear(e)
                if why:
                    outcome = "unclear ValueError"
                    problems.append(f"#{i} {kind}: {why}: {type(e).__name__}: {str(e)[:300]}")
            except Exception as e:  # noqa: BLE001 - anything else is a failure
                outcome = type(e).__name__
                problems.append(f"#{i} {kind}: {type(e).__name__}: {str(e)[:300]}")
            else:
                outcome = "loaded (harmless mutation)"
                x = [np.ones((2, 4), "float32"), np.ones((2, 2), "float32")]
                try:  # a model that loads must also run
                    model.predict(x if len(model.inputs) == 2 else x[0], verbose=0)
                except ValueError:
                    pass
            dt = time.perf_counter() - t0
            slowest = max(slowest, dt)
            if dt > 5:
                over_5s += 1
            if dt > 30:  # a hang, whatever the machine's speed
                problems.append(f"#{i} {kind}: took {dt:.1f} s")
            counts[(kind, outcome)] = counts.get((kind, outcome), 0) + 1
    finally:
        os.chdir(cwd)
    total = sum(counts.values())
    print(f"\nfuzz: {total} files in {time.perf_counter() - t_start:.1f} s; slowest load "
          f"{slowest:.2f} s, {over_5s} over 5 s")
    for (kind, outcome), n in sorted(counts.items()):
        print(f"  {kind:8s} {outcome:28s} {n}")
    assert total >= 2000
    assert not problems, "\n".join(problems[:30])
    assert sorted(os.listdir(work)) == ["fuzz.keras"], "files were written next to the target"
    assert os.listdir(tmp_root) == [], "the loader left scratch files behind"
    rejected = sum(n for (k, o), n in counts.items() if o == "ValueError")
    assert rejected >= 0.7 * total

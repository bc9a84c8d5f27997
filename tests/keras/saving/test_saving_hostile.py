"""Hand-crafted truncated, corrupted and hostile files: each one must end in a clear
ValueError (naming the problem), never another exception, a crash, a hang, or a write outside
the target."""

from __future__ import annotations

import copy
import json
import os
import time
import zipfile

import h5py
import numpy as np
import pytest

from ndflow import keras
from tests.keras.saving import hostile_files as hf

L = keras.layers


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("base")
    data = hf.valid_file_bytes(d)
    return data, hf.members(data)


def _cfg(parts) -> dict:
    return json.loads(parts["config.json"])


def _with_cfg(parts, cfg) -> bytes:
    return hf.rezip(parts, **{"config.json": json.dumps(cfg).encode()})


def _layer_cfgs(cfg) -> list:
    return cfg["config"]["layers"]


_CODE = "4wAAAAAAAAAAAAAAAAEAAAADAAAA8wQAAACXAHwAUwApAU6pAKkB2gF4cwEAAAAg"  # marshal bytes


def _hostile_cases(data: bytes, parts: dict) -> dict:
    weights = parts["model.weights.h5"]
    cases: dict = {}
    cases["empty file"] = b""
    cases["random bytes"] = np.random.default_rng(0).bytes(3000)
    cases["a weights file renamed .keras"] = weights
    cases["truncated zip (half)"] = data[: len(data) // 2]
    cases["truncated zip (no central dir)"] = data[:-30]
    cases["no config.json"] = hf.rezip(parts, **{"config.json": None})
    cases["no weights"] = hf.rezip(parts, **{"model.weights.h5": None})
    cases["config not json"] = hf.rezip(parts, **{"config.json": b"{not json"})
    cases["config not utf-8"] = hf.rezip(parts, **{"config.json": b"\xff\xfe\x00"})
    cases["config is a list"] = hf.rezip(parts, **{"config.json": b"[1, 2]"})
    cases["config deeply nested"] = hf.rezip(parts, **{"config.json": hf.deep_json(100_000)})
    cases["metadata not an object"] = hf.rezip(parts, **{"metadata.json": b"42"})
    cfg = _cfg(parts)
    c = copy.deepcopy(cfg)
    c["class_name"] = "NoSuchModel"
    cases["unknown class"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c["class_name"] = 12
    cases["class_name not a string"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c.update(module="os", class_name="system", registered_name="system")
    cases["class from os"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c.update(module="builtins", class_name="eval", registered_name=None)
    cases["builtins eval"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c["class_name"] = "__lambda__"
    c["config"] = {"value": ["YWJj", None, None]}
    cases["top-level lambda"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1] = {"module": "keras.layers", "class_name": "Lambda",
                         "config": {"name": "lam", "function": {
                             "class_name": "__lambda__",
                             "config": {"value": [_CODE, None, None]}}},
                         "registered_name": None}
    cases["Lambda with bytecode"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1] = {"module": "keras.layers", "class_name": "Lambda",
                         "config": {"name": "lam", "function": {
                             "module": "os", "class_name": "function", "config": "system",
                             "registered_name": "system"}}, "registered_name": None}
    cases["Lambda calling os.system"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["activation"] = {"module": "subprocess", "class_name": "function",
                                                 "config": "getoutput",
                                                 "registered_name": "getoutput"}
    cases["activation from subprocess"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["units"] = 10**9
    cases["huge units"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["units"] = -3
    cases["negative units"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["units"] = "three"
    cases["units a string"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["units"] = float("nan")
    cases["units NaN"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[0]["config"]["batch_shape"] = [None, 10**12]
    cases["huge input shape"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["unexpected_argument"] = 1
    cases["unknown layer argument"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    del _layer_cfgs(c)[1]["config"]["units"]
    cases["missing layer argument"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c["config"]["layers"] = "dense"
    cases["layers not a list"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c["compile_config"]["optimizer"] = {"module": "keras.optimizers", "class_name": "Adam",
                                        "config": {"learning_rate": "fast"},
                                        "registered_name": None}
    cases["bad optimizer config"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c["compile_config"]["loss"] = "no_such_loss"
    cases["unknown loss"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    c["build_config"] = {"input_shape": [None, -5]}
    c["config"]["layers"] = c["config"]["layers"][1:]
    cases["negative build shape"] = _with_cfg(parts, c)
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["kernel_initializer"] = {
        "class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "object"}}
    cases["object-dtype numpy in config"] = _with_cfg(parts, c)
    # --- path traversal and odd member names
    for name in ("../evil.txt", "/abs/evil.txt", "a/../../evil.txt", "C:\\evil.txt",
                 "assets/..\\..\\evil.txt"):
        cases[f"member name {name!r}"] = hf.make_zip(list(parts.items()) + [(name, b"x")])
    cases["duplicate config.json"] = hf.make_zip(list(parts.items()) +
                                                 [("config.json", b"{}")])
    cases["encrypted member flag"] = hf.set_flag_bits(data, "config.json", 0x1)
    cases["bzip2 member"] = hf.make_zip(list(parts.items()), compression=zipfile.ZIP_BZIP2)
    # --- sizes
    cases["zip bomb weights"] = hf.bomb_member("model.weights.h5", 80 << 20,
                                               {"config.json": parts["config.json"]})
    cases["oversized config (65 MiB)"] = hf.bomb_member("config.json", 65 << 20)
    cases["lying size: config"] = hf.lying_size_zip(parts, "config.json", 10)
    cases["lying size: weights"] = hf.lying_size_zip(parts, "model.weights.h5", 2**31)
    # --- hostile weights
    def edit(fn):
        return hf.rezip(parts, **{"model.weights.h5": hf.copy_h5(weights, fn)})

    def wrong_shape(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset("0", data=np.zeros((5, 3), "float32"))
    cases["weights: wrong shape"] = edit(wrong_shape)
    cases["weights: missing dataset"] = edit(lambda h5: h5["layers/dense/vars"].__delitem__("1"))
    cases["weights: missing layer group"] = edit(lambda h5: h5["layers"].__delitem__("dense_1"))
    cases["weights: extra dataset"] = edit(lambda h5: h5["layers/dense/vars"].create_dataset(
        "2", data=np.zeros(3)))
    cases["weights: extra layer"] = edit(lambda h5: h5.create_dataset(
        "layers/dense_9/vars/0", data=np.zeros(3)))

    def string_ds(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars"].create_dataset("1", data=np.array([b"a", b"b", b"c"]))
    cases["weights: string dataset"] = edit(string_ds)

    def compound(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars"].create_dataset(
            "1", data=np.zeros(3, dtype=[("a", "f4"), ("b", "i4")]))
    cases["weights: compound dataset"] = edit(compound)

    def ext_link(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars/1"] = h5py.ExternalLink("/etc/passwd", "/x")
    cases["weights: external link"] = edit(ext_link)

    def soft_link(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars/1"] = h5py.SoftLink("/layers/batch_normalization/vars/0")
    cases["weights: soft link"] = edit(soft_link)

    def ext_group(h5):
        del h5["layers/dense"]
        h5["layers/dense"] = h5py.ExternalLink("other.h5", "/layers/dense")
    cases["weights: external group link"] = edit(ext_group)

    def huge_declared(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset("0", shape=(10**6, 10**6), dtype="f4",
                                               chunks=(1, 1024))
    cases["weights: huge declared dataset"] = edit(huge_declared)

    def group_for_dataset(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_group("0")
    cases["weights: group instead of dataset"] = edit(group_for_dataset)

    def dataset_for_group(h5):
        del h5["layers/dense/vars"]
        h5["layers/dense"].create_dataset("vars", data=np.zeros(3))
    cases["weights: dataset instead of vars group"] = edit(dataset_for_group)

    def bad_seed_attr(h5):
        h5["layers/dense/vars"].attrs["ndflow_seed_generators"] = "[[1"
    cases["weights: bad seed attribute"] = edit(bad_seed_attr)
    cases["weights: not hdf5"] = hf.rezip(parts, **{"model.weights.h5": b"\x89HDF\r\n\x1a\n" +
                                                    b"\x00" * 500})
    cases["weights: truncated hdf5"] = hf.rezip(parts, **{
        "model.weights.h5": weights[: len(weights) // 3]})
    cases["weights: huge units matching fake data"] = None  # filled below
    c = copy.deepcopy(cfg)
    _layer_cfgs(c)[1]["config"]["units"] = 50_000_000

    def fake_big(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset("0", shape=(4, 50_000_000), dtype="f4",
                                               chunks=(1, 1 << 16))
    cases["weights: huge units matching fake data"] = hf.rezip(
        parts, **{"config.json": json.dumps(c).encode(),
                  "model.weights.h5": hf.copy_h5(weights, fake_big)})
    return cases


def test_hostile_files_give_clear_value_errors(base, tmp_path):
    data, parts = base
    cases = _hostile_cases(data, parts)
    work = tmp_path / "work"
    work.mkdir()
    before = set(os.listdir(tmp_path))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        problems = []
        for name, payload in cases.items():
            path = work / "hostile.keras"
            path.write_bytes(payload)
            t0 = time.perf_counter()
            try:
                keras.models.load_model(str(path))
                problems.append(f"{name}: loaded without error")
            except ValueError as e:
                if len(str(e)) < 20:
                    problems.append(f"{name}: unclear message {str(e)!r}")
            except Exception as e:  # noqa: BLE001 - any other type is a failure
                problems.append(f"{name}: {type(e).__name__}: {e}")
            if time.perf_counter() - t0 > 20:
                problems.append(f"{name}: took {time.perf_counter() - t0:.1f} s")
    finally:
        os.chdir(cwd)
    assert not problems, "\n".join(problems)
    assert set(os.listdir(work)) == {"hostile.keras"}, "something was written next to it"
    assert set(os.listdir(tmp_path)) == before
    assert not os.path.exists(tmp_path / "evil.txt")
    assert len(cases) >= 50


def test_specific_messages(base, tmp_path):
    data, parts = base
    cases = _hostile_cases(data, parts)
    expect = {
        "empty file": "zip",
        "member name '../evil.txt'": "path traversal",
        "zip bomb weights": "max_expansion_ratio",
        "Lambda with bytecode": "safe mode",
        "Lambda calling os.system": "safe mode",
        "activation from subprocess": "safe mode",
        "weights: external link": "ExternalLink",
        "weights: wrong shape": "shape",
        "huge units": "more than the weights file holds",
        "unknown class": "NoSuchModel",
        "no weights": "model.weights.h5",
    }
    for name, pattern in expect.items():
        path = tmp_path / "h.keras"
        path.write_bytes(cases[name])
        with pytest.raises(ValueError, match=pattern):
            keras.models.load_model(str(path))


def test_lambda_loads_with_safe_mode_false(tmp_path):
    i = keras.Input((3,))
    model = keras.Model(i, L.Lambda(lambda t: t * 3.0 + 1.0)(i))
    path = str(tmp_path / "lam.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, safe_mode=False)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x * 3.0 + 1.0)


def test_load_weights_hostile(base, tmp_path):
    _, parts = base
    model = hf.small_model()
    p = tmp_path / "w.weights.h5"

    def ext(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/")
    for payload in (b"", b"junk" * 10, parts["model.weights.h5"][:200],
                    hf.copy_h5(parts["model.weights.h5"], ext)):
        p.write_bytes(payload)
        with pytest.raises(ValueError):
            model.load_weights(str(p))


def test_fifo_is_refused(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    p = tmp_path / "fifo.keras"
    os.mkfifo(p)
    with pytest.raises(ValueError, match="regular file"):
        keras.models.load_model(str(p))
    with pytest.raises(ValueError, match="not found"):
        keras.models.load_model(str(tmp_path / "missing.keras"))
    with pytest.raises(ValueError, match="folder"):
        keras.models.load_model(str(tmp_path))

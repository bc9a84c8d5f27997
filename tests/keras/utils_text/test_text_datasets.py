"""keras.datasets.imdb / reuters on files the tests make, processed like real Keras 3 (Keras
itself runs the same files in a subprocess, torch backend), plus the cache, hash and offline
behaviour and the refusal of files that would unpickle code."""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ndflow.keras.datasets import imdb, reuters


def _seqs(rng, n, vocab=60):
    out = np.empty(n, object)
    out[:] = [[int(v) for v in rng.integers(1, vocab, rng.integers(1, 30))] for _ in range(n)]
    return out


def _write_fakes(folder):
    rng = np.random.default_rng(0)
    np.savez(os.path.join(folder, "imdb.npz"), x_train=_seqs(rng, 40),
             y_train=rng.integers(0, 2, 40), x_test=_seqs(rng, 30), y_test=rng.integers(0, 2, 30))
    np.savez(os.path.join(folder, "reuters.npz"), x=_seqs(rng, 50),
             y=rng.integers(0, 46, 50))
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in ("imdb.npz", "reuters.npz")}


CASES = [
    {}, {"num_words": 20}, {"num_words": 25, "skip_top": 5, "maxlen": 15},
    {"start_char": None, "oov_char": None, "num_words": 30, "index_from": 0},
    {"seed": 7, "index_from": 2},
]

_KERAS = r'''
import json, sys
import keras
from keras.src.datasets import imdb, reuters
folder, cases = sys.argv[1], json.loads(sys.argv[2])
for mod in (imdb, reuters):
    mod.get_file = lambda fname=None, **kw: f"{folder}/{fname}"
out = {"imdb": [], "reuters": []}
for kw in cases:
    for name, mod in (("imdb", imdb), ("reuters", reuters)):
        (a, b), (c, d) = mod.load_data(**kw)
        out[name].append([[list(map(int, s)) for s in a], b.tolist(),
                          [list(map(int, s)) for s in c], d.tolist()])
json.dump(out, sys.stdout)
'''


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    hashes = _write_fakes(str(folder))
    monkeypatch.setattr(imdb, "FILE_HASH", hashes["imdb.npz"])
    monkeypatch.setattr(reuters, "FILE_HASH", hashes["reuters.npz"])
    return folder


def test_loaders_match_keras_on_the_same_files(fakes):
    for mod in ("keras", "torch"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} (ndflow[keras-interop]) is not installed")
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", _KERAS, str(fakes), json.dumps(CASES)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ref = json.loads(proc.stdout)
    for i, kw in enumerate(CASES):
        for name, mod in (("imdb", imdb), ("reuters", reuters)):
            (a, b), (c, d) = mod.load_data(**kw)
            assert a.dtype == object and c.dtype == object
            got = [[list(s) for s in a], b.tolist(), [list(s) for s in c], d.tolist()]
            assert got == ref[name][i], (name, kw)
    assert len(reuters.get_label_names()) == 46


def test_word_index_from_the_cache(fakes, monkeypatch):
    (fakes / "imdb_word_index.json").write_text(json.dumps({"good": 1, "bad": 2}))
    md5 = hashlib.md5((fakes / "imdb_word_index.json").read_bytes()).hexdigest()
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH", md5)
    assert imdb.get_word_index() == {"good": 1, "bad": 2}


def test_offline_without_cache_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(imdb, "ORIGIN_FOLDER", "http://127.0.0.1:9/")
    with pytest.raises(ConnectionError, match="could not download .*imdb.npz.*copy it to"):
        imdb.load_data()


def test_files_that_would_run_code_are_refused(fakes, monkeypatch):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = np.empty(1, object)
    bad[0] = Evil()
    path = str(fakes / "reuters.npz")
    with open(path, "wb") as f:
        np.savez(f, x=bad, y=np.zeros(1, int))
    monkeypatch.setattr(reuters, "FILE_HASH",
                        hashlib.sha256(open(path, "rb").read()).hexdigest())
    with pytest.raises(ValueError, match="refused to load (posix|os).system"):
        reuters.load_data()

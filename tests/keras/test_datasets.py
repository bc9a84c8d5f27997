"""keras.datasets: the bundled digits (shapes, dtypes, fixed split, licence note) and
mnist.load_data's cache/checksum/offline behaviour, without touching the network."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from ndflow.keras.datasets import digits, mnist
from ndflow.keras.utils import file_utils


def test_digits_shapes_dtypes_and_split():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert x_train.max() == 255 and x_train.min() == 0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # stratified: 35 or 36 test images per class (20%)
    assert set(np.bincount(y_test)) <= {35, 36, 37}


def test_digits_is_fixed_and_raw_counts():
    (a, ya), (b, yb) = digits.load_data()
    (a2, ya2), (b2, yb2) = digits.load_data()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(yb, yb2)
    (r, yr), (rt, _) = digits.load_data(raw=True)
    assert r.max() == 16
    np.testing.assert_array_equal(np.rint(r.astype(np.float32) * 255 / 16).astype(np.uint8), a)
    # train and test are disjoint rows of the original 1,797-image CSV
    with np.load(digits.DATA_FILE) as f:
        tr, te = f["train_index"], f["test_index"]
    assert len(set(tr.tolist()) | set(te.tolist())) == 1797
    assert not set(tr.tolist()) & set(te.tolist())
    # a fingerprint of the split: changing the data or the split must be deliberate
    h = hashlib.sha256(np.concatenate([r.ravel(), rt.ravel(), yr]).tobytes()).hexdigest()
    assert h[:12] == _FINGERPRINT


_FINGERPRINT = "9a52c4867a79"


def test_digits_licence_note_ships_beside_the_data():
    text = open(digits.LICENSE_FILE).read()
    assert "CC BY 4.0" in text or "Creative Commons Attribution 4.0" in text
    assert "Alpaydin" in text


def _fake_mnist(path):
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 255, (6, 28, 28), dtype=np.uint8),
             y_train=np.arange(6, dtype=np.uint8), x_test=np.zeros((2, 28, 28), np.uint8),
             y_test=np.array([1, 2], np.uint8))
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_mnist_uses_local_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    os.makedirs(tmp_path / "datasets")
    sha = _fake_mnist(tmp_path / "datasets" / "mnist.npz")
    monkeypatch.setattr(mnist, "FILE_HASH", sha)
    # an origin that cannot be reached proves the cache is used without a download
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", "http://127.0.0.1:9/")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8
    assert y_test.tolist() == [1, 2]


def test_mnist_offline_without_cache_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", "http://127.0.0.1:9/")
    with pytest.raises(ConnectionError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert "127.0.0.1:9/mnist.npz" in msg
    assert str(tmp_path / "datasets" / "mnist.npz") in msg


def test_mnist_bad_checksum_redownloads_and_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    os.makedirs(tmp_path / "datasets")
    _fake_mnist(tmp_path / "datasets" / "mnist.npz")  # hash differs from Keras's real file
    calls = []

    def fake_download(origin, dest, timeout):
        calls.append(origin)
        with open(dest, "wb") as f:
            f.write(b"not the real file")

    monkeypatch.setattr(file_utils, "_download", fake_download)
    with pytest.raises(ValueError, match="corrupted or incomplete"):
        mnist.load_data()
    assert calls == [mnist.ORIGIN_FOLDER + "mnist.npz"]
    assert not os.path.exists(tmp_path / "datasets" / "mnist.npz")


def test_mnist_download_path_with_verified_hash(tmp_path, monkeypatch):
    src = tmp_path / "src.npz"
    sha = _fake_mnist(src)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "FILE_HASH", sha)
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", src.parent.as_uri() + "/")
    monkeypatch.setattr(file_utils, "_download", lambda origin, dest, timeout: open(
        dest, "wb").write(open(src, "rb").read()))
    (x, _), _ = mnist.load_data(path="mnist.npz")
    assert x.shape == (6, 28, 28)
    assert os.path.exists(tmp_path / "home" / "datasets" / "mnist.npz")


def test_keras_constants_match_keras():
    assert mnist.ORIGIN_FOLDER == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    assert mnist.FILE_HASH == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

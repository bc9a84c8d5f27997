"""keras.datasets loaders (fashion_mnist, cifar10, cifar100, boston_housing,
california_housing): files the test makes in a temporary cache, the real download code
against a local HTTP server, checksums, and the offline error. No internet."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import socket
import tarfile
import threading

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras.datasets import (
    boston_housing, california_housing, cifar10, cifar100, fashion_mnist,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    # nothing may reach the internet: a closed local port as every origin
    dead = f"http://127.0.0.1:{_closed_port()}/"
    for mod in (fashion_mnist, cifar10, cifar100):
        monkeypatch.setattr(mod, "ORIGIN_FOLDER", dead)
    from ndflow.keras.datasets import housing

    monkeypatch.setattr(housing, "ORIGIN_FOLDER", dead)
    return home / "datasets"


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _idx(path, header, payload):
    with gzip.open(path, "wb") as f:
        f.write(header + payload.tobytes())


def test_fashion_mnist_reads_the_cached_idx_files(cache):
    d = cache / "fashion-mnist"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    xtr = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    xte = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    _idx(d / "train-labels-idx1-ubyte.gz", b"\0" * 8, np.arange(5, dtype=np.uint8))
    _idx(d / "train-images-idx3-ubyte.gz", b"\0" * 16, xtr)
    _idx(d / "t10k-labels-idx1-ubyte.gz", b"\0" * 8, np.array([9, 8, 7], np.uint8))
    _idx(d / "t10k-images-idx3-ubyte.gz", b"\0" * 16, xte)
    (a, b), (c, e) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(a, xtr)
    np.testing.assert_array_equal(c, xte)
    assert b.tolist() == [0, 1, 2, 3, 4] and e.tolist() == [9, 8, 7]
    assert a.dtype == b.dtype == np.uint8
    _idx(d / "t10k-images-idx3-ubyte.gz", b"\0" * 16, xte[:2])
    with pytest.raises(ValueError, match="damaged"):
        keras.datasets.fashion_mnist.load_data()


def _cifar_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _records(labels, images):
    return b"".join(bytes(lab) + img.tobytes() for lab, img in zip(labels, images))


def _make_cifar10(path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (12, 3, 32, 32), dtype=np.uint8)
    labels = [[i % 10] for i in range(12)]
    members = {f"cifar-10-batches-bin/data_batch_{i}.bin":
               _records(labels[2 * (i - 1):2 * i], imgs[2 * (i - 1):2 * i]) for i in range(1, 6)}
    members["cifar-10-batches-bin/test_batch.bin"] = _records(labels[10:], imgs[10:])
    _cifar_tar(path, members)
    return imgs, np.array(labels, np.uint8)


def test_cifar10_reads_the_binary_archive(cache, monkeypatch):
    cache.mkdir(parents=True)
    imgs, labels = _make_cifar10(cache / cifar10.FNAME)
    monkeypatch.setattr(cifar10, "FILE_HASH", _md5(cache / cifar10.FNAME))
    (xtr, ytr), (xte, yte) = keras.datasets.cifar10.load_data()
    assert xtr.shape == (10, 32, 32, 3) and ytr.shape == (10, 1) and xte.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(xtr, imgs[:10].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(yte, labels[10:])
    keras.config.set_image_data_format("channels_first")
    try:
        (xtr, _), _ = keras.datasets.cifar10.load_data()
    finally:
        keras.config.set_image_data_format("channels_last")
    np.testing.assert_array_equal(xtr, imgs[:10])


def test_cifar100_fine_and_coarse(cache, monkeypatch):
    cache.mkdir(parents=True)
    rng = np.random.default_rng(2)
    imgs = rng.integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    labels = [[i, 50 + i] for i in range(5)]  # coarse, fine
    _cifar_tar(cache / cifar100.FNAME, {
        "cifar-100-binary/train.bin": _records(labels[:3], imgs[:3]),
        "cifar-100-binary/test.bin": _records(labels[3:], imgs[3:])})
    monkeypatch.setattr(cifar100, "FILE_HASH", _md5(cache / cifar100.FNAME))
    (x, y), (xt, yt) = keras.datasets.cifar100.load_data()
    assert y.ravel().tolist() == [50, 51, 52] and yt.ravel().tolist() == [53, 54]
    np.testing.assert_array_equal(xt, imgs[3:].transpose(0, 2, 3, 1))
    (_, y), _ = keras.datasets.cifar100.load_data(label_mode="coarse")
    assert y.ravel().tolist() == [0, 1, 2] and y.shape == (3, 1)
    with pytest.raises(ValueError, match="label_mode"):
        keras.datasets.cifar100.load_data(label_mode="medium")


def _housing(path, n, k):
    x = np.arange(n * k, dtype=np.float64).reshape(n, k)
    y = np.arange(n, dtype=np.float64) * 2
    np.savez(path, x=x, y=y)
    return x, y


@pytest.mark.parametrize("mod,k", [(boston_housing, 13), (california_housing, 8)])
def test_housing_split_is_keras_seeded_shuffle(cache, monkeypatch, mod, k):
    cache.mkdir(parents=True)
    name = "boston_housing.npz" if mod is boston_housing else "california_housing.npz"
    x, y = _housing(cache / name, 700, k)
    monkeypatch.setattr(mod, "FILE_HASH", _sha256(cache / name))
    (xtr, ytr), (xte, yte) = mod.load_data(test_split=0.25, seed=7)
    idx = np.arange(700)
    np.random.RandomState(7).shuffle(idx)
    np.testing.assert_array_equal(xtr, x[idx[:525]])
    np.testing.assert_array_equal(yte, y[idx[525:]])
    assert xtr.shape == (525, k) and xte.shape == (175, k)
    with pytest.raises(ValueError, match="test_split"):
        mod.load_data(test_split=1.0)
    if mod is california_housing:
        (xs, _), (xst, _) = mod.load_data(version="small")
        assert len(xs) + len(xst) == 600 and set(xs[:, 0] // k) <= set(range(600))
        with pytest.raises(ValueError, match="version"):
            mod.load_data(version="tiny")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **kw: _Quiet(*a, directory=str(root), **kw)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_download_then_cache_then_checksum(cache, server, monkeypatch, capsys):
    root, url = server
    imgs, _ = _make_cifar10(root / cifar10.FNAME)
    monkeypatch.setattr(cifar10, "ORIGIN_FOLDER", url)
    monkeypatch.setattr(cifar10, "FILE_HASH", _md5(root / cifar10.FNAME))
    (x, _), _ = keras.datasets.cifar10.load_data()
    assert "Downloading data from" in capsys.readouterr().out
    assert (cache / cifar10.FNAME).exists()
    np.testing.assert_array_equal(x, imgs[:10].transpose(0, 2, 3, 1))
    # cached: no second download even with the server gone
    (root / cifar10.FNAME).unlink()
    keras.datasets.cifar10.load_data()
    assert "Downloading" not in capsys.readouterr().out
    # a server copy that does not match the checksum is refused and not kept
    (cache / cifar10.FNAME).unlink()
    (root / cifar10.FNAME).write_bytes(b"not the archive")
    with pytest.raises(ValueError, match="corrupted or incomplete"):
        keras.datasets.cifar10.load_data()
    assert not (cache / cifar10.FNAME).exists()


@pytest.mark.parametrize("load", [fashion_mnist.load_data, cifar10.load_data,
                                  cifar100.load_data, boston_housing.load_data,
                                  california_housing.load_data])
def test_offline_error_says_where_to_put_the_file(cache, load):
    with pytest.raises(ConnectionError, match="could not download") as e:
        load()
    assert str(cache) in str(e.value) and "KERAS_HOME" in str(e.value)

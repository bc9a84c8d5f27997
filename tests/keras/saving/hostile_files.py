"""Builders of valid, corrupted and hostile `.keras` files for the saving tests."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
import zlib

import h5py
import numpy as np

from ndflow import keras

L = keras.layers


def small_model(kind: str = "sequential"):
    keras.utils.set_random_seed(0)
    if kind == "sequential":
        model = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="relu"),
                                  L.BatchNormalization(), L.Dense(2)])
    else:
        a = keras.Input((4,), name="a")
        b = keras.Input((2,), name="b")
        h = L.Concatenate()([L.Dense(3)(a), b])
        model = keras.Model([a, b], [L.Dense(2)(h), L.Dense(1)(h)])
    return model


def valid_file_bytes(tmp_dir, kind: str = "sequential", compiled: bool = True) -> bytes:
    model = small_model(kind)
    if compiled:
        model.compile(keras.optimizers.Adam(1e-2), "mse")
        x = np.ones((4, 4), "float32")
        if kind == "sequential":
            model.fit(x, np.ones((4, 2), "float32"), verbose=0)
        else:
            model.fit([x, np.ones((4, 2), "float32")],
                      [np.ones((4, 2), "float32"), np.ones((4, 1), "float32")], verbose=0)
    path = f"{tmp_dir}/base_{kind}_{int(compiled)}.keras"
    model.save(path)
    with open(path, "rb") as f:
        return f.read()


def members(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


def make_zip(entries, compression=zipfile.ZIP_STORED) -> bytes:
    """``entries``: list of (name, bytes) or (ZipInfo, bytes); duplicates allowed."""
    bio = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(bio, "w", compression=compression) as zf:
        warnings.simplefilter("ignore")  # duplicate names are wanted in some cases
        for name, payload in entries:
            if isinstance(name, zipfile.ZipInfo):
                zf.writestr(name, payload)
            else:
                zf.writestr(name, payload)
    return bio.getvalue()


def rezip(parts: dict, **replace) -> bytes:
    parts = dict(parts)
    parts.update(replace)
    return make_zip([(k, v) for k, v in parts.items() if v is not None])


def h5_bytes(build) -> bytes:
    """An h5 file made by ``build(h5py.File)``."""
    bio = io.BytesIO()
    with h5py.File(bio, "w") as h5:
        build(h5)
    return bio.getvalue()


def copy_h5(src: bytes, edit) -> bytes:
    """A copy of an h5 file's groups/datasets, then ``edit(h5)`` applied."""
    bio = io.BytesIO()
    with h5py.File(io.BytesIO(src), "r") as old, h5py.File(bio, "w") as new:
        for key in old:
            old.copy(old[key], new, name=key)
        for k, v in old.attrs.items():
            new.attrs[k] = v
        edit(new)
    return bio.getvalue()


def deep_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def bomb_member(name: str, size: int, others: dict | None = None) -> bytes:
    """A zip with one deflated member of ``size`` zero bytes (a high compression ratio)."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for k, v in (others or {}).items():
            zf.writestr(k, v)
        with zf.open(name, "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
    return bio.getvalue()


def lying_size_zip(parts: dict, name: str, fake_size: int) -> bytes:
    """Rewrite the declared uncompressed size of member ``name`` in both headers."""
    data = bytearray(make_zip(list(parts.items())))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(name)
    off = info.header_offset
    data[off + 22:off + 26] = (fake_size & 0xFFFFFFFF).to_bytes(4, "little")
    cd = data.rfind(b"PK\x01\x02" + data[off + 4:off + 6])  # central entries
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        hdr_off = int.from_bytes(data[pos + 42:pos + 46], "little")
        if hdr_off == off:
            data[pos + 24:pos + 28] = (fake_size & 0xFFFFFFFF).to_bytes(4, "little")
        pos += 4
    del cd
    return bytes(data)


def fix_crc(zip_bytes: bytes) -> bytes:
    """Recompute every member's CRC-32 (so corrupted contents reach the parsers)."""
    data = bytearray(zip_bytes)
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
            infos = zf.infolist()
    except Exception:
        return zip_bytes
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            continue
        off = info.header_offset
        name_len = int.from_bytes(data[off + 26:off + 28], "little")
        extra_len = int.from_bytes(data[off + 28:off + 30], "little")
        start = off + 30 + name_len + extra_len
        payload = bytes(data[start:start + info.compress_size])
        crc = zlib.crc32(payload).to_bytes(4, "little")
        data[off + 14:off + 18] = crc
        pos = 0
        while True:
            pos = data.find(b"PK\x01\x02", pos)
            if pos < 0:
                break
            if int.from_bytes(data[pos + 42:pos + 46], "little") == off:
                data[pos + 16:pos + 20] = crc
            pos += 4
    return bytes(data)


def config_of(data: bytes) -> dict:
    return json.loads(members(data)["config.json"])


def set_flag_bits(zip_bytes: bytes, name: str, bits: int) -> bytes:
    """Set general-purpose flag bits of member ``name`` in both headers."""
    data = bytearray(zip_bytes)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        off = zf.getinfo(name).header_offset
    flags = int.from_bytes(data[off + 6:off + 8], "little") | bits
    data[off + 6:off + 8] = flags.to_bytes(2, "little")
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        if int.from_bytes(data[pos + 42:pos + 46], "little") == off:
            data[pos + 8:pos + 10] = flags.to_bytes(2, "little")
        pos += 4
    return bytes(data)

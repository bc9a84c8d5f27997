"""`get_file`: download a file into the Keras cache (``$KERAS_HOME`` or ``~/.keras``) once,
verify its hash and reuse the cached copy afterwards.

>>> import os, tempfile
>>> d = tempfile.mkdtemp(); open(os.path.join(d, "a.txt"), "w").write("hi")
2
>>> get_file("a.txt", origin="http://127.0.0.1:9/a.txt", cache_dir=d, cache_subdir="")[-5:]
'a.txt'
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from typing import Any


def keras_home() -> str:
    """``$KERAS_HOME`` if set, else ``~/.keras``."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def hash_file(path: str, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """Hex digest of a file ("sha256" or "md5")."""
    h = hashlib.sha256() if algorithm in ("sha256", "auto") else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()


def validate_file(path: str, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's hash equals `file_hash` ("auto": sha256 for 64 hex chars, else md5)."""
    if algorithm == "auto":
        algorithm = "sha256" if len(file_hash) == 64 else "md5"
    return hash_file(path, algorithm) == file_hash.lower()


def _cache_dir(cache_dir: str | None, cache_subdir: str) -> str:
    base = os.path.expanduser(cache_dir) if cache_dir else keras_home()
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir) if cache_subdir else base
    os.makedirs(datadir, exist_ok=True)
    return datadir


def _download(origin: str, dest: str, timeout: float) -> None:
    tmp = dest + ".part"
    try:
        with urllib.request.urlopen(origin, timeout=timeout) as r, open(tmp, "wb") as out:
            shutil.copyfileobj(r, out, 1 << 20)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto",
             cache_dir: str | None = None, force_download: bool = False,
             timeout: float = 60.0, **kwargs: Any) -> str:
    """Path of `fname` in the cache, downloading it from `origin` first when it is missing,
    when its hash does not match `file_hash`, or when `force_download` is set.

    Raises a `ConnectionError` naming the URL and the cache path when the file is not cached
    and cannot be downloaded (e.g. offline), and a `ValueError` when a download does not
    match `file_hash`.
    """
    if origin is None:
        raise ValueError('get_file: expected the URL to download from (origin="https://...")')
    if fname is None:
        fname = os.path.basename(urllib.request.urlparse(origin).path) or "download"
    if untar or extract:
        raise ValueError("get_file: archive extraction is not supported by ndflow; download "
                         "the archive and extract it with the tarfile/zipfile modules")
    file_hash = file_hash or md5_hash
    if os.path.isabs(fname):
        path = fname
        os.makedirs(os.path.dirname(path), exist_ok=True)
    else:
        path = os.path.join(_cache_dir(cache_dir, cache_subdir), fname)

    need = force_download or not os.path.exists(path)
    if not need and file_hash is not None and not validate_file(path, file_hash,
                                                                hash_algorithm):
        print(f"get_file: the cached file {path} does not match the expected hash "
              f"{file_hash}; downloading it again.")
        need = True
    if not need:
        return path

    print(f"Downloading data from {origin}")
    try:
        _download(origin, path, timeout)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise ConnectionError(
            f"get_file: could not download {origin} ({e}). The file is not in the cache at "
            f"{path}. Check the network connection, or download the file on a machine that "
            f"is online and copy it to {path} (set KERAS_HOME to use another cache folder)."
        ) from None
    if file_hash is not None and not validate_file(path, file_hash, hash_algorithm):
        got = hash_file(path, "sha256" if len(file_hash) == 64 else "md5")
        os.remove(path)
        raise ValueError(f"get_file: the file downloaded from {origin} is corrupted or "
                         f"incomplete: expected hash {file_hash}, got {got}. Try again.")
    return path

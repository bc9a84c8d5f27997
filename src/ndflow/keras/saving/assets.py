"""Asset files of a `.keras` archive: what objects write with `save_assets(dir_path)` and
read back with `load_assets(dir_path)` (e.g. the vocabulary of a lookup layer), stored as
Keras 3 stores them, under ``assets/<object path>/`` in the zip.

Loading stays within the safe-loading rules: only plain file names directly inside an
object's own asset folder are extracted (no sub-paths, no ``..``), each into a fresh temporary
folder that is removed afterwards, and their total size is bounded by
``LoadLimits.max_asset_bytes``. Nothing in an asset is imported or run; the object's own
`load_assets` parses it.

>>> from ndflow.keras.saving.assets import asset_prefix
>>> asset_prefix("layers/text_vectorization")
'assets/layers/text_vectorization/'
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import Any

from ndflow.keras.saving import file_io, limits
from ndflow.keras.saving.file_io import FileFormatError

ASSETS_DIR = "assets"


def asset_prefix(path: str) -> str:
    """The zip folder of the assets of the object at h5 path ``path``."""
    return f"{ASSETS_DIR}/{path}/" if path else f"{ASSETS_DIR}/"


def _has(obj: Any, method: str) -> bool:
    return callable(getattr(obj, method, None))


def write_assets(zf: zipfile.ZipFile, saveables: list) -> None:
    """Call `save_assets` of each ``(path, object)`` that has it and add what it wrote."""
    for path, obj in saveables:
        if not _has(obj, "save_assets"):
            continue
        with tempfile.TemporaryDirectory(prefix="ndflow-assets-") as tmp:
            obj.save_assets(tmp)
            for root, _dirs, files in os.walk(tmp):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                    zf.write(full, asset_prefix(path) + rel)


def load_assets(zr: file_io.SafeZipReader, saveables: list, where: str) -> None:
    """Give each object with `load_assets` the files of its asset folder (if the archive has
    one), extracted into a temporary folder."""
    names = zr.names()
    budget = limits.get_load_limits().max_asset_bytes
    for path, obj in saveables:
        if not _has(obj, "load_assets"):
            continue
        prefix = asset_prefix(path)
        mine = [n for n in names if n.startswith(prefix) and len(n) > len(prefix)
                and "/" not in n[len(prefix):]]
        if not mine:
            continue
        with tempfile.TemporaryDirectory(prefix="ndflow-assets-") as tmp:
            for name in mine:
                base = name[len(prefix):]
                if base in (".", "..") or "\\" in base or "\x00" in base:
                    raise FileFormatError(f"Invalid file {where}: asset member {name!r} has an "
                                          "unsafe name")
                data = zr.read_bytes(name, budget)
                budget -= len(data)
                if budget < 0:
                    raise limits.exceeded(where, "the total size of the asset files",
                                          limits.get_load_limits().max_asset_bytes + 1,
                                          "max_asset_bytes")
                with open(os.path.join(tmp, base), "wb") as f:
                    f.write(data)
            obj.load_assets(tmp)

"""Atomic file writes and defensive reading of `.keras` zip archives.

Every save goes to a temporary file in the target's folder, is flushed and fsync'ed, then
`os.replace`d over the target (and the folder is fsync'ed), so a crash at any moment leaves
either the previous file or the new one, never a torn file.

Reading a zip checks every member name (no absolute paths, ``..``, backslashes or drive
letters), the declared sizes (limits and compression ratio, against zip bombs) and reads with
bounded buffers; members are never extracted by their own names.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_write", "SafeZipReader", "FileFormatError", "READ_ERRORS"]

# Limits on what a file may declare (a genuine model stays far below them).
MAX_WEIGHTS_BYTES = 64 << 30       # model.weights.h5 (uncompressed)
MAX_MEMBERS = 100_000
RATIO_FLOOR = 16 << 20             # members may expand freely up to this size

# Exceptions that malformed input can raise from zipfile / zlib / json / h5py.
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
               struct.error, KeyError, IndexError, TypeError, AttributeError, OverflowError,
               UnicodeDecodeError, NotImplementedError, RuntimeError, RecursionError,
               MemoryError, ValueError)


class FileFormatError(ValueError):
    """A saved file is truncated, corrupted, hostile or not in the expected format."""


def _limits() -> Any:
    from ndflow.keras.saving.limits import get_load_limits

    return get_load_limits()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def fsync_dir(dirname: str) -> None:
    """Flush a folder's entry table to disk (no-op where folders cannot be opened)."""
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[tuple[IO[bytes], str]]:
    """Yield ``(file, temp_path)`` for writing; on success the temp file replaces ``path``.

    On any error (or interruption) the temp file is removed and ``path`` is untouched.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> with atomic_write(p) as (f, _):
    ...     _ = f.write(b"ok")
    >>> open(p, "rb").read()
    b'ok'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to {path!r}: the folder {folder!r} does not "
                                "exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to {path!r}: it is a folder")
    base = os.path.basename(path)
    remove_stale_temp_files(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}.", suffix=".tmp", dir=folder)
    ok = False
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f, tmp
            if not f.closed:  # (a caller that wrote by path closed it and fsync'ed itself)
                f.flush()
                os.fsync(f.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
        ok = True
        fsync_dir(folder)
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_temp_files(path: str | os.PathLike) -> list[str]:
    """Remove the temp files that interrupted saves of ``path`` left (``.<name>.<pid>.*.tmp``
    whose writing process no longer exists); returns their names.

    A save killed between creating its temp file and renaming it cannot clean up after
    itself, so the next save of the same file does it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid == os.getpid() or _process_alive(pid):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, name))
            removed.append(name)
    return removed


def check_member_name(name: str) -> None:
    """Refuse zip member names that could point outside an extraction folder."""
    if not name or "\x00" in name:
        raise FileFormatError(f"Invalid file: the archive has a member with an empty or NUL "
                              f"name ({name!r})")
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise FileFormatError(f"Invalid file: the archive member {name!r} has an absolute or "
                              "non-portable path (possible path traversal)")
    parts = name.split("/")
    if any(p == ".." for p in parts):
        raise FileFormatError(f"Invalid file: the archive member {name!r} contains '..' "
                              "(path traversal)")


class SafeZipReader:
    """Read-only view of a `.keras` zip that validates it before anything is read."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        try:
            self._zf = zipfile.ZipFile(self.path, "r")
        except READ_ERRORS as e:
            raise FileFormatError(f"Cannot read {self.path!r} as a .keras file: it is not a "
                                  f"valid zip archive ({type(e).__name__}: {e})") from None
        try:
            self._check()
        except BaseException:
            self._zf.close()
            raise

    def _check(self) -> None:
        infos = self._zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise FileFormatError(f"Invalid file {self.path!r}: the archive has {len(infos)} "
                                  f"members (more than {MAX_MEMBERS})")
        seen: set = set()
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            check_member_name(name)
            if name in seen:
                raise FileFormatError(f"Invalid file {self.path!r}: the archive holds "
                                      f"{name!r} twice")
            seen.add(name)
            if info.flag_bits & 0x1:
                raise FileFormatError(f"Invalid file {self.path!r}: member {name!r} is "
                                      "encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise FileFormatError(f"Invalid file {self.path!r}: member {name!r} uses an "
                                      f"unsupported compression method ({info.compress_type})")
            if info.file_size < 0 or info.compress_size < 0:
                raise FileFormatError(f"Invalid file {self.path!r}: member {name!r} declares "
                                      "a negative size")
            ratio = _limits().max_expansion_ratio
            if info.file_size > RATIO_FLOOR and \
                    info.file_size > ratio * max(info.compress_size, 1):
                from ndflow.keras.saving.limits import exceeded

                raise exceeded(f"{self.path!r}",
                               f"the expansion ratio of member {name!r} ({info.file_size:,} "
                               f"bytes from {info.compress_size:,} compressed bytes)",
                               info.file_size // max(info.compress_size, 1),
                               "max_expansion_ratio")
            self._infos[name] = info

    def names(self) -> list[str]:
        return list(self._infos)

    def has(self, name: str) -> bool:
        return name in self._infos

    def read_bytes(self, name: str, limit: int) -> bytes:
        info = self._infos.get(name)
        if info is None:
            raise FileFormatError(f"Invalid file {self.path!r}: the archive has no {name!r} "
                                  f"(members: {sorted(self._infos)[:20]})")
        if info.file_size > limit:
            raise FileFormatError(f"Invalid file {self.path!r}: {name!r} declares "
                                  f"{info.file_size} bytes (limit {limit})")
        try:
            with self._zf.open(info) as f:
                data = f.read(limit + 1)
        except READ_ERRORS as e:
            raise FileFormatError(f"Invalid file {self.path!r}: cannot read {name!r} "
                                  f"({type(e).__name__}: {e})") from None
        if len(data) > limit:
            raise FileFormatError(f"Invalid file {self.path!r}: {name!r} is larger than "
                                  f"{limit} bytes")
        return data

    def read_json(self, name: str) -> Any:
        limit = _limits().max_config_bytes
        info = self._infos.get(name)
        if info is not None and info.file_size > limit:
            from ndflow.keras.saving.limits import exceeded

            raise exceeded(f"{self.path!r}", f"the size of {name}", info.file_size,
                           "max_config_bytes")
        data = self.read_bytes(name, limit)
        return parse_json(data, f"{self.path!r}:{name}")

    def copy_to(self, name: str, dest: IO[bytes], limit: int = MAX_WEIGHTS_BYTES) -> int:
        """Copy a member into an open file, checking the actual size as it streams."""
        info = self._infos.get(name)
        if info is None:
            raise FileFormatError(f"Invalid file {self.path!r}: the archive has no {name!r} "
                                  f"(members: {sorted(self._infos)[:20]})")
        if info.file_size > limit:
            raise FileFormatError(f"Invalid file {self.path!r}: {name!r} declares "
                                  f"{info.file_size} bytes (limit {limit})")
        total = 0
        try:
            with self._zf.open(info) as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        raise FileFormatError(f"Invalid file {self.path!r}: {name!r} is "
                                              f"larger than {limit} bytes")
                    dest.write(chunk)
        except FileFormatError:
            raise
        except READ_ERRORS as e:
            raise FileFormatError(f"Invalid file {self.path!r}: cannot read {name!r} "
                                  f"({type(e).__name__}: {e})") from None
        dest.flush()
        return total

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> SafeZipReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def parse_json(data: bytes, where: str) -> Any:
    """Decode JSON bytes; any problem becomes a `FileFormatError` naming ``where``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileFormatError(f"Invalid file {where}: not UTF-8 text ({e})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise FileFormatError(f"Invalid file {where}: the JSON is nested too deeply") from None
    except (ValueError, MemoryError) as e:
        raise FileFormatError(f"Invalid file {where}: not valid JSON ({e})") from None


"""Reading the CIFAR binary archives (no pickle): fixed-size records of label bytes followed
by 3,072 pixel bytes (the red, green and blue 32x32 planes), read straight from the tar.gz.

Keras downloads the "python version" of CIFAR, whose batches are Python pickles; ndflow
reads no pickle, so it downloads the authors' "binary version" of the same images in the same
order, checked against the MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html.
"""

from __future__ import annotations

import tarfile

import numpy as np

ORIGIN_FOLDER = "https://www.cs.toronto.edu/~kriz/"
PIXELS = 3 * 32 * 32


def read_records(archive: str, member: str, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """`(images (n, 3, 32, 32) uint8, labels (n, label_bytes) uint8)` of one archive member."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            info = tar.getmember(member)
            if not info.isfile():
                raise ValueError(f"{member} is not a regular file")
            f = tar.extractfile(info)
            raw = f.read() if f is not None else b""
    except (tarfile.TarError, KeyError, OSError, EOFError) as e:
        raise ValueError(f"CIFAR: cannot read {member} from {archive} ({e}); the cached archive "
                         "is damaged: delete it to download it again") from None
    size = label_bytes + PIXELS
    if len(raw) == 0 or len(raw) % size:
        raise ValueError(f"CIFAR: {member} in {archive} has {len(raw)} bytes, expected a "
                         f"multiple of {size} (records of {label_bytes} label byte(s) + "
                         f"{PIXELS} pixels)")
    rec = np.frombuffer(raw, np.uint8).reshape(-1, size)
    return rec[:, label_bytes:].reshape(-1, 3, 32, 32), rec[:, :label_bytes]


def to_data_format(x: np.ndarray) -> np.ndarray:
    """Channels last (n, 32, 32, 3) unless `keras.config.image_data_format()` says first."""
    from ndflow.keras.backend import image_data_format

    return x.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else x

"""Error classes with TensorFlow's names. Each also derives from the matching Python error."""


class OpError(Exception):
    """Base of ndflow's operation errors."""


class InvalidArgumentError(OpError, ValueError):
    """An op got an argument of the wrong shape, dtype or value."""


class OutOfRangeError(OpError, IndexError):
    """Indexing or iteration went past the end."""


class UnimplementedError(OpError, TypeError):
    """The op has no kernel for these dtypes."""


class NotFoundError(OpError, LookupError):
    """A file, device or name does not exist."""


class DataLossError(OpError, OSError):
    """A file's contents are damaged or cut short (a bad checksum, a truncated record)."""


class UnavailableError(OpError, RuntimeError):
    """A peer (another worker of a distributed job) is gone or cannot be reached."""


__all__ = [
    "DataLossError",
    "InvalidArgumentError",
    "NotFoundError",
    "OpError",
    "OutOfRangeError",
    "UnavailableError",
    "UnimplementedError",
]

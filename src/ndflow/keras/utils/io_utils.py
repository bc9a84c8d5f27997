"""Interactive logging: when on (the default), progress bars and messages are printed to
stdout; when off, they go to the ``ndflow`` logger at INFO level (for logs collected by a
job system). The switch is per thread, as in Keras.

>>> disable_interactive_logging(); is_interactive_logging_enabled()
False
>>> enable_interactive_logging(); is_interactive_logging_enabled()
True
"""

from __future__ import annotations

import logging
import sys
import threading

_STATE = threading.local()
logger = logging.getLogger("ndflow")


def enable_interactive_logging() -> None:
    """Print progress and messages to stdout (the default)."""
    _STATE.interactive_logging = True


def disable_interactive_logging() -> None:
    """Send progress and messages to the ``ndflow`` logger instead of stdout."""
    _STATE.interactive_logging = False


def is_interactive_logging_enabled() -> bool:
    """Whether messages are printed to stdout (True) or logged (False)."""
    return getattr(_STATE, "interactive_logging", True)


def print_msg(message: str, line_break: bool = True) -> None:
    """Print `message` to stdout, or log it when interactive logging is off."""
    message = str(message)
    if is_interactive_logging_enabled():
        sys.stdout.write(f"{message}\n" if line_break else message)
        sys.stdout.flush()
    else:
        logger.info(message)

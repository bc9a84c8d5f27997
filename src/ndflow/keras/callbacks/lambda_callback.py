"""`LambdaCallback`: a callback made of plain functions.

>>> seen = []
>>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
>>> cb.on_epoch_end(3, {}); seen
[3]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.callbacks.callback import Callback

_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
          "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
          "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class LambdaCallback(Callback):
    """Each argument ``on_<hook>`` is a function called for that hook: ``(epoch, logs)``,
    ``(batch, logs)`` or ``(logs)`` like the `Callback` methods."""

    def __init__(self, on_epoch_begin: Any = None, on_epoch_end: Any = None,
                 on_train_begin: Any = None, on_train_end: Any = None,
                 on_train_batch_begin: Any = None, on_train_batch_end: Any = None,
                 **kwargs: Any) -> None:
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for k, v in kwargs.items():
            if k not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {k!r}; expected one of {_HOOKS}")
            given[k] = v
        if given.get("on_batch_begin") is not None and given["on_train_batch_begin"] is None:
            given["on_train_batch_begin"] = given["on_batch_begin"]
        if given.get("on_batch_end") is not None and given["on_train_batch_end"] is None:
            given["on_train_batch_end"] = given["on_batch_end"]
        for k, fn in given.items():
            if fn is not None:
                setattr(self, k, fn)

    def _hooks(self) -> set:
        return {k for k in _HOOKS if k in self.__dict__}

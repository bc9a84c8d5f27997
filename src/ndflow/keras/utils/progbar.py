"""`Progbar`: the progress bar printed by `fit`, `evaluate` and `predict`.

In a terminal (or Jupyter) one line is redrawn in place, at most every ``interval`` seconds:
``12/469 ━━━━━━━━━━━━━━━━━━━━ 3s 7ms/step - accuracy: 0.8123 - loss: 0.6512``. When stdout is
not a terminal (CI logs, files) nothing is printed until the end of the epoch, then one line
(and a progress line every 30 s in long epochs); ``verbose=2`` prints one line per epoch,
``469/469 - 3s - 7ms/step - accuracy: 0.9012 - loss: 0.3312``.

>>> import io
>>> out = io.StringIO()
>>> bar = Progbar(4, verbose=2, stream=out)
>>> for i in range(4):
...     bar.update(i + 1, [("loss", 0.5)])
>>> "4/4" in out.getvalue() and "loss: 0.5000" in out.getvalue()
True
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np


def _dynamic_display(stream: Any) -> bool:
    if "ipykernel" in sys.modules or "google.colab" in sys.modules:
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty()) or "PYCHARM_HOSTED" in os.environ
    except ValueError:
        return False


def _fmt_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s" if seconds >= 1 else f"{int(round(seconds))}s"


def _fmt_per_step(seconds: float, unit: str) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _fmt_value(v: Any) -> str:
    try:
        f = float(np.asarray(v).mean())
    except (TypeError, ValueError):
        return str(v)
    if f != 0 and (abs(f) >= 1e4 or abs(f) < 1e-3):
        return f"{f:.4e}"
    return f"{f:.4f}"


# The clock the bar reads (seconds); tests replace it to make redraw timing deterministic.
clock = time.perf_counter


class Progbar:
    """A Keras-style progress bar.

    Args:
        target: total number of steps, or None if unknown.
        width: bar width in characters.
        verbose: 1 for the live bar, 2 for one line at the end, 0 for silence.
        interval: minimum seconds between redraws.
        stateful_metrics: names whose values are shown as given (not averaged). `fit` passes
            running means already, so it marks everything stateful.
        unit_name: ``"step"`` or ``"sample"``.
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Any = None,
                 unit_name: str = "step", stream: Any = None) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self.stream = stream if stream is not None else sys.stdout
        self._dynamic = _dynamic_display(self.stream)
        self._values: dict = {}
        self._order: list = []
        self._start = clock()
        self._last_draw = -math.inf  # the first update always draws
        self._last_plain = self._start
        self._seen = 0
        self._prev_len = 0

    def update(self, current: int, values: Any = None, finalize: bool | None = None) -> None:
        """Record progress ``current`` with ``values`` (pairs or a dict) and maybe redraw."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values:
            items = values.items() if isinstance(values, dict) else values
            for k, v in items:
                if k not in self._values:
                    self._order.append(k)
                if k in self.stateful_metrics or self.stateful_metrics == {"*"}:
                    self._values[k] = [v, 1]
                else:
                    n = max(current - self._seen, 1)
                    tot = self._values.get(k, [0.0, 0])
                    self._values[k] = [tot[0] + float(np.asarray(v).mean()) * n, tot[1] + n]
        self._seen = current
        if self.verbose == 0:
            return
        now = clock()
        if self.verbose == 2 or not self._dynamic:
            if finalize:
                self._write(self._line(current, now, final=True) + "\n")
            elif not self._dynamic and self.verbose == 1 and now - self._last_plain > 30.0:
                self._last_plain = now  # a sign of life in long epochs, one line per 30 s
                self._write(self._line(current, now, final=False) + "\n")
            return
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        line = self._line(current, now, final=finalize)
        pad = max(self._prev_len - len(line), 0)
        self._prev_len = len(line)
        self._write("\r" + line + " " * pad + ("\n" if finalize else ""))

    def add(self, n: int, values: Any = None) -> None:
        self.update(self._seen + n, values)

    def _avg(self, k: str) -> str:
        total, count = self._values[k]
        v = total if count == 1 and (k in self.stateful_metrics or self.stateful_metrics ==
                                     {"*"}) else total / max(count, 1)
        return _fmt_value(v)

    def _line(self, current: int, now: float, final: bool) -> str:
        elapsed = now - self._start
        per = elapsed / current if current else 0.0
        if self.verbose == 2:  # Keras's one-line-per-epoch form: "N/N - 2s - 4ms/step - ..."
            head = f"{current}/{self.target}" if self.target is not None else f"{current}"
            line = f"{head} - {_fmt_time(elapsed)} - {_fmt_per_step(per, self.unit_name)}"
            for k in sorted(self._order):
                line += f" - {k}: {self._avg(k)}"
            return line
        parts = []
        if self.target is not None:
            digits = len(str(self.target))
            parts.append(f"{current:>{digits}}/{self.target}")
            frac = min(current / self.target, 1.0) if self.target else 1.0
            filled = int(round(self.width * frac))
            rest = self.width - filled
            bar = "\u2501" * filled
            if rest:
                bar += ("\x1b[2m" + "\u2501" * rest + "\x1b[0m") if self._dynamic else " " * rest
            parts.append(bar)
        else:
            parts.append(f"{current}")
        if final or self.target is None:
            timing = f"{_fmt_time(elapsed)} {_fmt_per_step(per, self.unit_name)}"
        else:
            eta = per * (self.target - current)
            timing = f"{_fmt_time(eta)} {_fmt_per_step(per, self.unit_name)}"
        parts.append(timing)
        line = " ".join(parts)
        for k in sorted(self._order):
            line += f" - {k}: {self._avg(k)}"
        return line

    def _write(self, text: str) -> None:
        from ndflow.keras.utils import io_utils

        if self.stream is sys.stdout and not io_utils.is_interactive_logging_enabled():
            line = text.strip("\r\n").rstrip()
            if line:
                io_utils.logger.info(line)
            return
        self.stream.write(text)
        self.stream.flush()

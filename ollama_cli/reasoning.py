"""How a model's reasoning is shown: by default not at all, but for one dimmed line
("thought for 4.2 s") once the answer starts; with ``--show-reasoning`` or
``/reasoning on``, its text too, dimmed, line by line, above the answer.

Reasoning arrives through ``RoutedStream.on_reasoning``, apart from the answer's text, so
it is never rendered as the answer, never stored as it and never sent back to a model. It
goes where notices go (stderr for ``complete`` to a pipe), so stdout holds the answer only.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ReasoningView:
    """Feed it reasoning with ``feed``; call ``done`` when the answer starts or the turn ends.

    Args:
        write: shows one line where notices go (dimmed there).
        show: show the reasoning's text, not only the marker.
        safe: makes text from outside harmless on a terminal (``render.safe.visible``).
    """

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        show: bool,
        safe: Callable[[str], str] = str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._show = show
        self._safe = safe
        self._clock = clock
        self._started: float | None = None
        self._line = ""
        self._done = False

    def feed(self, text: str) -> None:
        if self._done or not text:
            return
        if self._started is None:
            self._started = self._clock()
        if not self._show:
            return
        *lines, self._line = (self._line + text).split("\n")
        for line in lines:
            self._write(self._safe(line))

    def done(self) -> None:
        """The answer begins (or the turn is over): end the reasoning with its marker."""
        if self._done or self._started is None:
            self._done = True
            return
        self._done = True
        if self._show and self._line.strip():
            self._write(self._safe(self._line))
        self._write(thought_for(self._clock() - self._started))


def thought_for(seconds: float) -> str:
    """The marker line: ``thought for 0.8 s``, ``thought for 12 s``."""
    shown = f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"
    return f"thought for {shown} s"

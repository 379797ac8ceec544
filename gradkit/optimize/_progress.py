"""A live progress line (iteration, f, |g|) that degrades to plain lines off a terminal."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Reports each iteration to ``stream``.

    On a terminal one line is rewritten in place (at most 20 times a second) and ended
    when the run finishes; elsewhere (a log file, a pipe, a notebook capture) every
    iteration gets a line of its own, so nothing relies on carriage returns.
    """

    def __init__(self, stream: TextIO | None = None, name: str = "minimize") -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.name = name
        self.nit = 0
        self.last = 0.0
        self.width = 0
        self.line = ""

    @staticmethod
    def format(nit: int, f: float | None, gnorm: float | None) -> str:
        fs = "?" if f is None else f"{f: .6e}"
        gs = "n/a" if gnorm is None else f"{gnorm:.3e}"
        return f"iter {nit:5d}  f = {fs}  |g| = {gs}"

    def update(self, f: float | None, gnorm: float | None) -> None:
        self.nit += 1
        self.line = f"{self.name}: " + self.format(self.nit, f, gnorm)
        now = time.perf_counter()
        if not self.live:
            self.stream.write(self.line + "\n")
        elif now - self.last >= 0.05 or self.nit == 1:
            self._rewrite(self.line)
            self.last = now
        else:
            return
        self.stream.flush()

    def _rewrite(self, text: str) -> None:
        pad = max(self.width - len(text), 0)
        self.stream.write("\r" + text + " " * pad)
        self.width = len(text)

    def close(self, result: Any = None) -> None:
        """End the line; with a result, a last line saying how the run ended."""
        msg = ""
        if result is not None:
            msg = f"{self.name}: done after {self.nit} iterations, f = {float(result.fun):.6e}"
            if "message" in result:
                msg += f" ({result.message})"
        if self.live:
            self._rewrite(self.line)
            self.stream.write("\n" + (msg + "\n" if msg else ""))
        elif msg:
            self.stream.write(msg + "\n")
        self.stream.flush()


def make_progress(progress: Any, name: str) -> Progress | None:
    """``progress``: False/None (off), True (stderr) or a writable stream."""
    if not progress:
        return None
    return Progress(None if progress is True else progress, name)

"""Progress reporting for long runs: tqdm on a terminal when installed, else a built-in line.

The built-in line is rate-limited and never writes carriage-return frames to a stream that
is not a terminal (a log file, a pipe, ``2> log.txt``, a notebook capture): there it writes a
plain line at the start, at most one every ``interval`` seconds (10 by default), and one at
the end. On a terminal it rewrites one line in place at most every 0.2 s, with the rate and,
when the total is known, the ETA.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO

__all__ = ["Progress", "make_progress"]

TTY_INTERVAL = 0.2      # seconds between rewrites of a live line
LOG_INTERVAL = 10.0     # seconds between plain lines on a non-terminal stream


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):       # a closed stream
        return False


def _duration(s: float) -> str:
    s = int(round(s))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def _load_tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """Reports iterations of a named run to ``stream`` (stderr by default).

    Parameters
    ----------
    stream : file-like, optional
        Where to write; a terminal gets a live line, anything else plain lines.
    name : str
        Prefix of every line (``minimize[bfgs]``).
    total : int, optional
        The most iterations the run may take (for the ETA); unknown when omitted.
    unit : str
        What is counted (``it``, ``fev``).
    interval : float, optional
        Seconds between two writes (0.2 on a terminal, 10 elsewhere).
    clock : callable
        Monotonic seconds; tests pass a fake one.
    """

    def __init__(self, stream: TextIO | None = None, name: str = "minimize", total: int | None = None,
                 unit: str = "it", interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = _isatty(self.stream)
        self.name, self.total, self.unit, self.clock = name, total, unit, clock
        self.interval = interval if interval is not None else (TTY_INTERVAL if self.live else LOG_INTERVAL)
        self.nit = 0
        self.start = clock()
        self.last = -float("inf")
        self.width = 0
        self.fields = ""
        self.writes = 0

    @staticmethod
    def format(nit: int, f: float | None, gnorm: float | None) -> str:
        fs = "?" if f is None else f"{f: .6e}"
        gs = "n/a" if gnorm is None else f"{gnorm:.3e}"
        return f"iter {nit:5d}  f = {fs}  |g| = {gs}"

    def _speed(self, now: float) -> str:
        elapsed = now - self.start
        if elapsed <= 0 or self.nit == 0:
            return ""
        rate = self.nit / elapsed
        text = f"  {rate:.3g} {self.unit}/s"
        if self.total:
            left = max(self.total - self.nit, 0) / rate
            text += f"  ETA {_duration(left)} (at most {self.total} {self.unit})"
        return text

    def update(self, f: float | None = None, gnorm: float | None = None) -> None:
        """Count one iteration; write only when ``interval`` has passed since the last write."""
        self.nit += 1
        self.fields = self.format(self.nit, f, gnorm)
        now = self.clock()
        if self.nit != 1 and now - self.last < self.interval:
            return
        self.last = now
        self._emit(f"{self.name}: {self.fields}{self._speed(now)}")

    def _emit(self, text: str) -> None:
        if self.live:
            pad = max(self.width - len(text), 0)
            self.stream.write("\r" + text + " " * pad)
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.writes += 1
        self.stream.flush()

    def close(self, result: Any = None) -> None:
        """End the line; with a result, a last line saying how the run ended."""
        now = self.clock()
        msg = ""
        if result is not None:
            msg = f"{self.name}: done after {self.nit} iterations, f = {float(result.fun):.6e}"
            if "message" in result:
                msg += f" ({result.message})"
            msg += f" in {_duration(now - self.start)}"
        if self.live:
            if self.nit:
                self._emit(f"{self.name}: {self.fields}{self._speed(now)}")
            self.stream.write("\n" + (msg + "\n" if msg else ""))
        elif msg:
            self.stream.write(msg + "\n")
        self.stream.flush()


class TqdmProgress:
    """The same interface drawn by ``tqdm`` (used on terminals when tqdm is installed)."""

    def __init__(self, tqdm: Any, stream: TextIO, name: str, total: int | None, unit: str) -> None:
        self.bar = tqdm(total=total, desc=name, file=stream, unit=unit, mininterval=TTY_INTERVAL,
                        leave=True, dynamic_ncols=True)
        self.name, self.nit = name, 0

    def update(self, f: float | None = None, gnorm: float | None = None) -> None:
        self.nit += 1
        fs = "?" if f is None else f"{f:.6e}"
        gs = "n/a" if gnorm is None else f"{gnorm:.3e}"
        self.bar.set_postfix_str(f"f={fs} |g|={gs}", refresh=False)
        self.bar.update(1)

    def close(self, result: Any = None) -> None:
        self.bar.close()
        if result is not None:
            msg = f"{self.name}: done after {self.nit} iterations, f = {float(result.fun):.6e}"
            if "message" in result:
                msg += f" ({result.message})"
            self.bar.write(msg, file=self.bar.fp)


def make_progress(progress: Any, name: str, total: int | None = None,
                  unit: str = "it") -> Progress | TqdmProgress | None:
    """``progress``: False/None (off), True (stderr) or a writable stream.

    A terminal stream gets tqdm's bar when tqdm is installed (``pip install tqdm``), else the
    built-in live line; any other stream gets rate-limited plain lines (tqdm would write
    carriage-return frames there).
    """
    if not progress:
        return None
    stream = sys.stderr if progress is True else progress
    if _isatty(stream):
        tqdm = _load_tqdm()
        if tqdm is not None:
            return TqdmProgress(tqdm, stream, name, total, unit)
    return Progress(stream, name, total, unit)

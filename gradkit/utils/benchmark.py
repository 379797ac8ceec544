"""``gradkit.utils.benchmark``: PyTorch's ``torch.utils.benchmark.Timer`` on the standard
library's :mod:`timeit`, with a :class:`Measurement` that prints as PyTorch's does.

Examples
--------
>>> from gradkit.utils import benchmark
>>> m = benchmark.Timer("x + 1", setup="x = 1").timeit(100)
>>> m.number_per_run, len(m.times)
(100, 1)
"""

from __future__ import annotations

import math
import textwrap
import timeit as _timeit
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Timer", "Measurement", "TaskSpec", "select_unit"]

_IQR_WARN_THRESHOLD = 0.1          # PyTorch's thresholds for the IQR warnings
_IQR_GROSS_WARN_THRESHOLD = 0.25


def select_unit(t: float) -> tuple[str, float]:
    """The unit PyTorch prints a time of ``t`` seconds in, and its scale: ``("us", 1e-6)``."""
    exponent = math.floor(math.log10(t)) // 3 if t > 0 else -3
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(exponent, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


@dataclass(frozen=True)
class TaskSpec:
    """What was timed: the statement, its setup and the labels that name it."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in self.stmt:
            return self.stmt + sub
        return "stmt:" + (f" ({self.sub_label})" if self.sub_label else "") + "\n" + \
            textwrap.indent(self.stmt, "  ")

    def setup_str(self) -> str:
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return "setup:\n" + textwrap.indent(self.setup, "  ")
        return "setup: " + self.setup

    def summarize(self) -> str:
        parts = [p for p in (self.title, self.description or "", self.setup_str()) if p]
        return "\n".join(p + "\n" if "\n" in p else p for p in parts)


class Measurement:
    """Times of one statement: ``raw_times`` of blocks of ``number_per_run`` runs each."""

    def __init__(self, number_per_run: int, raw_times: list[float], task_spec: TaskSpec,
                 metadata: dict[Any, Any] | None = None) -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata

    @property
    def times(self) -> list[float]:
        """Seconds per run, one entry per block."""
        return [t / self.number_per_run for t in self.raw_times]

    def _quantile(self, q: float) -> float:
        # NOTE: linear interpolation between order statistics, as torch.quantile
        return float(np.quantile(np.asarray(self.times, dtype=np.float64), q))

    @property
    def median(self) -> float:
        return self._quantile(0.5)

    @property
    def mean(self) -> float:
        return float(np.mean(self.times))

    @property
    def iqr(self) -> float:
        return self._quantile(0.75) - self._quantile(0.25)

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def env(self) -> str | None:
        return self.task_spec.env

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        return self.iqr / self.median < threshold

    def _warnings(self) -> list[str]:
        if self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
            if self.meets_confidence(_IQR_WARN_THRESHOLD):
                return []
            why = "This could indicate system fluctuation."
        else:
            why = "This suggests significant environmental influence."
        return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% of the "
                f"median measurement.\n           {why}"]

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings())

    def __repr__(self) -> str:
        n = len(self.raw_times)
        unit, scale = select_unit(self.median)
        threads = self.task_spec.num_threads
        lines = [object.__repr__(self), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} "
                         f"({self._quantile(0.25) / scale:.2f} to "
                         f"{self._quantile(0.75) / scale:.2f})")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {threads} "
                     f"thread{'s' if threads > 1 else ''}")
        lines += self._warnings()
        return "\n".join(lines).strip()

    __str__ = __repr__


class Timer:
    """Time a statement as PyTorch's ``Timer`` does; runs it with :class:`timeit.Timer`.

    ``stmt`` and ``setup`` are Python source (or callables); ``globals`` the names they see.
    ``num_threads`` is recorded for printing only: NumPy's threads are not changed.
    """

    def __init__(self, stmt: str | Callable[[], Any] = "pass", setup: str = "pass",
                 global_setup: str = "", timer: Callable[[], float] = _timeit.default_timer,
                 globals: dict[str, Any] | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1, language: Any = "python") -> None:
        if str(language).lower() not in ("python", "py", "language.python"):
            raise NotImplementedError("gradkit.utils.benchmark.Timer times Python statements only")
        if global_setup:
            raise NotImplementedError("global_setup is for C++ statements; use setup=")
        self._timer = _timeit.Timer(stmt, setup, timer, globals=dict(globals or {}))
        text = stmt if isinstance(stmt, str) else getattr(stmt, "__name__", repr(stmt))
        self._task_spec = TaskSpec(text, setup, global_setup, label, sub_label, description,
                                   env, num_threads)

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)     # a zero time would break the units

    def timeit(self, number: int = 1000000) -> Measurement:
        """Run the statement ``number`` times (after a short warm-up) as one block."""
        self._timeit(max(number // 100, 2))
        return Measurement(number, [self._timeit(number)], self._task_spec)

    def _block_size(self, min_run_time: float) -> int:
        # NOTE: PyTorch's rule: grow the block tenfold until the timer's own overhead is
        # negligible and the block takes a thousandth of the run time (or all of it)
        overhead = float(np.median([self._timeit(0) for _ in range(5)]))
        number = 1
        while True:
            taken = self._timeit(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or \
                    taken > min_run_time or number * 10 > 2147483647:
                return number
            number *= 10

    def blocked_autorange(self, callback: Callable[[int, float], Any] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of a size chosen so timing overhead is negligible, until ``min_run_time``
        seconds have been measured; ``callback(number, seconds)`` sees each block."""
        number = self._block_size(min_run_time)
        times: list[float] = []
        while sum(times) < min_run_time:
            t = self._timeit(number)
            times.append(t)
            if callback is not None:
                callback(number, t)
        return Measurement(number, times, self._task_spec)

"""``torch.autograd.profiler``: time what a block runs, by operation.

``with profile() as prof:`` records every table primitive the block applies (its name as
``gradkit::<name>``, its calls, its CPU time with and without the operations it ran inside it)
and every ``record_function(name)`` range; ``prof.key_averages().table(sort_by=...)`` prints them
in PyTorch's layout. The recording is Python's profiling hook on the calling thread, so nothing
is paid when no profiler is open; under it a block runs several times slower, as under PyTorch's.

Not recorded: the backward pass's nodes (PyTorch lists ``autograd::engine::evaluate_function``
rows), CUDA times, memory and shapes (``use_cuda=``, ``profile_memory=``, ``record_shapes=`` are
accepted; asking for CUDA or memory figures raises rather than showing zeros).
"""
from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["profile", "record_function", "EventList", "FunctionEventAvg"]


class FunctionEventAvg:
    """One row of ``key_averages()``: a name's calls and times (µs), PyTorch's attribute names."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0

    @property
    def cpu_time(self) -> float:
        """Average CPU time per call (µs)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt(self.self_cpu_time_total)} "
                f"cpu_time={_fmt(self.cpu_time)} count={self.count}>")


def _fmt(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


_SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "count")


class EventList(list):
    """The rows of ``key_averages()``, with PyTorch's ``table``."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise AttributeError(f"sort_by={sort_by!r}: gradkit's profiler records "
                                     f"{', '.join(_SORT_KEYS)} (no CUDA or memory columns)")
            rows.sort(key=lambda r: getattr(r, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total_self = sum(r.self_cpu_time_total for r in self) or 1.0
        head = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                "# of Calls"]
        body = [[r.key, f"{100 * r.self_cpu_time_total / total_self:.2f}%",
                 _fmt(r.self_cpu_time_total), f"{100 * r.cpu_time_total / total_self:.2f}%",
                 _fmt(r.cpu_time_total), _fmt(r.cpu_time), str(r.count)] for r in rows]
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
                  for i, h in enumerate(head)]

        def line(cells: list[str]) -> str:              # PyTorch's: right-aligned columns
            return "".join(c.rjust(w) + "  " for c, w in zip(cells, widths))
        rule = "".join("-" * w + "  " for w in widths)
        out = [rule, line(head), rule, *(line(b) for b in body), rule,
               f"Self CPU time total: {_fmt(sum(r.self_cpu_time_total for r in self))}"]
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.table()


class profile:
    """PyTorch's ``torch.autograd.profiler.profile`` for the CPU (see the module's docstring)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: Any = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, **kwargs: Any) -> None:
        if profile_memory:
            raise NotImplementedError("gradkit's profiler records CPU time only: "
                                      "profile_memory=True is not supported")
        self.enabled = enabled
        self.use_cuda = bool(use_cuda)
        self._rows: dict[str, FunctionEventAvg] = {}
        self._stack: list[list[Any]] = []
        self._previous: Any = None
        self._entered = False

    # --- recording -------------------------------------------------------------------
    def _open(self, key: str, frame: Any = None) -> None:
        self._stack.append([key, time.perf_counter(), 0.0, frame])

    def _close(self) -> None:
        key, start, inner, _ = self._stack.pop()
        took = (time.perf_counter() - start) * 1e6
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = FunctionEventAvg(key)
        row.count += 1
        row.cpu_time_total += took
        row.self_cpu_time_total += took - inner
        if self._stack:
            self._stack[-1][2] += took

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if frame.f_code in _APPLY_CODES:
            if event == "call":
                caller = frame.f_back
                if caller is not None and caller.f_code in _APPLY_CODES:
                    return                  # a fast path handing its op to the general one
                prim = frame.f_locals.get("prim")
                self._open("gradkit::" + getattr(prim, "name", "op"), frame)
            elif event == "return" and self._stack and self._stack[-1][3] is frame:
                self._close()

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self._entered:
            raise RuntimeError("Profiler is already enabled on this thread")
        _load_apply_codes()
        self._entered = True
        self._previous = sys.getprofile()
        _active.append(self)
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.enabled:
            return
        sys.setprofile(self._previous)
        _active.remove(self)
        while self._stack:
            self._close()

    # --- results ---------------------------------------------------------------------
    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        if self._stack:
            raise RuntimeError("Profiler didn't finish running")
        return EventList(self._rows.values())

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(r.self_cpu_time_total for r in self._rows.values())

    def __str__(self) -> str:
        return self.table()


class record_function:
    """A named range inside a profiled block (a row of its own in ``key_averages()``); a no-op
    where no profiler is open. Also a decorator."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self._prof: profile | None = None

    def __enter__(self) -> record_function:
        self._prof = _active[-1] if _active else None
        if self._prof is not None:
            self._prof._open(self.name)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._prof is not None:
            self._prof._close()
            self._prof = None

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped


_active: list[profile] = []
_APPLY_CODES: set[Any] = set()


def _load_apply_codes() -> None:
    if not _APPLY_CODES:
        from gradkit.ops import _registry as R
        _APPLY_CODES.update(f.__code__ for f in (R.apply, R.apply1, R.apply2))

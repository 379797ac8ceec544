"""``torch.autograd.profiler``: time what a block runs, by operation.

``with profile() as prof:`` records every table primitive the block applies (its name as
``gradkit::<name>``, its calls, its CPU time with and without the operations it ran inside it)
and every ``record_function(name)`` range; ``prof.key_averages().table(sort_by=...)`` prints them
in PyTorch's layout. The recording is Python's profiling hook on the calling thread, so nothing
is paid when no profiler is open; under it a block runs several times slower, as under PyTorch's.

The backward pass's nodes are rows too, under PyTorch's names
(``autograd::engine::evaluate_function: MulBackward0``). ``record_shapes=True`` keeps each
operation's input shapes (``key_averages(group_by_input_shape=True)``), ``with_stack=True`` the
Python stack that called it (``key_averages(group_by_stack_n=5)``); ``events()`` lists every
range with its start and duration (what ``gradkit.profiler`` exports as a Chrome trace).

Not recorded: CUDA times and memory (asking for those figures raises rather than showing
zeros).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class FunctionEvent:
    """One recorded range: an operation, a backward node or a ``record_function`` block.
    Times in µs; ``time_range.start`` from the profiler's start."""

    __slots__ = ("name", "start_us", "cpu_time_total", "self_cpu_time_total", "input_shapes",
                 "stack", "thread", "depth")

    def __init__(self, name: str, start_us: float, total: float, self_total: float,
                 input_shapes: list[list[int]] | None, stack: list[str] | None, thread: int,
                 depth: int) -> None:
        self.name = name
        self.start_us = start_us
        self.cpu_time_total = total
        self.self_cpu_time_total = self_total
        self.input_shapes = input_shapes
        self.stack = stack
        self.thread = thread
        self.depth = depth

    @property
    def key(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return (f"<FunctionEvent name={self.name} start={self.start_us:.3f}us "
                f"cpu_time={_fmt(self.cpu_time_total)} input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """One row of ``key_averages()``: a name's calls and times (µs), PyTorch's attribute names."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes: list[list[int]] | None = None
        self.stack: list[str] | None = None

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
        shapes = any(r.input_shapes is not None for r in self)
        stacks = any(r.stack for r in self)
        head = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                "# of Calls"]
        if shapes:
            head.append("Input Shapes")
        if stacks:
            head.append("Source Location")
        body = []
        for r in rows:
            cells = [r.key, f"{100 * r.self_cpu_time_total / total_self:.2f}%",
                     _fmt(r.self_cpu_time_total), f"{100 * r.cpu_time_total / total_self:.2f}%",
                     _fmt(r.cpu_time_total), _fmt(r.cpu_time), str(r.count)]
            if shapes:
                cells.append(_shapes_text(r.input_shapes or []))
            extra = []
            if stacks:
                frames = r.stack or [""]
                cells.append(frames[0])
                extra = frames[1:]
            body.append((cells, extra))
        widths = [max(len(h), *(len(b[0][i]) for b in body)) if body else len(h)
                  for i, h in enumerate(head)]
        if stacks:
            widths[-1] = max([widths[-1], *(len(f) for _, extra in body for f in extra)])

        def line(cells: list[str]) -> str:              # PyTorch's: right-aligned columns
            return "".join(c.rjust(w) + "  " for c, w in zip(cells, widths))
        rule = "".join("-" * w + "  " for w in widths)
        lines = [rule, line(head), rule]
        for cells, extra in body:
            lines.append(line(cells))
            for frame in extra:                          # a stack: one frame a line
                lines.append(line([""] * (len(cells) - 1) + [frame]))
        lines += [rule, f"Self CPU time total: {_fmt(sum(r.self_cpu_time_total for r in self))}"]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.table()


def _shapes_text(shapes: list[list[int]]) -> str:
    """PyTorch's ``Input Shapes`` cell: ``[[5, 3], [4, 3], []]``."""
    return "[" + ", ".join("[" + ", ".join(str(d) for d in s) + "]" for s in shapes) + "]"


def _shape_of(a: Any) -> list[int]:
    shape = getattr(a, "shape", None)
    return [] if shape is None else [int(d) for d in shape]


#: frames of these files are the library's own, left out of a recorded stack
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stack(frame: Any, limit: int = 32) -> list[str]:
    """The calling Python stack, innermost first, as PyTorch prints it (``file(line): name``),
    without gradkit's table and engine frames."""
    out = []
    while frame is not None and len(out) < limit:
        path = frame.f_code.co_filename
        inner = os.path.join(_OWN_DIR, "ops") + os.sep, os.path.join(_OWN_DIR, "autograd") + os.sep
        if not path.startswith(inner):
            out.append(f"{path}({frame.f_lineno}): {frame.f_code.co_name}")
        frame = frame.f_back
    return out


class profile:
    """PyTorch's ``torch.autograd.profiler.profile`` for the CPU (see the module's docstring)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: Any = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, **kwargs: Any) -> None:
        if profile_memory:
            raise NotImplementedError("gradkit's profiler records CPU time only: "
                                      "profile_memory=True is not supported")
        if with_flops:
            raise NotImplementedError("gradkit's profiler does not estimate FLOPs: "
                                      "with_flops=True is not supported")
        self.enabled = enabled
        self.use_cuda = bool(use_cuda)
        self.record_shapes = bool(record_shapes)
        self.with_stack = bool(with_stack)
        self._events: list[FunctionEvent] = []
        self._stack: list[list[Any]] = []
        self._previous: Any = None
        self._entered = False
        self._hooked = False
        self._t0 = 0.0

    # --- recording -------------------------------------------------------------------
    def _open(self, key: str, frame: Any = None, shapes: list[list[int]] | None = None) -> None:
        stack = None
        if self.with_stack:
            stack = _user_stack(frame.f_back if frame is not None else sys._getframe(2))
        # [name, start, time of the ranges inside, frame, shapes, stack]
        self._stack.append([key, time.perf_counter(), 0.0, frame, shapes, stack])

    def _close(self) -> None:
        key, start, inner, _, shapes, stack = self._stack.pop()
        now = time.perf_counter()
        took = (now - start) * 1e6
        if self._hooked:                    # (a scheduled profiler keeps nothing between cycles)
            self._events.append(FunctionEvent(key, (start - self._t0) * 1e6, took, took - inner,
                                              shapes, stack, threading.get_ident(),
                                              len(self._stack)))
        if self._stack:
            self._stack[-1][2] += took

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        code = frame.f_code
        if code in _APPLY_CODES:
            if event == "call":
                caller = frame.f_back
                if caller is not None and caller.f_code in _APPLY_CODES:
                    return                  # a fast path handing its op to the general one
                loc = frame.f_locals
                prim = loc.get("prim")
                shapes = None
                if self.record_shapes:
                    args = loc["args"] if "args" in loc else [loc.get("x"), *(
                        [loc["y"]] if "y" in loc else [])]
                    shapes = [_shape_of(a) for a in args]
                self._open("gradkit::" + getattr(prim, "name", "op"), frame, shapes)
            elif event == "return" and self._stack and self._stack[-1][3] is frame:
                self._close()
        elif code in _BACKWARD_CODES:
            if event == "call":
                caller = frame.f_back
                if caller is not None and caller.f_code in _BACKWARD_CODES:
                    return
                node = frame.f_locals.get("self")
                name = node.name() if node is not None else "Node"
                self._open("autograd::engine::evaluate_function: " + name, frame)
            elif event == "return" and self._stack and self._stack[-1][3] is frame:
                self._close()

    def _hook_on(self) -> None:
        """Start receiving the calling thread's Python calls (operations, backward nodes)."""
        if not self._hooked:
            _load_codes()
            self._previous = sys.getprofile()
            sys.setprofile(self._hook)
            self._hooked = True

    def _hook_off(self) -> None:
        if self._hooked:
            sys.setprofile(self._previous)
            self._hooked = False

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self._entered:
            raise RuntimeError("Profiler is already enabled on this thread")
        self._entered = True
        self._t0 = time.perf_counter()
        _active.append(self)
        self._hook_on()
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.enabled:
            return
        _active.remove(self)
        while self._stack:
            self._close()
        self._hook_off()

    # --- results ---------------------------------------------------------------------
    def events(self) -> list[FunctionEvent]:
        """Every recorded range, in the order they ended."""
        if self._stack:
            raise RuntimeError("Profiler didn't finish running")
        return list(self._events)

    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        """One row per name (and per input shapes, per top ``group_by_stack_n`` frames)."""
        if self._stack:
            raise RuntimeError("Profiler didn't finish running")
        if group_by_input_shape and not self.record_shapes:
            raise RuntimeError("key_averages(group_by_input_shape=True) needs the shapes: "
                               "profile with record_shapes=True")
        if group_by_stack_n and not self.with_stack:
            raise RuntimeError("key_averages(group_by_stack_n=...) needs the stacks: "
                               "profile with with_stack=True")
        rows: dict[Any, FunctionEventAvg] = {}
        for e in self._events:
            name = e.name
            if name.startswith("ProfilerStep#"):
                name = "ProfilerStep*"      # the steps of a scheduled profile: one row, as PyTorch's
            shapes = e.input_shapes or [] if group_by_input_shape else None
            stack = (e.stack or [])[:group_by_stack_n] if group_by_stack_n else None
            key = (name, None if shapes is None else repr(shapes),
                   None if stack is None else tuple(stack))
            row = rows.get(key)
            if row is None:
                row = rows[key] = FunctionEventAvg(name)
                row.input_shapes = shapes
                row.stack = stack
            row.count += 1
            row.cpu_time_total += e.cpu_time_total
            row.self_cpu_time_total += e.self_cpu_time_total
        return EventList(rows.values())

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self._events)

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
_BACKWARD_CODES: set[Any] = set()


def _load_codes() -> None:
    if not _APPLY_CODES:
        from gradkit.ops import _registry as R
        _APPLY_CODES.update(f.__code__ for f in (R.apply, R.apply1, R.apply2))
    # every node class's ``_backward`` (the engine's one call per node), looked up anew
    # each time: Function subclasses may have added node classes since
    from gradkit._core.graph import Node
    todo = [Node]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        fn = cls.__dict__.get("_backward")
        if fn is not None and hasattr(fn, "__code__"):
            _BACKWARD_CODES.add(fn.__code__)

"""``torch.profiler``: the newer profiler API over gradkit's CPU profiler.

``profile(activities=[ProfilerActivity.CPU], record_shapes=..., with_stack=..., schedule=...,
on_trace_ready=...)`` records what ``gradkit.autograd.profiler.profile`` records (each table
operation, each backward node as ``autograd::engine::evaluate_function: <Node>``, each
``record_function`` range), by steps when given a ``schedule`` (``prof.step()`` ends a step;
the steps show as ``ProfilerStep#<n>`` ranges, as in PyTorch). ``export_chrome_trace(path)``
writes the ranges as a Chrome trace (JSON, written atomically; gzip for a ``.gz`` path);
``tensorboard_trace_handler(dir)`` names and writes one per finished cycle.

What cannot be measured here is refused, never shown as zeros: activities other than
``ProfilerActivity.CPU`` (CUDA, XPU, ...), ``profile_memory=True``, ``with_flops=True``.
"""

from __future__ import annotations

import enum
import gzip
import json
import os
import socket
import threading
import time
import warnings
from typing import Any, Callable, Iterable

from gradkit.autograd import profiler as _autograd_profiler
from gradkit.autograd.profiler import EventList, FunctionEvent, record_function

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "EventList", "FunctionEvent"]


class ProfilerActivity(enum.Enum):
    """What a profiler records (PyTorch's members; gradkit records ``CPU`` only)."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self) -> str:
        return f"<ProfilerActivity.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"ProfilerActivity.{self.name}"


class ProfilerAction(enum.Enum):
    """What a ``schedule`` tells the profiler to do at a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set[ProfilerActivity]:
    """The activities gradkit's profiler can record: the CPU's."""
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """The profiler's action at each step: after ``skip_first`` steps, cycles of ``wait`` idle
    steps, ``warmup`` steps and ``active`` recorded steps (the last one ``RECORD_AND_SAVE``),
    ``repeat`` times (0: while the job runs). ``skip_first_wait``: the first cycle starts
    without its ``wait``."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        k = step - skip_first + (wait if skip_first_wait else 0)
        if repeat > 0 and k // cycle >= repeat:
            return ProfilerAction.NONE
        at = k % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def _activity_names(activities: Iterable[Any]) -> list[Any]:
    out = []
    for a in activities:
        if isinstance(a, dict):                      # {ProfilerActivity.CUDA: [...]}
            out.extend(a)
        else:
            out.append(a)
    return out


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile(_autograd_profiler.profile):
    """PyTorch's ``torch.profiler.profile`` on the CPU (see the module's docstring)."""

    def __init__(self, *, activities: Iterable[Any] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[Any], Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None,
                 execution_trace_observer: Any = None, acc_events: bool = False,
                 use_cuda: bool | None = None, custom_trace_id_callback: Any = None) -> None:
        if use_cuda:
            raise NotImplementedError("gradkit's profiler records CPU activity only: "
                                      "use_cuda=True is not supported")
        acts = _activity_names(activities) if activities is not None else [ProfilerActivity.CPU]
        for a in acts:
            if a is not ProfilerActivity.CPU:
                raise NotImplementedError(
                    f"gradkit's profiler records CPU activity only, not {a}: device times are "
                    "not measured (profile with activities=[ProfilerActivity.CPU])")
        if execution_trace_observer is not None:
            raise NotImplementedError("execution_trace_observer is not supported by gradkit's "
                                      "profiler")
        if with_modules:
            warnings.warn("gradkit's profiler does not record module hierarchies "
                          "(with_modules=True is ignored; with_stack=True gives the Python stack)",
                          stacklevel=2)
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops)
        self.activities = set(acts)
        self.schedule = schedule if schedule is not None else _always_record
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._step_range: record_function | None = None
        self._kept: list[FunctionEvent] = []

    # --- the trace's life: prepare (drop old events), start and stop recording ----------
    def _prepare(self) -> None:
        self._events = []

    def _start(self) -> None:
        self._hook_on()

    def _stop(self) -> None:
        # operations still open (stopped from inside one) end here; record_function ranges
        # stay open, and are kept by the cycle that records their end
        while self._stack and self._stack[-1][3] is not None:
            self._close()
        self._hook_off()

    def _ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit(self, prev: ProfilerAction, cur: ProfilerAction | None) -> None:
        A = ProfilerAction
        if cur is None:                              # leaving the with block
            if prev in (A.WARMUP, *_RECORDING):
                self._stop()
                self._ready()
            return
        if prev is A.NONE:
            if cur is not A.NONE:
                self._prepare()
            if cur in _RECORDING:
                self._start()
        elif prev is A.WARMUP:
            if cur is A.NONE:
                warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)
            elif cur in _RECORDING:
                self._start()
        elif prev is A.RECORD:
            if cur in (A.NONE, A.WARMUP):
                warnings.warn(f"Incorrect schedule: RECORD followed by {cur.name}", stacklevel=3)
                self._stop()
        else:                                        # RECORD_AND_SAVE: the cycle is done
            self._stop()
            self._ready()
            if cur is not A.NONE:
                self._prepare()
            if cur in _RECORDING:
                self._start()

    def _open_step(self) -> None:
        if self.record_steps and self.current_action in _RECORDING:
            self._step_range = record_function("ProfilerStep#" + str(self.step_num))
            self._step_range.__enter__()

    def _close_step(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        """Start profiling (what entering the ``with`` block does)."""
        if self._entered:
            raise RuntimeError("Profiler is already enabled on this thread")
        self._entered = True
        self._t0 = time.perf_counter()
        _autograd_profiler._active.append(self)
        self.current_action = self.schedule(self.step_num)
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step()

    def stop(self) -> None:
        """Stop profiling; a cycle in progress is handed to ``on_trace_ready``."""
        if not self._entered:
            return
        self._close_step()
        _autograd_profiler._active.remove(self)
        self._entered = False
        self._transit(self.current_action, None)
        self._hook_off()
        self._stack.clear()

    def step(self) -> None:
        """Signal that the next step starts (moves the schedule on)."""
        self._close_step()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._open_step()

    # --- results ---------------------------------------------------------------------
    def events(self) -> list[FunctionEvent]:
        return list(self._events)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        closed = self._stack
        self._stack = []                             # rows of what has ended (PyTorch's too)
        try:
            return super().key_averages(group_by_input_shape, group_by_stack_n)
        finally:
            self._stack = closed

    def export_chrome_trace(self, path: str, use_python_export: bool = False) -> None:
        """Write the recorded ranges as a Chrome trace (``chrome://tracing``, Perfetto): a JSON
        object with ``traceEvents``, one complete event (``"ph": "X"``) per range, times in µs.
        Written atomically (a complete file or none); gzip-compressed for a ``.gz`` path."""
        from gradkit.io._atomic import _save_with
        pid = os.getpid()
        base = time.time() * 1e6 - (time.perf_counter() - self._t0) * 1e6
        events = []
        for e in sorted(self._events, key=lambda e: e.start_us):
            cat = "user_annotation" if not e.name.startswith(("gradkit::", "autograd::")) \
                else "cpu_op"
            ev: dict[str, Any] = {"ph": "X", "cat": cat, "name": e.name, "pid": pid,
                                  "tid": e.thread, "ts": round(base + e.start_us, 3),
                                  "dur": round(e.cpu_time_total, 3), "args": {}}
            if e.input_shapes is not None:
                ev["args"]["Input Dims"] = e.input_shapes
            if e.stack:
                ev["args"]["Call stack"] = ";".join(e.stack)
            events.append(ev)
        doc = {"schemaVersion": 1, "deviceProperties": [], "displayTimeUnit": "ms",
               "traceName": path, "traceEvents": events,
               "otherData": {"profiler": "gradkit (CPU only)"}}
        data = json.dumps(doc).encode()
        if str(path).endswith(".gz"):
            data = gzip.compress(data)
        _save_with(lambda f: f.write(data), path)

    def export_memory_timeline(self, path: str, device: str | None = None) -> None:
        raise NotImplementedError("gradkit's profiler does not record memory "
                                  "(profile_memory=True is not supported)")

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write the recorded stacks (``with_stack=True``) as ``frame;frame;... value`` lines,
        outermost frame first (flame-graph input), one per range with its time in µs."""
        from gradkit.io._atomic import _save_with
        if metric != "self_cpu_time_total":
            raise ValueError(f"metric={metric!r}: gradkit records self_cpu_time_total only")
        if not self.with_stack:
            raise RuntimeError("export_stacks needs the stacks: profile with with_stack=True")
        lines = []
        for e in self._events:
            if e.stack:
                frames = [f.replace(";", ":") for f in reversed(e.stack)] + [e.name]
                lines.append(";".join(frames) + f" {int(e.self_cpu_time_total)}")
        _save_with(lambda f: f.write(("\n".join(lines) + "\n").encode()), path)


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False,
                              use_python_export: bool = False) -> Callable[[profile], None]:
    """An ``on_trace_ready`` that writes each finished cycle's trace to ``dir_name`` as
    ``<worker>.<time ns>.pt.trace.json`` (``.gz`` with ``use_gzip``), the files TensorBoard's
    profiler plugin reads; ``worker_name`` defaults to ``<hostname>_<pid>``. Nothing of
    TensorBoard is needed to write them."""
    lock = threading.Lock()

    def handler(prof: profile) -> None:
        nonlocal worker_name
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as e:
            raise RuntimeError("Can't create directory: " + dir_name) from e
        with lock:
            if not worker_name:
                worker_name = f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))
    return handler

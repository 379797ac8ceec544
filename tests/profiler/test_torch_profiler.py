"""``gradkit.profiler`` (``torch.profiler``): schedules and their cycles against a live PyTorch
(skipped without it), the rows it records, the Chrome trace files it writes, and what it
refuses to measure."""

from __future__ import annotations

import gzip
import json
import os
import warnings
from typing import Any

import numpy as np
import pytest

import gradkit as gk
from gradkit import profiler as gp
from gradkit.profiler import ProfilerActivity, profile, record_function


def _work(lib: Any) -> None:
    x = lib.ones(2, 3, requires_grad=True)
    (x * 2.0).sin().sum().backward()


# --- schedules -----------------------------------------------------------------------------
_SCHEDULES = [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=3, repeat=2),
              dict(wait=5, warmup=1, active=3, repeat=2, skip_first=10),
              dict(wait=3, warmup=1, active=1, skip_first=2, skip_first_wait=1)]


@pytest.mark.parametrize("kw", _SCHEDULES)
def test_schedule_actions_match_torch(kw: dict[str, int]) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = gp.schedule(**kw), torch.profiler.schedule(**kw)
    assert [ours(i).name for i in range(60)] == [theirs(i).name for i in range(60)]


def test_schedule_by_hand_and_checks() -> None:
    s = gp.schedule(wait=1, warmup=1, active=2, repeat=1)
    A = gp.ProfilerAction
    assert [s(i) for i in range(6)] == [A.NONE, A.WARMUP, A.RECORD, A.RECORD_AND_SAVE, A.NONE,
                                        A.NONE]
    with pytest.raises(AssertionError, match=r"active=0 \(need > 0\)"):
        gp.schedule(wait=1, warmup=1, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        gp.schedule(wait=1, warmup=0, active=1)


def _cycles(lib: Any, kw: dict[str, int], steps: int) -> list[tuple[int, int, int]]:
    """(step_num, ProfilerStep rows, sin calls) at each on_trace_ready of a scheduled loop
    (sin: an operation of the forward only; PyTorch also lists the backward's operations)."""
    seen = []

    def ready(p: Any) -> None:
        rows = {r.key: r.count for r in p.key_averages()}
        sin = rows.get("aten::sin", rows.get("gradkit::sin", 0))
        seen.append((p.step_num, rows.get("ProfilerStep*", 0), sin))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = lib.profiler.schedule(**kw)
        with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], schedule=sched,
                                  on_trace_ready=ready) as p:
            for _ in range(steps):
                _work(lib)
                p.step()
    return seen


@pytest.mark.parametrize("kw,steps", [(dict(wait=1, warmup=1, active=2), 8),
                                      (dict(wait=1, warmup=1, active=2, repeat=1), 9),
                                      (dict(wait=0, warmup=1, active=3, skip_first=2), 7),
                                      (dict(wait=2, warmup=0, active=1), 6)])
def test_cycles_match_torch(kw: dict[str, int], steps: int) -> None:
    torch = pytest.importorskip("torch")
    assert _cycles(gk, kw, steps) == _cycles(torch, kw, steps)


def test_without_schedule_one_trace_at_exit() -> None:
    calls = []
    with profile(on_trace_ready=lambda p: calls.append(p.step_num)) as p:
        _work(gk)
        p.step()                     # no schedule: steps change nothing, no ProfilerStep rows
        _work(gk)
    assert calls == [1]
    rows = {r.key: r.count for r in p.key_averages()}
    assert rows["gradkit::mul"] == 2 and "ProfilerStep*" not in rows


# --- rows ----------------------------------------------------------------------------------
def test_backward_nodes_are_rows_like_torch() -> None:
    torch = pytest.importorskip("torch")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as tp:
        _work(torch)
    with profile(activities=[ProfilerActivity.CPU]) as p:
        _work(gk)
    want = {r.key for r in tp.key_averages()
            if r.key.startswith("autograd::engine::evaluate_function: ")
            and "AccumulateGrad" not in r.key}
    got = {r.key for r in p.key_averages() if r.key.startswith("autograd::")}
    assert want == got == {"autograd::engine::evaluate_function: SumBackward0",
                           "autograd::engine::evaluate_function: SinBackward0",
                           "autograd::engine::evaluate_function: MulBackward0"}


def test_input_shapes_like_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(lib: Any, p: Any) -> None:
        a = lib.ones(2, 3)
        b = lib.ones(4)
        with p:
            a * 2.0
            b * 2.0
            b * 3.0
        return {(r.key.split("::")[-1], str(r.input_shapes), r.count)
                for r in p.key_averages(group_by_input_shape=True) if r.key.endswith("::mul")}

    want = run(torch, torch.profiler.profile(record_shapes=True))
    got = run(gk, profile(record_shapes=True))
    assert got == want == {("mul", "[[2, 3], []]", 1), ("mul", "[[4], []]", 2)}
    table = profile(record_shapes=True)
    with table:
        gk.ones(4) * 2.0
    text = table.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total")
    assert "Input Shapes" in text.splitlines()[1] and "[[4], []]" in text
    with pytest.raises(RuntimeError, match="record_shapes=True"):
        profile().key_averages(group_by_input_shape=True)


def test_stacks_name_the_caller() -> None:
    with profile(with_stack=True) as p:
        gk.ones(3) * 2.0
    (row,) = [r for r in p.key_averages(group_by_stack_n=3) if r.key == "gradkit::mul"]
    # innermost first: gradkit's operator method, then this function's line
    assert "gradkit" in row.stack[0] and "test_torch_profiler.py" in row.stack[1]
    assert row.stack[1].endswith("test_stacks_name_the_caller")
    text = p.key_averages(group_by_stack_n=3).table(row_limit=1)
    assert "Source Location" in text.splitlines()[1]


def test_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(NotImplementedError, match="CPU activity only"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    with pytest.raises(NotImplementedError, match="profile_memory"):
        profile(profile_memory=True)
    with pytest.raises(NotImplementedError, match="FLOPs"):
        profile(with_flops=True)
    with profile() as p:
        pass
    with pytest.raises(NotImplementedError, match="memory"):
        p.export_memory_timeline("x.html")
    with pytest.raises(AttributeError, match="no CUDA"):
        p.key_averages().table(sort_by="self_cuda_time_total")
    assert gp.supported_activities() == {ProfilerActivity.CPU}


# --- trace files ---------------------------------------------------------------------------
def _load(path: str) -> dict[str, Any]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


@pytest.mark.parametrize("name", ["trace.json", "trace.json.gz"])
def test_chrome_trace(tmp_path: Any, name: str) -> None:
    with profile(record_shapes=True) as p:
        with record_function("block"):
            gk.ones(2, 2) @ gk.ones(2, 2)
    path = str(tmp_path / name)
    with open(path, "w") as f:
        f.write("old")                             # replaced whole
    p.export_chrome_trace(path)
    events = _load(path)["traceEvents"]
    by_name = {e["name"]: e for e in events}
    block, mm = by_name["block"], by_name["gradkit::matmul"]
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in events)
    assert block["cat"] == "user_annotation" and mm["cat"] == "cpu_op"
    # the operation lies inside the range that ran it
    assert block["ts"] <= mm["ts"] and mm["ts"] + mm["dur"] <= block["ts"] + block["dur"] + 1e-3
    assert mm["args"]["Input Dims"] == [[2, 2], [2, 2]]
    assert [f for f in os.listdir(tmp_path) if f != name] == []     # no temporary left behind


def test_chrome_trace_into_missing_folder_writes_nothing(tmp_path: Any) -> None:
    with profile() as p:
        gk.ones(2) * 2.0
    with pytest.raises(OSError):
        p.export_chrome_trace(str(tmp_path / "nope" / "t.json"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("gz", [False, True])
def test_tensorboard_trace_handler(tmp_path: Any, gz: bool) -> None:
    out = str(tmp_path / "log")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = gp.schedule(wait=1, warmup=1, active=1, repeat=2)
    with profile(schedule=sched, on_trace_ready=gp.tensorboard_trace_handler(out, "w0", gz)) as p:
        for _ in range(7):
            gk.ones(2) * 2.0
            p.step()
    files = sorted(os.listdir(out))
    assert len(files) == 2
    suffix = ".pt.trace.json" + (".gz" if gz else "")
    assert all(f.startswith("w0.") and f.endswith(suffix) for f in files)
    for f in files:
        names = [e["name"] for e in _load(os.path.join(out, f))["traceEvents"]]
        assert names.count("gradkit::mul") == 1 and any(n.startswith("ProfilerStep#") for n in names)


# --- a program in the style of the profiler recipe, as ``import gradkit as torch`` runs it --
_RECIPE_STYLE = '''
import torch
import torch.nn as nn
from torch.profiler import profile, record_function, ProfilerActivity

model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(4 * 3 * 3, 10))
inputs = torch.randn(2, 3, 8, 8)
with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    with record_function("model_inference"):
        model(inputs)
print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
print(prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=10))
activities = [ProfilerActivity.CPU]
if torch.cuda.is_available():
    activities += [ProfilerActivity.CUDA]
elif torch.xpu.is_available():
    activities += [ProfilerActivity.XPU]
with profile(activities=activities) as prof:
    model(inputs)
prof.export_chrome_trace(TRACE)
with profile(activities=activities, with_stack=True) as prof:
    model(inputs)
print(prof.key_averages(group_by_stack_n=5).table(sort_by="self_cpu_time_total", row_limit=2))
ready = []
def trace_handler(p):
    ready.append(p.step_num)
    p.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
with profile(activities=activities, schedule=torch.profiler.schedule(wait=1, warmup=1, active=2),
             on_trace_ready=trace_handler) as p:
    for idx in range(8):
        model(inputs)
        p.step()
print(ready)
'''


def test_recipe_style_program(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    import importlib
    import sys
    for suffix in ("", ".nn", ".profiler"):
        monkeypatch.setitem(sys.modules, "torch" + suffix, importlib.import_module("gradkit" + suffix))
    trace = str(tmp_path / "trace.json")
    exec(compile(_RECIPE_STYLE, "<recipe>", "exec"), {"__name__": "__main__", "TRACE": trace})
    out = capsys.readouterr().out
    assert "model_inference" in out and "gradkit::convolution" in out
    assert "[[2, 3, 8, 8], [4, 3, 3, 3], [4]]" in out          # the convolution's input shapes
    assert "Source Location" in out
    assert out.rstrip().endswith("[4, 8]")                    # the cycles end at PyTorch's steps
    assert any(e["name"] == "gradkit::convolution" for e in _load(trace)["traceEvents"])
    np.testing.assert_equal(os.path.exists(trace), True)

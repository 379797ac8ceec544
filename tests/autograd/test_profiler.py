"""``autograd.profiler``: what a block ran, by operation, with PyTorch's API and table layout."""
import sys
import threading

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import profiler


def _block():
    x = gk.tensor(np.linspace(1.0, 2.0, 6).reshape(2, 3), requires_grad=True)
    y = gk.ones(2, 3, requires_grad=True)
    z = gk.ones(2, 3, requires_grad=True)
    for _ in range(7):
        with profiler.record_function("step"):
            z = (z / x) * y
    return z


def test_counts_names_and_times():
    before = sys.getprofile()
    with profiler.profile() as prof:
        z = _block()
    assert sys.getprofile() is before                  # the hook is gone afterwards
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["gradkit::div"].count == 7 and rows["gradkit::mul"].count == 7
    assert rows["step"].count == 7
    step = rows["step"]
    # a range's total holds the ops run inside it; its self time does not
    inner = rows["gradkit::div"].cpu_time_total + rows["gradkit::mul"].cpu_time_total
    assert step.cpu_time_total >= inner > 0
    assert step.self_cpu_time_total == pytest.approx(step.cpu_time_total - inner, rel=1e-6)
    # the profiled block computes what it computes without a profiler
    np.testing.assert_allclose(z.detach().numpy(), _block().detach().numpy())


def test_table_layout_and_sorting():
    with profiler.profile() as prof:
        _block()
    text = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=2)
    lines = text.splitlines()
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%",
                                "CPU", "total", "CPU", "time", "avg", "#", "of", "Calls"]
    assert len(lines) == 3 + 2 + 2                      # rules, header, two rows, rule, total
    assert lines[-1].startswith("Self CPU time total:")
    with pytest.raises(AttributeError, match="no CUDA"):
        prof.key_averages().table(sort_by="cuda_time_total")


def test_disabled_records_nothing_and_record_function_without_profiler():
    with profiler.profile(enabled=False) as prof:
        _block()
    assert list(prof.key_averages()) == []
    with profiler.record_function("alone"):             # no profiler open: nothing to do
        assert gk.ones(2).sum().item() == 2.0


def test_decorator_and_threads_are_separate():
    @profiler.record_function("helper")
    def helper(t):
        return t * 2

    seen = {}

    def other():
        seen["hook"] = sys.getprofile()

    with profiler.profile() as prof:
        helper(gk.ones(3))
        th = threading.Thread(target=other)
        th.start()
        th.join()
    assert seen["hook"] is None                          # per thread, as PyTorch's CPU profiler
    rows = {r.key: r.count for r in prof.key_averages()}
    assert rows["helper"] == 1 and rows["gradkit::mul"] == 1


def test_same_rows_as_pytorch():
    torch = pytest.importorskip("torch")
    with torch.autograd.profiler.profile() as tp:
        x = torch.ones(2, 3, requires_grad=True)
        z = torch.ones(2, 3)
        for _ in range(3):
            with torch.autograd.profiler.record_function("step"):
                z = (z / x) * x
    with profiler.profile() as gp:
        x = gk.ones(2, 3, requires_grad=True)
        z = gk.ones(2, 3)
        for _ in range(3):
            with profiler.record_function("step"):
                z = (z / x) * x
    want = {(r.key.replace("aten::", ""), r.count) for r in tp.key_averages()
            if r.key in ("aten::div", "aten::mul", "step")}
    got = {(r.key.replace("gradkit::", ""), r.count) for r in gp.key_averages()}
    assert want <= got

"""gradkit.utils.benchmark: Timer on timeit, Measurement printed as PyTorch 2.13 prints it."""

from __future__ import annotations

import re

import pytest

from gradkit.utils import benchmark
from gradkit.utils.benchmark import Measurement, TaskSpec

_HEAD = re.compile(r"^<[\w.]+\.Measurement object at 0x[0-9a-f]+>\n")


def _body(m):
    text = repr(m)
    assert _HEAD.match(text), text
    return _HEAD.sub("", text)


# (raw_times, number_per_run, task spec arguments, text after the first line): recorded from
# torch.utils.benchmark.Measurement in PyTorch 2.13
RECORDED = [
    ([1e-3, 1.1e-3, 1.3e-3, 2e-3, 1e-3], 10, dict(stmt="x", setup="pass", num_threads=2),
     "x\n  Median: 110.00 us\n  IQR:    30.00 us (100.00 to 130.00)\n"
     "  5 measurements, 10 runs per measurement, 2 threads\n"
     "  WARNING: Interquartile range is 27.3% of the median measurement.\n"
     "           This suggests significant environmental influence."),
    ([1e-3, 1.01e-3, 1.03e-3, 1.15e-3, 1e-3], 10, dict(stmt="x", setup="pass", num_threads=2),
     "x\n  Median: 101.00 us\n  IQR:    3.00 us (100.00 to 103.00)\n"
     "  5 measurements, 10 runs per measurement, 2 threads"),
    ([2.5], 1, dict(stmt="x", setup="pass", num_threads=2),
     "x\n  2.50 s\n  1 measurement, 1 runs , 2 threads"),
    ([2.654e-6], 10, dict(stmt="y=x+1\nz=y*2", setup="x=1\nw=2", sub_label="S"),
     "stmt: (S)\n  y=x+1\n  z=y*2\n\nsetup:\n  x=1\n  w=2\n\n  265.40 ns\n"
     "  1 measurement, 10 runs , 1 thread"),
    ([5.088e-6], 10, dict(stmt="x+1", setup="x=1", description="a\nb"),
     "x+1\na\nb\n\nsetup: x=1\n  508.80 ns\n  1 measurement, 10 runs , 1 thread"),
    ([0.06819], 1000000, dict(stmt="x*2", setup="pass", label="L", sub_label="S", description="D"),
     "L: S\nD\n  68.19 ns\n  1 measurement, 1000000 runs , 1 thread"),
]


@pytest.mark.parametrize("case", range(len(RECORDED)))
def test_measurement_prints_as_recorded(case):
    raw, number, spec, text = RECORDED[case]
    assert _body(Measurement(number, raw, TaskSpec(**spec))) == text


@pytest.mark.parametrize("case", range(len(RECORDED)))
def test_measurement_prints_as_live_torch(case):
    tb = pytest.importorskip("torch.utils.benchmark")
    raw, number, spec, _ = RECORDED[case]
    ours = Measurement(number, raw, TaskSpec(**spec))
    theirs = tb.Measurement(number_per_run=number, raw_times=raw, task_spec=tb.TaskSpec(**spec))
    assert _body(ours) == _body(theirs)
    assert (ours.median, ours.mean, ours.iqr, ours.has_warnings) == pytest.approx(
        (theirs.median, theirs.mean, theirs.iqr, theirs.has_warnings))


def test_statistics_by_hand():
    m = Measurement(10, [1e-3, 1.1e-3, 1.3e-3, 2e-3, 1e-3], TaskSpec("x", "pass"))
    # times per run: 100, 110, 130, 200, 100 us; sorted 100 100 110 130 200
    assert m.times == pytest.approx([1e-4, 1.1e-4, 1.3e-4, 2e-4, 1e-4])
    assert m.median == pytest.approx(1.1e-4) and m.mean == pytest.approx(1.28e-4)
    assert m.iqr == pytest.approx(1.3e-4 - 1e-4)
    assert not m.meets_confidence(0.25) and m.title == "x"


def test_timer_runs_the_statement_with_globals():
    calls = []
    m = benchmark.Timer("f()", globals={"f": lambda: calls.append(1)}).timeit(7)
    assert m.number_per_run == 7 and len(m.raw_times) == 1 and m.raw_times[0] > 0
    assert len(calls) == 7 + 2                   # the warm-up runs max(7 // 100, 2) times
    calls.clear()
    seen = []
    m = benchmark.Timer("f()", globals={"f": lambda: calls.append(1)}).blocked_autorange(
        callback=lambda n, t: seen.append(n), min_run_time=0.01)
    assert sum(m.raw_times) >= 0.01 and seen and all(n == m.number_per_run for n in seen)
    assert repr(m).splitlines()[1] == "f()"


def test_select_unit():
    assert benchmark.select_unit(2.5e-8) == ("ns", 1e-9)
    assert benchmark.select_unit(3e-5) == ("us", 1e-6)
    assert benchmark.select_unit(0.5) == ("ms", 1e-3)
    assert benchmark.select_unit(2.0) == ("s", 1.0)

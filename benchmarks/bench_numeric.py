"""gradkit.numeric benchmarks: accuracy panel (vs numdifftools) and numeric.gradient speed (vs NumPy).

Run from the repository root::

    python benchmarks/bench_numeric.py           # full run (about a minute)
    python benchmarks/bench_numeric.py --quick   # smaller grid, fewer repetitions

1. Accuracy panel: the first derivative of smooth, oscillatory, near-singular, large- and
   tiny-scale functions. For gradkit's ``numeric.derivative`` and (when installed)
   ``numdifftools.Derivative``: the achieved relative error, the reported error estimate,
   and whether the estimate bounds the achieved error.
2. ``numeric.gradient`` vs ``numpy.gradient`` on a float64 grid (4096 x 4096 by default),
   both axes, ``edge_order=2``: median and minimum times (after ``gc.collect(); gc.freeze()``,
   GC disabled while timing), peak traced memory (``tracemalloc``) and an estimate of the
   memory-bandwidth floor: the bytes a gradient must move at least (read ``f`` once, write
   each output once) divided by the copy bandwidth measured with ``np.copyto``.
3. Evaluation counts: ``numeric.derivative`` against ``scipy.differentiate.derivative``
   (SciPy >= 1.15, when installed) on the accuracy panel: function evaluations, achieved
   relative error and whether each reports success.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from gradkit import numeric  # noqa: E402

PANEL: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], float]] = [
    ("smooth exp(x) @1", np.exp, np.exp, 1.0),
    ("oscillatory sin(50x) @0.3", lambda x: np.sin(50 * x), lambda x: 50 * np.cos(50 * x), 0.3),
    ("log(x) @1e-3 (near 0)", np.log, lambda x: 1 / x, 1e-3),
    ("1/(x-1) @1.001 (pole)", lambda x: 1 / (x - 1), lambda x: -1 / (x - 1) ** 2, 1.001),
    ("sqrt(x) @1e-4", np.sqrt, lambda x: 0.5 / np.sqrt(x), 1e-4),
    ("exp(x/1e6) @3e6 (large)", lambda x: np.exp(x / 1e6), lambda x: np.exp(x / 1e6) / 1e6, 3e6),
    ("sin(1e6 x) @1e-6 (tiny)", lambda x: np.sin(1e6 * x), lambda x: 1e6 * np.cos(1e6 * x), 1e-6),
]


def accuracy_panel() -> None:
    try:
        import numdifftools as nd
    except ImportError:
        nd = None
    print("== accuracy panel: first derivative, relative error (estimate) [bound holds?] ==")
    header = f"{'case':28s} {'gradkit central':>30s} {'gradkit complex':>30s}"
    print(header + (f" {'numdifftools':>30s}" if nd else "   (numdifftools not installed)"))

    def cell(value: float, error: float, exact: float) -> str:
        rel, est = abs(value - exact) / abs(exact), error / abs(exact)
        return f"{rel:9.1e} ({est:8.1e}) [{'yes' if abs(value - exact) <= error else 'NO '}]"

    for name, f, df, x in PANEL:
        exact = df(x)
        r1 = numeric.derivative(f, x)
        r2 = numeric.derivative(f, x, method="complex")
        line = f"{name:28s} {cell(float(r1.value), float(r1.error), exact):>30s} "
        line += f"{cell(float(r2.value), float(r2.error), exact):>30s}"
        if nd is not None:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = nd.Derivative(f, full_output=True)(x)
            if hasattr(res, "error_estimate"):       # numdifftools >= 0.11: one EstimateResult
                val, err = res.estimate, res.error_estimate
            else:                                     # older: (value, info)
                val, err = res[0], res[1].error_estimate
            line += f" {cell(float(val), float(err), exact):>30s}"
        print(line)


def _time(fn: Callable[[], Any], reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        gc.disable()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        gc.enable()
    return times


def _peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    out = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del out
    return peak


def gradient_speed(n: int, reps: int) -> None:
    rng = np.random.default_rng(0)
    f = rng.standard_normal((n, n))
    mb = f.nbytes / 2 ** 20
    print(f"\n== numeric.gradient vs numpy.gradient: {n}x{n} float64 ({mb:.0f} MiB), both axes, "
          f"edge_order=2, {reps} reps ==")
    ref = np.gradient(f, edge_order=2)
    got = numeric.gradient(f, edge_order=2)
    assert all(np.array_equal(a, b) for a, b in zip(ref, got)), "results differ from numpy.gradient"
    del ref, got
    src, dst = f, np.empty_like(f)
    np.copyto(dst, src)
    gc.collect()
    gc.freeze()
    copy_t = statistics.median(_time(lambda: np.copyto(dst, src), reps))
    bandwidth = 2 * f.nbytes / copy_t                       # bytes read + written per second
    dst = None  # noqa: F841  (release the copy buffer before timing)
    entries = {"numpy.gradient": lambda: np.gradient(f, edge_order=2),
               "numeric.gradient": lambda: numeric.gradient(f, edge_order=2)}
    times: dict[str, list[float]] = {k: [] for k in entries}
    for _ in range(reps):                                   # interleaved: drifts hit both alike
        for k, fn in entries.items():
            times[k] += _time(fn, 1)
    peaks = {k: _peak(fn) for k, fn in entries.items()}
    floor = 3 * f.nbytes / bandwidth                        # read f once, write 2 outputs once
    for k in entries:
        print(f"{k:18s} median {statistics.median(times[k]) * 1e3:8.1f} ms   min "
              f"{min(times[k]) * 1e3:8.1f} ms   peak traced memory {peaks[k] / 2 ** 20:7.0f} MiB")
    ratio = statistics.median(times["numeric.gradient"]) / statistics.median(times["numpy.gradient"])
    print(f"ratio numeric/numpy (medians): {ratio:.2f}x (target <= 1.10x)")
    print(f"copy bandwidth {bandwidth / 1e9:.1f} GB/s (np.copyto, read+write); bandwidth floor for "
          f"3 x {mb:.0f} MiB moved: {floor * 1e3:.1f} ms")
    gc.unfreeze()


def evaluation_counts() -> None:
    try:
        from scipy.differentiate import derivative as scipy_derivative
    except ImportError:
        print("\n(scipy.differentiate not installed: no evaluation-count comparison)")
        return
    print("\n== evaluations and relative error: numeric.derivative vs scipy.differentiate.derivative ==")
    print(f"{'case':28s} {'gradkit nfev':>12s} {'rel. error':>10s} {'ok':>4s}   "
          f"{'scipy nfev':>10s} {'rel. error':>10s} {'ok':>4s}")
    for name, f, df, x in PANEL:
        exact = df(x)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = numeric.derivative(f, x)
            s = scipy_derivative(f, x)
        ours, theirs = abs(float(r.value) - exact) / abs(exact), abs(float(s.df) - exact) / abs(exact)
        print(f"{name:28s} {r.nfev:12d} {ours:10.1e} {'yes' if bool(r.success) else 'no':>4s}   "
              f"{int(s.nfev):10d} {theirs:10.1e} {'yes' if bool(s.success) else 'no':>4s}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1024x1024 grid, 5 reps")
    p.add_argument("--n", type=int, default=None, help="grid size (default 4096)")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 11)")
    args = p.parse_args()
    n = args.n or (1024 if args.quick else 4096)
    reps = args.reps or (5 if args.quick else 11)
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    accuracy_panel()
    evaluation_counts()
    gradient_speed(n, reps)


if __name__ == "__main__":
    main()

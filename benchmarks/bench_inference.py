"""Per-operation cost of ``x * y`` on small tensors in each grad mode (inference tensors, #17).

Run from the repository root::

    python benchmarks/bench_inference.py            # gradkit from this working tree
    python benchmarks/bench_inference.py --path DIR # gradkit from DIR (e.g. an older checkout)

Cases: ``plain`` (no input requires grad), ``record`` (one input requires grad: a node is
recorded), ``no_grad`` and ``inference_mode`` (the same op inside each mode). Each case runs
``--inner`` products per sample, ``--reps`` samples; the minimum and the median per op (ns)
are printed. Compare two checkouts by running the script once for each, alternately.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--path", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--inner", type=int, default=20000)
    a = p.parse_args()
    sys.path.insert(0, a.path)
    import gradkit as gk

    x = gk.ones(4)
    y = gk.ones(4)
    w = gk.ones(4, requires_grad=True)

    def plain() -> None:
        for _ in range(a.inner):
            x * y

    def record() -> None:
        for _ in range(a.inner):
            w * y

    def in_no_grad() -> None:
        with gk.no_grad():
            for _ in range(a.inner):
                w * y

    def in_inference() -> None:
        with gk.inference_mode():
            for _ in range(a.inner):
                w * y

    cases = {"plain": plain, "record": record, "no_grad": in_no_grad,
             "inference_mode": in_inference}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for fn in cases.values():
        fn()
    gc.collect()
    gc.disable()
    for _ in range(a.reps):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) / a.inner * 1e9)
    gc.enable()
    print(f"gradkit from {a.path}")
    for name, ts in times.items():
        print(f"  {name:15s} min {min(ts):7.0f} ns   median {statistics.median(ts):7.0f} ns")


if __name__ == "__main__":
    main()

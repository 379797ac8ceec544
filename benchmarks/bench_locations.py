"""Cost of recording source locations for diagnostics (issue #10): on against off.

Run from the repository root::

    python benchmarks/bench_locations.py [--reps 15]

The 300-op chain of bench_ops.py (forward + backward, and forward under no_grad) on a 0-d and a
100-element float32 tensor, with ``gradkit.autograd.set_record_locations`` on and off,
interleaved, medians. Target: at most 10% overhead.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench_ops import build_chain, input_array  # noqa: E402

import gradkit as gk  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args(argv)
    chain = build_chain(gk.sin, gk.cos, gk.tanh, gk.exp, gk.sum)
    print("| case | locations on µs/op | off µs/op | overhead |")
    print("|---|---|---|---|")
    for case in ("scalar", "vec100"):
        x = gk.tensor(input_array(case), requires_grad=True)

        def fwdbwd(x: gk.Tensor = x) -> None:
            x.grad = None
            chain(x).backward()

        def fwd(x: gk.Tensor = x) -> None:
            with gk.no_grad():
                chain(x)

        for label, fn in (("fwd+bwd", fwdbwd), ("fwd only, no_grad", fwd)):
            times: dict[bool, list[float]] = {True: [], False: []}
            for on in (True, False):
                with gk.autograd.set_record_locations(on):
                    fn()
            gc.collect()
            gc.freeze()
            for _ in range(args.reps):
                for on in (True, False):
                    with gk.autograd.set_record_locations(on):
                        gc.disable()
                        t0 = time.perf_counter()
                        for _ in range(5):
                            fn()
                        times[on].append((time.perf_counter() - t0) / 5 / 300)
                        gc.enable()
            gc.unfreeze()
            on_, off = statistics.median(times[True]), statistics.median(times[False])
            print(f"| {case} {label} | {on_ * 1e6:.2f} | {off * 1e6:.2f} | "
                  f"{(on_ / off - 1) * 100:+.1f}% |")


if __name__ == "__main__":
    main()

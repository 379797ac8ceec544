"""Full Hessian of ``f(x) = logsumexp(A @ x) + 0.5 * x @ x`` (A 200x100, float64).

Target (issue #4): gradkit at most 2x ``torch.autograd.functional.hessian(f, x, vectorize=True)``.

Run from the repository root::

    python benchmarks/bench_hessian.py [--reps 31]

Timed: ``gradkit.func.hessian(f)(x)`` (the default: columns by the double-VJP trick, as
``torch.func.hessian``'s ``jacfwd`` takes them; ``mode='rev-over-rev'`` (rows walked back) and
``mode='fwd-over-rev'`` (vmapped dual numbers) are timed beside it) and
``gradkit.autograd.functional.hessian(f, x)`` against
PyTorch with ``torch.set_num_threads(1)`` and ``(2)``; the ratio uses the faster PyTorch entry.
NumPy's BLAS thread count is fixed when NumPy loads, so gradkit is timed twice as well, in child
processes with ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` = 1 and = the default; the ratio uses
the faster one. Warm-up first, then ``gc.collect(); gc.freeze()``; entries interleaved per
repetition; medians (and minima) in milliseconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((200, 100)), rng.standard_normal(100)


def _time(fn, reps: int) -> list[float]:
    fn()
    out = []
    for _ in range(reps):
        gc.disable()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
        gc.enable()
    return out


def child(reps: int) -> None:
    """Time gradkit in this process (BLAS threads already set by the parent)."""
    sys.path.insert(0, str(ROOT))
    import gradkit as gk
    import gradkit.autograd.functional as F
    import gradkit.func as gf
    from gradkit.autograd._batched import forward_ad_module

    a, x0 = _problem()
    A, x = gk.tensor(a), gk.tensor(x0)

    def f(x):
        return gk.logsumexp(A @ x, 0) + 0.5 * x @ x

    entries = {"gradkit.func.hessian": lambda: gf.hessian(f)(x),
               "gradkit.func.hessian(mode='rev-over-rev')": lambda: gf.hessian(f, mode="rev-over-rev")(x),
               "gradkit.func.hessian(mode='fwd-over-rev')": lambda: gf.hessian(f, mode="fwd-over-rev")(x),
               "gradkit.autograd.functional.hessian": lambda: F.hessian(f, x)}
    for fn in entries.values():
        fn()
    gc.collect()
    gc.freeze()
    times: dict[str, list[float]] = {k: [] for k in entries}
    for _ in range(reps):
        for k, fn in entries.items():
            times[k] += _time(fn, 1)
    print(json.dumps({"times": times, "forward_ad": forward_ad_module() is not None}))


def torch_times(reps: int) -> dict[str, list[float]]:
    import torch
    a, x0 = _problem()
    A, x = torch.tensor(a), torch.tensor(x0)

    def f(x):
        return torch.logsumexp(A @ x, 0) + 0.5 * x @ x

    def run() -> None:
        torch.autograd.functional.hessian(f, x, vectorize=True)

    out: dict[str, list[float]] = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        run()
        gc.collect()
        gc.freeze()
        out[f"torch (threads={threads})"] = _time(run, reps)
        gc.unfreeze()
    return out


def check() -> float:
    """Largest difference between the gradkit and PyTorch Hessians."""
    import torch
    sys.path.insert(0, str(ROOT))
    import gradkit as gk
    import gradkit.func as gf
    a, x0 = _problem()
    A = gk.tensor(a)
    H = gf.hessian(lambda x: gk.logsumexp(A @ x, 0) + 0.5 * x @ x)(x0)
    At = torch.tensor(a)
    Ht = torch.autograd.functional.hessian(lambda x: torch.logsumexp(At @ x, 0) + 0.5 * x @ x,
                                           torch.tensor(x0), vectorize=True)
    return float(np.abs(H - Ht.numpy()).max())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=31)
    ap.add_argument("--child", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.reps)
        return
    results: dict[str, list[float]] = {}
    fwad = False
    for label, env in (("threads=1", {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}),
                       ("default threads", {})):
        proc = subprocess.run([sys.executable, __file__, "--child", "--reps", str(args.reps)],
                              env={**os.environ, **env}, capture_output=True, text=True, check=True)
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        fwad = data["forward_ad"]
        for k, v in data["times"].items():
            results[f"{k} ({label})"] = v
    results.update(torch_times(args.reps))
    print(f"Hessian of logsumexp(A @ x) + 0.5 x.x, A 200x100 float64, {args.reps} reps; "
          f"forward_ad module present: {fwad}")
    print(f"max |H_gradkit - H_torch| = {check():.2e}")
    for k, v in results.items():
        print(f"  {k:<62s} median {np.median(v) * 1e3:8.3f} ms   min {np.min(v) * 1e3:8.3f} ms")
    best_torch = min(np.median(v) for k, v in results.items() if k.startswith("torch"))
    for name in ("gradkit.func.hessian", "gradkit.autograd.functional.hessian"):
        best = min(np.median(v) for k, v in results.items() if k.startswith(name + " "))
        print(f"ratio {name} / torch vectorize=True (best medians): {best / best_torch:.2f} "
              f"(target <= 2)")


if __name__ == "__main__":
    main()

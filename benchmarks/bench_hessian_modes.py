"""``gradkit.func.hessian``'s modes against ``torch.func.hessian`` on small and medium problems.

Run from the repository root::

    python benchmarks/bench_hessian_modes.py [--reps 30]

Problems: ``sin(x).sum()`` (5), ``tanh(W @ x).sum()`` (W 64x32), the jacobians/hessians
tutorial's ``predict`` (``linear(x, w, b).tanh()``, D=16, float32, Hessian in ``x``) and
``logsumexp(A @ x) + 0.5 x.x`` (A 200x100). Entries interleaved per repetition, one torch
thread; minima and medians in milliseconds. Also checks that the default's signs of zero are
``torch.func.hessian``'s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import torch

    import gradkit as gk
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=30)
    reps = ap.parse_args().reps
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    a, w32 = rng.standard_normal((200, 100)), rng.standard_normal((64, 32))
    probs = {
        "sin5": (lambda L: lambda x: x.sin().sum(), [rng.standard_normal(5)], 0),
        "tanh_mlp32": (lambda L: lambda x, W=L.tensor(w32): (W @ x).tanh().sum(),
                       [rng.standard_normal(32)], 0),
        "tutorial_predict16": (lambda L: lambda w, b, x: L.nn.functional.linear(x, w, b).tanh(),
                               [rng.standard_normal(s).astype(np.float32)
                                for s in ((16, 16), (16,), (16,))], 2),
        "logsumexp200x100": (lambda L: lambda x, A=L.tensor(a): L.logsumexp(A @ x, 0) + 0.5 * (x @ x),
                             [rng.standard_normal(100)], 0),
    }
    for name, (mk, arrays, argn) in probs.items():
        ta = [torch.tensor(v) for v in arrays]
        ga = [gk.tensor(v) for v in arrays]
        fns = {
            "torch.func.hessian": lambda mk=mk, n=argn, ta=ta: torch.func.hessian(mk(torch), n)(*ta),
            "gradkit default": lambda mk=mk, n=argn, ga=ga: gk.func.hessian(mk(gk), n)(*ga),
            "rev-over-rev": lambda mk=mk, n=argn, ga=ga: gk.func.hessian(
                mk(gk), n, mode="rev-over-rev")(*ga),
            "fwd-over-rev": lambda mk=mk, n=argn, ga=ga: gk.func.hessian(
                mk(gk), n, mode="fwd-over-rev")(*ga),
        }
        times: dict[str, list[float]] = {k: [] for k in fns}
        for fn in fns.values():
            fn()
        for _ in range(reps):
            for k, fn in fns.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
        ours, theirs = fns["gradkit default"]().numpy(), fns["torch.func.hessian"]().numpy()
        zeros = theirs == 0
        same = bool((np.signbit(ours[zeros]) == np.signbit(theirs[zeros])).all())
        print(f"{name}: max diff {np.abs(ours - theirs).max():.1e}, signs of zeros equal: {same}")
        for k, v in times.items():
            print(f"  {k:20s} min {min(v) * 1e3:8.3f} ms   median {np.median(v) * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()

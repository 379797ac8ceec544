"""Per-example gradients through ``dot`` and matrix-times-vector products under ``vmap``.

Run from the repository root::

    python benchmarks/bench_vmap_signs.py [--reps 7]

The batching rules for a batched ``dot`` (a product and a sum) and a matrix-vector product
with both operands batched (a product and a sum while small, an einsum above) give gradients
whose zeros keep PyTorch's signs; this times ``vmap(grad(loss))`` through them at a few sizes
(best CPU time per call, milliseconds) to compare with the batched GEMMs they replaced (run
the same script on the older checkout).
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradkit as gk  # noqa: E402
import gradkit.func as gf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    reps = parser.parse_args().reps
    rng = np.random.default_rng(0)
    dot = gf.vmap(gf.grad(lambda w, e, t: ((e.dot(w).relu() - t) ** 2).mean()), in_dims=(None, 0, 0))
    mv = gf.vmap(gf.grad(lambda W, e, t: ((W @ e).relu().sum() - t) ** 2), in_dims=(None, 0, 0))
    for B, d, m in [(64, 5, 3), (32, 64, 16), (256, 512, 64)]:
        e = gk.tensor(rng.standard_normal((B, d)))
        t = gk.tensor(rng.standard_normal(B))
        w = gk.tensor(rng.standard_normal(d))
        W = gk.tensor(rng.standard_normal((m, d)))
        n = 200 if B * d * m < 100_000 else 5
        for name, f, args in [("dot", dot, (w, e, t)), ("mv", mv, (W, e, t))]:
            best = min(timeit.repeat(lambda f=f, args=args: f(*args), number=n, repeat=reps,
                                     timer=time.process_time)) / n
            print(f"B={B:4d} d={d:4d} m={m:3d}  {name:3s} vmap(grad): {best * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()

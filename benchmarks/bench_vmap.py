"""Per-example gradients of a small MLP: ``vmap(grad(loss))`` against a Python loop of ``grad``.

Run from the repository root::

    python benchmarks/bench_vmap.py [--batch 64] [--reps 21]

MLP 32 -> 64 (tanh) -> 10, squared error, float64; parameters unmapped (``in_axes=(None, 0, 0)``).
Medians in milliseconds; the two results are checked equal first.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradkit as gk  # noqa: E402
import gradkit.func as gf  # noqa: E402


def loss(params, x, y):
    h = gk.tanh(x @ params["w1"] + params["b1"])
    return ((h @ params["w2"] + params["b2"] - y) ** 2).mean()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    params = {"w1": rng.standard_normal((32, 64)) * 0.2, "b1": np.zeros(64),
              "w2": rng.standard_normal((64, 10)) * 0.2, "b2": np.zeros(10)}
    xs, ys = rng.standard_normal((args.batch, 32)), rng.standard_normal((args.batch, 10))
    per_ex = gf.vmap(gf.grad(loss), in_axes=(None, 0, 0))
    grad = gf.grad(loss)

    def loop():
        return [grad(params, x, y) for x, y in zip(xs, ys)]

    a, b = per_ex(params, xs, ys), loop()
    assert gf._vmap_stats["loop"] == 0, gf._vmap_stats["why"]
    for k in params:
        np.testing.assert_allclose(a[k], np.stack([g[k] for g in b]), atol=1e-12)
    times = {}
    for name, fn in (("vmap(grad)", lambda: per_ex(params, xs, ys)), ("loop of grad", loop)):
        fn()
        ts = []
        for _ in range(args.reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        times[name] = np.median(ts)
    print(f"per-example gradients, MLP 32-64-10, batch {args.batch}, {args.reps} reps (median):")
    for name, t in times.items():
        print(f"  {name:<14s} {t * 1e3:8.3f} ms")
    print(f"  speed-up vmap(grad) vs loop: {times['loop of grad'] / times['vmap(grad)']:.1f}x")


if __name__ == "__main__":
    main()

"""Where the compiled 784-512-512-10 MLP step's time goes: its matrix products alone against
PyTorch's (issue #18, the ``mlp-784-step`` row of ``bench_compile.py``).

Run from the repository root::

    python benchmarks/bench_mlp_floor.py            # 25 interleaved repetitions
    python benchmarks/bench_mlp_floor.py --reps 60

One process, one BLAS thread for NumPy's OpenBLAS and one thread for PyTorch; medians of
process CPU time over interleaved samples (``bench_compile``'s method). Entries:

* ``torch step``: ``bench_compile``'s PyTorch SGD step (zero_grad, forward, MSE, backward, step);
* ``torch mm x8``: PyTorch's ``mm`` alone on the step's eight products (shapes and layouts as
  its ``linear`` forward and backward make them: ``x @ W.T``, ``g @ W``, ``g.T @ x``);
* ``compiled step``: ``gradkit.compile`` of the gradkit step, a whole call (state walk, guards,
  write-back);
* ``compiled program``: the generated program alone, on the same inputs (no walk, no
  write-back);
* ``numpy mm x8``: NumPy's ``matmul`` alone on the eight products in the orientations the
  compiled program uses (the forward as ``(W @ x.T).T`` copied to C order, the backward as
  eager makes it), and ``numpy mm x8 (eager's)``: in eager's own orientations.

The floor of the compiled step is the NumPy products; the rest (the SGD updates, tanh, the
loss, the bias sums, the call's walk and bookkeeping) is what a replay can shave.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_compile  # noqa: E402
import bench_ops  # noqa: E402

SIZES = (784, 512, 512, 10)
BATCH = 64


def products(rng):
    """The eight products of one step (float32), NumPy's two orientations and PyTorch's."""
    import torch
    f32 = np.float32
    x = rng.normal(size=(BATCH, SIZES[0])).astype(f32)
    ws = [rng.normal(size=(b, a)).astype(f32) for a, b in zip(SIZES[:-1], SIZES[1:])]
    hs = [x] + [rng.normal(size=(BATCH, b)).astype(f32) for b in SIZES[1:-1]]
    gs = [rng.normal(size=(BATCH, b)).astype(f32) for b in SIZES[1:]]
    mm = np.matmul
    ours, eager, theirs = [], [], []
    for i, (w, h, g) in enumerate(zip(ws, hs, gs)):
        tw, th, tg = (torch.from_numpy(a) for a in (w, h, g))
        big = w.shape[0] * h.shape[0] >= 4096          # _patterns._SWAP_MIN
        ours.append((lambda w=w, h=h: np.ascontiguousarray(mm(w, h.T).T)) if big
                    else (lambda w=w, h=h: mm(h, w.T)))                  # forward
        eager.append(lambda w=w, h=h: mm(h, w.T))
        theirs.append(lambda tw=tw, th=th: torch.mm(th, tw.t()))
        for lst in (ours, eager):
            lst.append(lambda g=g, h=h: mm(g.T, h))                     # weight gradient
        theirs.append(lambda tg=tg, th=th: torch.mm(tg.t(), th))
        if i > 0:                                                        # input gradient
            for lst in (ours, eager):
                lst.append(lambda g=g, w=w: mm(g, w))
            theirs.append(lambda tg=tg, tw=tw: torch.mm(tg, tw))
    return ours, eager, theirs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--inner", type=int, default=10, help="calls per timed sample")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare with")
        return
    setter, _ = bench_ops.numpy_blas_threads()
    if setter is not None:
        setter(1)
    torch.set_num_threads(1)
    entries = bench_compile.mlp(SIZES)
    cs = entries["gradkit compiled"][0]
    e = list(cs.cache.values())[-1][0]          # the signature of a step after the first
    fn = e.prog.fn
    held = {}

    def spy(*a):
        held["a"] = a
        return fn(*a)
    e.prog.fn = spy
    cs()
    e.prog.fn = fn
    inputs = [a.copy() for a in held["a"]]            # the program updates its weights in place
    ours, eager, theirs = products(np.random.default_rng(0))
    runs = {
        "torch step": entries["torch eager"][0],
        "torch mm x8": lambda: [f() for f in theirs],
        "compiled step": cs,
        "compiled program": lambda: fn(*inputs),
        "numpy mm x8": lambda: [f() for f in ours],
        "numpy mm x8 (eager's)": lambda: [f() for f in eager],
    }
    if "jax jit" in entries:
        runs["jax jit step"] = entries["jax jit"][0]
    times = {k: [] for k in runs}
    for f in runs.values():
        f()
        f()
    gc.collect()
    gc.freeze()
    items = list(runs.items())
    for _ in range(args.reps):
        random.shuffle(items)
        for k, f in items:
            gc.disable()
            t0 = time.process_time()
            for _ in range(args.inner):
                f()
            times[k].append((time.process_time() - t0) / args.inner)
            gc.enable()
    gc.unfreeze()
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["torch step"]
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32; one thread; "
          f"medians of process CPU time, {args.reps} interleaved repetitions x {args.inner}")
    for k in runs:
        print(f"  {k:<24} {med[k] * 1e3:7.3f} ms  {med[k] / base:5.2f}x torch step")
    rest = med["compiled program"] - med["numpy mm x8"]
    call = med["compiled step"] - med["compiled program"]
    print(f"  compiled step = products {med['numpy mm x8'] * 1e3:.3f} + the rest of the program "
          f"{rest * 1e3:.3f} + the call around it {call * 1e3:.3f} ms")
    print(f"  0.8x torch step = {0.8 * base * 1e3:.3f} ms: room beside the products "
          f"{(0.8 * base - med['numpy mm x8']) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()

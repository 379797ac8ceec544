"""Dask-backed gradients (issue #9): what laziness and chunking cost, and what they buy.

Run from the repository root::

    python benchmarks/bench_dask.py            # 2,000,000 x 20 float64 (320 MB)
    python benchmarks/bench_dask.py --quick    # 200,000 x 20

The loss and gradient of logistic regression (loss + gradients computed together):

* ``numpy``: gradkit on NumPy-backed tensors, the data in memory.
* ``dask threads``: the same code on Dask-backed tensors, 16 row chunks, the local threaded
  scheduler (graph building, ``gradkit.compute`` of loss and gradients in one pass).
* ``dask cluster``: the same on a ``LocalCluster`` of 2 worker processes, the data persisted
  on the workers.
* ``dask, no gradkit``: the hand-written gradient ``X.T @ (sigmoid(Xw) - y) / n`` in plain
  dask.array, for the cost of the computation itself on the same chunks.

Medians of interleaved repetitions, gc frozen after set-up.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, __file__.rsplit("/benchmarks/", 1)[0])

import gradkit as gk  # noqa: E402


def _loss(X: Any, y: Any, w: Any, b: Any) -> Any:
    z = X @ w + b
    # log(1 + e^z) - y z, written stably
    return (gk.nn.functional.softplus(z) - y * z).mean()


def gradkit_step(X: Any, y: Any, **compute: Any) -> Callable[[], Any]:
    w = gk.zeros(X.shape[1], dtype=gk.float64, requires_grad=True)
    b = gk.tensor(0.0, dtype=gk.float64, requires_grad=True)

    def step() -> Any:
        loss = _loss(X, y, w, b)
        gw, gb = gk.autograd.grad(loss, [w, b])
        return gk.compute(loss, gw, gb, **compute)
    return step


def dask_step(Xd: Any, yd: Any, **compute: Any) -> Callable[[], Any]:
    import dask
    w = np.zeros(Xd.shape[1])

    def step() -> Any:
        z = Xd @ w
        p = 1.0 / (1.0 + np.exp(-z))
        n = Xd.shape[0]
        return dask.compute(np.mean(np.logaddexp(0.0, z) - yd * z), Xd.T @ (p - yd) / n,
                            np.mean(p - yd), **compute)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    n, k = (200_000, 20) if args.quick else (2_000_000, 20)
    reps = 3 if args.quick else 7
    rng = np.random.default_rng(0)
    Xn = rng.standard_normal((n, k))
    yn = (Xn @ rng.standard_normal(k) + rng.standard_normal(n) > 0).astype(np.float64)
    chunks = n // 16
    Xd, yd = da.from_array(Xn, chunks=(chunks, k)), da.from_array(yn, chunks=chunks)

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    client = Client(cluster, set_as_default=False)
    Xc, yc = client.persist([Xd, yd])

    cases = {
        "numpy (in memory)": gradkit_step(gk.tensor(Xn), gk.tensor(yn)),
        "dask threads, 16 chunks": gradkit_step(gk.tensor(Xd), gk.tensor(yd), scheduler="threads"),
        "dask cluster, 2 processes": gradkit_step(gk.tensor(Xc), gk.tensor(yc), scheduler=client),
        "dask threads, no gradkit": dask_step(Xd, yd, scheduler="threads"),
        "dask cluster, no gradkit": dask_step(Xc, yc, scheduler=client),
    }
    ref = cases["numpy (in memory)"]()
    for fn in cases.values():
        got = fn()
        for a, b in zip(got, ref):
            np.testing.assert_allclose(np.asarray(getattr(a, "_data", a)),
                                       np.asarray(getattr(b, "_data", b)), rtol=1e-9)
    gc.collect()
    gc.freeze()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(reps):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    print(f"logistic loss + gradient, {n} x {k} float64, {n // chunks} chunks; ms")
    print("| case | median | min |")
    print("|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts) * 1e3:.1f} | {min(ts) * 1e3:.1f} |")
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()

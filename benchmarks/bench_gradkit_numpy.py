"""What ``gradkit.numpy`` costs on NumPy-only code (issue #16).

Run from the repository root::

    python benchmarks/bench_gradkit_numpy.py            # 41 interleaved rounds
    python benchmarks/bench_gradkit_numpy.py --quick    # 11 rounds

The same NumPy-only script (least squares, a logistic-regression loop, statistics, an FFT,
sorting, shape manipulation: 115 calls of wrapped NumPy functions, plus ufuncs and operators)
runs once with ``numpy`` and once with ``gradkit.numpy`` as its ``np``, in alternating order,
each round (best of 3 x 5 runs each); the printed ratio is the median of the per-round ratios
(``gradkit.numpy`` time / ``numpy`` time), gc frozen after set-up. Target: <= 1.05. It runs
on two data sizes: small arrays (a 400 x 12 matrix: about 10 us of NumPy work per call, where
the check's few hundred nanoseconds show most) and medium ones (2000 x 20).

A second table gives the added cost of one call for a few tiny calls, where NumPy's own work is
smallest (ufuncs are NumPy's own objects and cost nothing extra; wrapped functions pay one check
of their arguments' types).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import timeit
import types
from typing import Any

import numpy

sys.path.insert(0, __file__.rsplit("/benchmarks/", 1)[0])

import gradkit.numpy as gnp  # noqa: E402


def script(np: Any, data: dict[str, Any]) -> float:
    """A NumPy-only computation, written against the module ``np``."""
    X, y, sig = data["X"], data["y"], data["sig"]
    n, d = X.shape
    # least squares, two ways
    w_ne = np.linalg.solve(X.T @ X + 1e-3 * np.eye(d), X.T @ y)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    # logistic regression by gradient descent
    lab = (y > np.median(y)).astype(np.float64)
    w = np.zeros(d)
    for _ in range(25):
        p = 1.0 / (1.0 + np.exp(-np.dot(X, w)))
        g = np.dot(X.T, p - lab) / n
        w = w - 0.5 * g
        loss = -np.mean(lab * np.log(p + 1e-12) + (1 - lab) * np.log(1 - p + 1e-12))
    # statistics
    m, s = np.mean(X, axis=0), np.std(X, axis=0)
    Z = (X - m) / s
    C = np.cov(Z, rowvar=False)
    evals = np.linalg.eigvalsh(C)
    hist, edges = np.histogram(y, bins=20)
    q = np.percentile(y, [5, 50, 95])
    # a signal
    spec = np.abs(np.fft.rfft(sig))
    smooth = np.convolve(sig, np.ones(9) / 9, mode="same")
    peak = int(np.argmax(spec))
    # shapes, sorting, selection
    A = np.concatenate([X, X ** 2], axis=1)
    B = np.stack([m, s])
    cs = np.cumsum(np.reshape(A, (-1,)))
    order = np.argsort(y)
    srt = np.sort(y)
    D = np.where(Z > 0, Z, 0.01 * Z)
    E = np.clip(D, -1.0, 1.0).sum(axis=1)
    F = np.vstack([np.hstack([B, B]), np.zeros((1, 2 * d))])
    G = np.transpose(np.tile(B, (3, 1)))
    H = np.array([[1.0, 2.0], [3.0, 4.0]]) @ np.array([0.5, 0.5])
    I_ = np.outer(w, w).trace() + np.linalg.norm(w_ne - w_ls) + np.linalg.det(C[:3, :3])
    J = np.unique(np.round(y, 1)).size + np.count_nonzero(D > 0.5) + np.sum(np.isnan(Z))
    K = np.einsum("ij,j->i", X, w).max() + np.diff(srt).min() + np.interp(0.3, edges[1:], hist)
    return float(loss + evals.sum() + q.sum() + peak + smooth.sum() + cs[-1] + order[0]
                 + E.sum() + F.sum() + G.sum() + H.sum() + I_ + J + K)


def _data(n: int, d: int, m: int) -> dict[str, Any]:
    rng = numpy.random.default_rng(0)
    X = rng.standard_normal((n, d))
    return {"X": X, "y": X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n),
            "sig": numpy.sin(numpy.linspace(0, 40, m)) + rng.standard_normal(m) * 0.1}


def ratio(data: dict[str, Any], rounds: int) -> tuple[float, float, float]:
    """Median times (numpy, gradkit.numpy) and the median of the per-round ratios."""
    # one copy of the script's code per module, as a real script only ever sees one ``np``
    # (a shared code object would make the interpreter's attribute caches flip between them)
    runs = {mod: types.FunctionType(script.__code__.replace(co_name=f"script_{mod.__name__}"),
                                    script.__globals__) for mod in (numpy, gnp)}
    assert runs[numpy](numpy, data) == runs[gnp](gnp, data)
    for _ in range(3):  # warm-up
        runs[numpy](numpy, data), runs[gnp](gnp, data)
    gc.collect()
    gc.freeze()
    ratios, t_np, t_gnp = [], [], []
    for r in range(rounds):
        order = (numpy, gnp) if r % 2 == 0 else (gnp, numpy)
        times = {}
        for mod in order:
            best = float("inf")
            for _ in range(3):  # best of 3 (each 5 runs): preemption only ever adds time
                t0 = time.perf_counter()
                for _ in range(5):
                    runs[mod](mod, data)
                best = min(best, (time.perf_counter() - t0) / 5)
            times[mod] = best
        t_np.append(times[numpy])
        t_gnp.append(times[gnp])
        ratios.append(times[gnp] / times[numpy])
    gc.unfreeze()
    return statistics.median(t_np), statistics.median(t_gnp), statistics.median(ratios)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    rounds = 11 if ap.parse_args().quick else 41
    print(f"NumPy-only script (115 wrapped NumPy calls), median of {rounds} interleaved rounds")
    print(f"  {'data':28s} {'numpy':>9s} {'gradkit.numpy':>14s} {'ratio':>7s}  (target <= 1.05)")
    for label, shape in (("small: X 400 x 12", (400, 12, 1024)),
                         ("medium: X 2000 x 20", (2000, 20, 4096))):
        t_np, t_gnp, r = ratio(_data(*shape), rounds)
        print(f"  {label:28s} {t_np * 1e3:6.3f} ms {t_gnp * 1e3:11.3f} ms {r:7.3f}")

    print("\nadded cost of one tiny call (best of 300 x 2000)")
    a, b = numpy.ones((10, 10)), numpy.ones(10)
    for stmt in ("np.sin(b)", "np.dot(a, b)", "np.sum(a, axis=0)", "np.zeros((3, 4))",
                 "np.concatenate([b, b])", "np.array([1.0, 2.0, 3.0])"):
        ts = {}
        for name, mod in (("numpy", numpy), ("gnp", gnp)):
            ts[name] = min(timeit.repeat(stmt, globals={"np": mod, "a": a, "b": b},
                                         number=2000, repeat=300)) / 2000
        print(f"  {stmt:28s} numpy {ts['numpy'] * 1e9:7.0f} ns   "
              f"+{(ts['gnp'] - ts['numpy']) * 1e9:5.0f} ns")


if __name__ == "__main__":
    main()

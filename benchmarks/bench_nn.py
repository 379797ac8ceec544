"""Neural-network and NumPy-dispatch benchmarks (issue #3): gradkit against PyTorch eager.

Run from the repository root::

    python benchmarks/bench_nn.py            # full run
    python benchmarks/bench_nn.py --quick    # smoke run

Cases:

* ``mlp``: one SGD step of a 784-512-512-10 ReLU MLP, batch 256, float32, cross-entropy loss
  (forward, backward, in-place parameter update, zero the gradients). Target: <= 1.2x PyTorch.
* ``conv``: ``conv2d`` forward + backward, batch 32, 3 -> 16 channels, 32x32, 3x3 kernel,
  padding 1, followed by a sum. Target: <= 3x PyTorch.
* ``dispatch``: ``np.sin(t)`` against ``gradkit.sin(t)`` on a 100-element tensor that requires
  grad (forward only, recorded). Target: the NumPy spelling at most 1.5 us slower.

Method (same helpers as bench_ops.py): set-up first, ``gc.freeze()``, interleaved random-order
repetitions, medians (and minima). PyTorch and NumPy's BLAS are each measured with 1 and 2 threads
and each library is represented by its faster setting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench_ops import (Entry, _set_blas_threads, _set_torch_threads, calibrate,  # noqa: E402
                       numpy_blas_threads, run_round_robin)

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402


def _mlp_arrays(rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    sizes = [784, 512, 512, 10]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32))
        params.append(np.zeros(b, np.float32))
    X = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    return params, X, y


def gradkit_mlp(params0, X0, y0):
    params = [gk.tensor(p, requires_grad=True) for p in params0]
    X, y = gk.tensor(X0), gk.tensor(y0)

    def step():
        h = X
        for i in range(0, len(params) - 2, 2):
            h = gk.relu(h @ params[i] + params[i + 1])
        loss = F.cross_entropy(h @ params[-2] + params[-1], y)
        loss.backward()
        with gk.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None
    return step


def torch_mlp(params0, X0, y0):
    import torch
    params = [torch.tensor(p, requires_grad=True) for p in params0]
    X, y = torch.tensor(X0), torch.tensor(y0)

    def step():
        h = X
        for i in range(0, len(params) - 2, 2):
            h = torch.relu(h @ params[i] + params[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ params[-2] + params[-1], y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None
    return step


def conv_case(lib, x0, w0, b0):
    if lib == "gradkit":
        x, w, b = (gk.tensor(a, requires_grad=True) for a in (x0, w0, b0))

        def step():
            F.conv2d(x, w, b, padding=1).sum().backward()
            x.grad = w.grad = b.grad = None
        return step
    import torch
    x, w, b = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))

    def tstep():
        torch.nn.functional.conv2d(x, w, b, padding=1).sum().backward()
        x.grad = w.grad = b.grad = None
    return tstep


def build(quick: bool) -> list[Entry]:
    rng = np.random.default_rng(0)
    params, X, y = _mlp_arrays(rng)
    x0 = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    w0 = (rng.standard_normal((16, 3, 3, 3)) * 0.2).astype(np.float32)
    b0 = np.zeros(16, np.float32)
    setter, _ = numpy_blas_threads()
    entries = []
    for n in (1, 2):
        pre = _set_blas_threads(setter, n) if setter else None
        entries.append(Entry(("mlp", "gradkit", n), gradkit_mlp(params, X, y), pre))
        entries.append(Entry(("conv", "gradkit", n), conv_case("gradkit", x0, w0, b0), pre))
    try:
        import torch  # noqa: F401
        for n in (1, 2):
            entries.append(Entry(("mlp", "torch", n), torch_mlp(params, X, y), _set_torch_threads(n)))
            entries.append(Entry(("conv", "torch", n), conv_case("torch", x0, w0, b0),
                                 _set_torch_threads(n)))
    except ImportError:
        print("torch not installed: PyTorch columns skipped")
    t = gk.tensor(np.linspace(-1, 1, 100, dtype=np.float32), requires_grad=True)
    entries.append(Entry(("dispatch", "gk.sin", 0), lambda: gk.sin(t)))
    entries.append(Entry(("dispatch", "np.sin", 0), lambda: np.sin(t)))
    return entries


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args(argv)
    reps = args.reps or (3 if args.quick else 15)
    entries = build(args.quick)
    for e in entries:
        calibrate(e, 0.02 if args.quick else 0.1, warmup=2)
    run_round_robin(entries, reps, lambda msg: None)
    med = {e.key: statistics.median(e.samples) for e in entries}
    mn = {e.key: min(e.samples) for e in entries}

    def best(case: str, lib: str) -> tuple[float, float, int] | None:
        keys = [k for k in med if k[0] == case and k[1] == lib]
        if not keys:
            return None
        k = min(keys, key=lambda k: med[k])
        return med[k], mn[k], k[2]

    print("| case | gradkit (best of 1/2 BLAS threads) | torch (best of 1/2 threads) | ratio | target |")
    print("|---|---|---|---|---|")
    for case, label, target in (("mlp", "SGD step, MLP 784-512-512-10, batch 256", 1.2),
                                ("conv", "conv2d fwd+bwd, 32x3x32x32, 16 filters 3x3", 3.0)):
        g, t = best(case, "gradkit"), best(case, "torch")
        if t is None:
            print(f"| {label} | {g[0] * 1e3:.2f} ms ({g[1] * 1e3:.2f}) [{g[2]}t] | — | — | <= {target} |")
            continue
        ratio = g[0] / t[0]
        print(f"| {label} | {g[0] * 1e3:.2f} ms ({g[1] * 1e3:.2f}) [{g[2]}t] | {t[0] * 1e3:.2f} ms "
              f"({t[1] * 1e3:.2f}) [{t[2]}t] | {ratio:.2f} | <= {target} "
              f"{'MET' if ratio <= target else 'NOT MET'} |")
    gs, ns = med[("dispatch", "gk.sin", 0)], med[("dispatch", "np.sin", 0)]
    extra = (ns - gs) * 1e6
    print(f"\nNumPy dispatch: gk.sin(t) {gs * 1e6:.2f} us, np.sin(t) {ns * 1e6:.2f} us "
          f"(100 elements, requires grad): np.sin is {extra:.2f} us slower "
          f"(target <= 1.5 us: {'MET' if extra <= 1.5 else 'NOT MET'})")


if __name__ == "__main__":
    main()

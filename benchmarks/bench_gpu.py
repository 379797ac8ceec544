"""GPU benchmark (issue #9): gradkit on CuPy against PyTorch CUDA.

Run from the repository root on a machine with a CUDA GPU, CuPy and (for the
comparison) a CUDA build of PyTorch::

    python benchmarks/bench_gpu.py
    python benchmarks/bench_gpu.py --quick

Cases:

* ``mlp``: one SGD step of a 784-512-512-10 ReLU MLP, batch 256, float32, cross-entropy loss
  (forward, backward, parameter update, zero the gradients), all on the GPU.
* ``chain``: 300 elementwise ops (sin, cos, tanh, exp, ...) on a 1,000,000-element float32
  vector, then a sum; forward and backward.

Method: set-up and warm-up first, ``gc.freeze()``, the two libraries interleaved, each sample
ended by a device synchronize, medians (and minima) of the samples. Without a GPU (or without
CuPy) it says so and measures nothing.
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
sys.path.insert(0, __file__.rsplit("/", 1)[0])

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402
from bench_nn import _mlp_arrays  # noqa: E402  (the same network as the CPU benchmark)


def _timer(fn: Callable[[], Any], sync: Callable[[], None]) -> Callable[[], float]:
    def sample() -> float:
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - t0
    return sample


def gradkit_mlp(params0: list[np.ndarray], X0: np.ndarray, y0: np.ndarray) -> Callable[[], Any]:
    params = [gk.tensor(p, device="cuda", requires_grad=True) for p in params0]
    X, y = gk.tensor(X0, device="cuda"), gk.tensor(y0, device="cuda")
    opt = gk.optim.SGD(params, lr=0.01)

    def step() -> None:
        h = X
        for i in range(0, len(params) - 2, 2):
            h = gk.relu(h @ params[i] + params[i + 1])
        loss = F.cross_entropy(h @ params[-2] + params[-1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_mlp(params0: list[np.ndarray], X0: np.ndarray, y0: np.ndarray) -> Callable[[], Any]:
    import torch
    params = [torch.tensor(p, device="cuda", requires_grad=True) for p in params0]
    X, y = torch.tensor(X0, device="cuda"), torch.tensor(y0, device="cuda")
    opt = torch.optim.SGD(params, lr=0.01)

    def step() -> None:
        h = X
        for i in range(0, len(params) - 2, 2):
            h = torch.relu(h @ params[i] + params[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ params[-2] + params[-1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _chain(lib: Any, x: Any, n: int = 300) -> Any:
    fns = (lib.sin, lib.cos, lib.tanh, lib.exp)
    for i in range(n):
        x = fns[i % 4](x) * 0.5
    return x.sum()


def gradkit_chain(x0: np.ndarray) -> Callable[[], Any]:
    x = gk.tensor(x0, device="cuda", requires_grad=True)
    return lambda: _chain(gk, x).backward()


def torch_chain(x0: np.ndarray) -> Callable[[], Any]:
    import torch
    x = torch.tensor(x0, device="cuda", requires_grad=True)
    return lambda: _chain(torch, x).backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    args = parser.parse_args()
    if not gk.cuda.is_available():
        print("bench_gpu: no CUDA GPU with CuPy here (pip install cupy-cuda12x on a GPU "
              "machine); nothing measured.")
        return
    import cupy
    sync_gk = cupy.cuda.Device().synchronize
    try:
        import torch
        has_torch = torch.cuda.is_available()
    except ImportError:
        has_torch = False
    reps = 5 if args.quick else 30
    rng = np.random.default_rng(0)
    params, X, y = _mlp_arrays(rng)
    x = rng.standard_normal(1_000_000).astype(np.float32)
    cases = [("MLP 784-512-512-10, batch 256, SGD step", gradkit_mlp(params, X, y),
              torch_mlp(params, X, y) if has_torch else None),
             ("elementwise chain, 300 ops on 1e6 float32, fwd+bwd", gradkit_chain(x),
              torch_chain(x) if has_torch else None)]
    print(f"device: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    print("| case | gradkit (CuPy) ms | torch CUDA ms | gradkit/torch |")
    print("|---|---|---|---|")
    for name, g, t in cases:
        sg = _timer(g, sync_gk)
        st = _timer(t, torch.cuda.synchronize) if t is not None else None
        for _ in range(3):                                  # warm-up (kernels compile here)
            sg()
            if st:
                st()
        gc.collect()
        gc.freeze()
        gs, ts = [], []
        for _ in range(reps):
            gs.append(sg())
            if st:
                ts.append(st())
        gm = statistics.median(gs) * 1e3
        if ts:
            tm = statistics.median(ts) * 1e3
            print(f"| {name} | {gm:.3f} (min {min(gs) * 1e3:.3f}) | {tm:.3f} "
                  f"(min {min(ts) * 1e3:.3f}) | {gm / tm:.2f} |")
        else:
            print(f"| {name} | {gm:.3f} (min {min(gs) * 1e3:.3f}) | no CUDA PyTorch | - |")
        gc.unfreeze()


if __name__ == "__main__":
    main()

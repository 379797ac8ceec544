"""One training epoch of the digits MLP (examples/digits_mlp.py): gradkit against PyTorch eager.

Run from the repository root::

    python benchmarks/bench_digits.py [--reps 9]

The same model (64-128-64-10 ReLU MLP with dropout 0.1), the same data (scikit-learn's 8x8
digits, 80% training split; random data of the same shape when scikit-learn is absent), AdamW
with a one-cycle schedule, batch 32 with shuffling: one epoch = 45 optimizer steps. Set-up first,
``gc.freeze()``, libraries interleaved in random order, medians; PyTorch at 1 and 2 threads and
the faster one kept. Target (issue #7): gradkit within 1.2x of PyTorch.
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gradkit as gk  # noqa: E402


def digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
        data = load_digits()
        x, y = (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)
    except ImportError:
        rng = np.random.default_rng(0)
        x, y = rng.random((1797, 64)).astype(np.float32), rng.integers(0, 10, 1797)
    cut = int(0.8 * len(y))
    return x[:cut], y[:cut]


def gradkit_epoch(x: np.ndarray, y: np.ndarray):
    from gradkit import nn, optim
    from gradkit.data import DataLoader, TensorDataset
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 64),
                          nn.ReLU(), nn.Linear(64, 10))
    loader = DataLoader(TensorDataset(gk.tensor(x), gk.tensor(y)), batch_size=32, shuffle=True,
                        generator=gk.Generator().manual_seed(0))
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, epochs=1000, steps_per_epoch=len(loader))
    loss_fn = nn.CrossEntropyLoss()

    def epoch() -> None:
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
    return epoch


def torch_epoch(x: np.ndarray, y: np.ndarray):
    import torch
    from torch import nn, optim
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 64),
                          nn.ReLU(), nn.Linear(64, 10))
    loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, epochs=1000, steps_per_epoch=len(loader))
    loss_fn = nn.CrossEntropyLoss()

    def epoch() -> None:
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
    return epoch


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args(argv)
    x, y = digits()
    entries = {"gradkit": (gradkit_epoch(x, y), None)}
    try:
        import torch
        for n in (1, 2):
            entries[f"torch {n}t"] = (torch_epoch(x, y), n)
    except ImportError:
        torch = None
        print("torch not installed: PyTorch skipped")
    for fn, _ in entries.values():
        fn()                                     # warm-up epoch
    samples: dict[str, list[float]] = {k: [] for k in entries}
    rng = random.Random(0)
    gc.collect()
    gc.freeze()
    for _ in range(args.reps):
        order = list(entries)
        rng.shuffle(order)
        for k in order:
            fn, threads = entries[k]
            if threads:
                torch.set_num_threads(threads)
            time.sleep(0.02)
            gc.disable()
            t0 = time.perf_counter()
            fn()
            samples[k].append(time.perf_counter() - t0)
            gc.enable()
    med = {k: statistics.median(v) for k, v in samples.items()}
    for k in entries:
        print(f"  {k:12s} median {med[k] * 1e3:8.1f} ms/epoch   min {min(samples[k]) * 1e3:8.1f} ms")
    if len(med) > 1:
        best = min((v, k) for k, v in med.items() if k.startswith("torch"))
        ratio = med["gradkit"] / best[0]
        print(f"ratio gradkit / {best[1]} (medians): {ratio:.2f}  (target <= 1.2: "
              f"{'MET' if ratio <= 1.2 else 'NOT MET'})")


if __name__ == "__main__":
    main()

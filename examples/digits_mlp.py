"""Train an MLP on scikit-learn's bundled 8x8 digits (1797 images), with gradkit only.

Shows the full loop: DataLoader, model, AdamW + OneCycleLR, a progress bar,
a checkpoint saved with ``gradkit.save`` and reloaded into a fresh model for
the test evaluation, and a loss/accuracy curve (PNG, when matplotlib is installed).
Needs scikit-learn for the data set: ``pip install scikit-learn``.

    python examples/digits_mlp.py [--epochs 40] [--out runs/]     # full run: >= 97% test accuracy
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # working tree

import gradkit as gk  # noqa: E402
from gradkit import nn, optim  # noqa: E402
from gradkit.data import DataLoader, TensorDataset  # noqa: E402
from gradkit.io import load, save  # noqa: E402


def load_digits(image: bool = False, seed: int = 0) -> tuple[gk.Tensor, ...]:
    """Train/test tensors (80/20 split, fixed seed); pixels scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits as sk_load
    except ImportError:
        sys.exit("This example needs scikit-learn for the digits data set: pip install scikit-learn")
    data = sk_load()
    x = (data.data / 16.0).astype(np.float32)
    if image:
        x = x.reshape(-1, 1, 8, 8)
    y = data.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.8 * len(y))
    tr, te = perm[:cut], perm[cut:]
    return gk.tensor(x[tr]), gk.tensor(y[tr]), gk.tensor(x[te]), gk.tensor(y[te])


def progress(epoch: int, epochs: int, done: int, total: int, loss: float, width: int = 30) -> None:
    """A bar rewritten in place on a terminal; redirected output gets one plain line per epoch."""
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    text = f"epoch {epoch:3d}/{epochs} [{bar}] {done:3d}/{total} loss {loss:.4f}"
    if sys.stdout.isatty():
        print("\r" + text, end="\n" if done == total else "", flush=True)
    elif done == total:
        print(text, flush=True)


def accuracy(model: nn.Module, x: gk.Tensor, y: gk.Tensor) -> float:
    model.eval()
    with gk.no_grad():
        pred = model(x).argmax(1)
    model.train()
    return float((pred == y).float().mean())


def train(model: nn.Module, data: tuple[gk.Tensor, ...], epochs: int, lr: float, batch_size: int = 32,
          weight_decay: float = 1e-4, seed: int = 0) -> dict[str, list[float]]:
    """AdamW with a one-cycle schedule; returns the per-epoch curves."""
    x_tr, y_tr, x_te, y_te = data
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=batch_size, shuffle=True,
                        generator=gk.Generator().manual_seed(seed))
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=len(loader))
    loss_fn = nn.CrossEntropyLoss()
    curves: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(1, epochs + 1):
        total = 0.0
        for i, (xb, yb) in enumerate(loader, 1):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
            progress(epoch, epochs, i, len(loader), total / min(i * batch_size, len(y_tr)))
        curves["loss"].append(total / len(y_tr))
        curves["train_acc"].append(accuracy(model, x_tr, y_tr))
        curves["test_acc"].append(accuracy(model, x_te, y_te))
        print(f"          train acc {curves['train_acc'][-1]:.4f}  test acc {curves['test_acc'][-1]:.4f}")
    return curves


def plot(curves: dict[str, list[float]], path: str, title: str) -> str | None:
    """Save loss and accuracy curves as a PNG; skipped (returns None) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install matplotlib): skipping the curve plot")
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = range(1, len(curves["loss"]) + 1)
    a.plot(epochs, curves["loss"])
    a.set(xlabel="epoch", ylabel="training loss", title=title)
    b.plot(epochs, curves["train_acc"], label="train")
    b.plot(epochs, curves["test_acc"], label="test")
    b.set(xlabel="epoch", ylabel="accuracy")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(name: str, make_model: Callable[[], nn.Module], image: bool, argv: list[str] | None,
        default_epochs: int, lr: float) -> dict[str, Any]:
    """Shared driver of the digits examples: train, checkpoint, reload, evaluate, plot."""
    parser = argparse.ArgumentParser(description=f"{name} on the scikit-learn digits")
    parser.add_argument("--epochs", type=int, default=default_epochs)
    parser.add_argument("--out", default=".", help="directory for the checkpoint and the PNG")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    gk.manual_seed(args.seed)
    data = load_digits(image=image, seed=args.seed)
    model = make_model()
    print(model)
    start = time.perf_counter()
    curves = train(model, data, args.epochs, lr, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, f"{name}.gk")
    save({"model": model.state_dict(), "curves": curves, "epochs": args.epochs}, ckpt)
    fresh = make_model()
    fresh.load_state_dict(load(ckpt)["model"])
    test_acc = accuracy(fresh, data[2], data[3])
    png = plot(curves, os.path.join(args.out, f"{name}.png"), name)
    elapsed = time.perf_counter() - start
    print(f"{name}: test accuracy {test_acc:.4f} (reloaded from {ckpt}) in {elapsed:.1f} s")
    return {"test_acc": test_acc, "curves": curves, "checkpoint": ckpt, "png": png}


def make_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run("digits_mlp", make_mlp, image=False, argv=argv, default_epochs=40, lr=3e-3)


if __name__ == "__main__":
    main()

"""Gradient descent on loss = w**2 from w = 5 with lr = 0.4: by hand, then with ``gradkit.optim.SGD``.

Both loops print the same iterates (w shrinks by a factor 1 - 2 * 0.4 = 0.2 per step).

    python examples/gradient_descent.py [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # working tree

import gradkit as gk  # noqa: E402
from gradkit import optim  # noqa: E402


def by_hand(steps: int, lr: float = 0.4) -> list[float]:
    """The seed loop: backward, step under no_grad, zero the gradient."""
    w = gk.tensor(5.0, requires_grad=True)
    history = []
    for i in range(steps):
        loss = w ** 2
        loss.backward()
        grad = w.grad
        assert grad is not None            # backward() filled it (type checkers see Tensor | None)
        with gk.no_grad():
            w -= lr * grad
        grad.zero_()
        history.append(w.item())
        print(f"step {i + 1}: w = {w.item():.6f}, loss = {loss.item():.6f}")
    return history


def with_sgd(steps: int, lr: float = 0.4) -> list[float]:
    """The same loop with ``optim.SGD``."""
    w = gk.tensor(5.0, requires_grad=True)
    opt = optim.SGD([w], lr=lr)
    history = []
    for i in range(steps):
        opt.zero_grad()
        loss = w ** 2
        loss.backward()
        opt.step()
        history.append(w.item())
        print(f"step {i + 1}: w = {w.item():.6f}, loss = {loss.item():.6f}")
    return history


def main(argv: list[str] | None = None) -> tuple[list[float], list[float]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    print("by hand:")
    a = by_hand(args.steps)
    print("optim.SGD:")
    b = with_sgd(args.steps)
    return a, b


if __name__ == "__main__":
    main()

"""Train a small CNN on scikit-learn's bundled 8x8 digits, with gradkit only.

Conv2d + BatchNorm2d + MaxPool2d layers, AdamW + OneCycleLR, a progress bar,
a checkpoint reloaded for evaluation and a loss/accuracy PNG (see ``digits_mlp.py``,
whose driver it shares). Needs scikit-learn: ``pip install scikit-learn``.

    python examples/digits_cnn.py [--epochs 30] [--out runs/]     # full run: >= 98% test accuracy
"""

from __future__ import annotations

import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]   # run against the working tree

from digits_mlp import run  # noqa: E402

from gradkit import nn  # noqa: E402


def make_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),                                   # 32 x 4 x 4
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run("digits_cnn", make_cnn, image=True, argv=argv, default_epochs=30, lr=3e-3)


if __name__ == "__main__":
    main()

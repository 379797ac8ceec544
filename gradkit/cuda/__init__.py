"""``gradkit.cuda``: is a GPU usable, and how many (PyTorch's ``torch.cuda`` basics).

GPU tensors hold CuPy arrays (``pip install cupy-cuda12x``); nothing here
imports CuPy unless asked.
"""

from __future__ import annotations

import importlib

from gradkit._core import backend as _backend

__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed",
           "manual_seed_all", "seed", "seed_all"]


def is_available() -> bool:
    """Whether CuPy is installed and sees a CUDA GPU."""
    return _backend.cuda_available()


def device_count() -> int:
    """How many CUDA GPUs CuPy sees (0 without CuPy)."""
    if "cuda" in _backend._BY_DEVICE:
        return 1
    try:
        return int(importlib.import_module("cupy").cuda.runtime.getDeviceCount())
    except Exception:                              # noqa: BLE001 - no CuPy, no driver: none
        return 0


def current_device() -> int:
    """The index of the current CUDA device."""
    if not is_available():
        raise RuntimeError("no CUDA GPU is usable: " + _backend._CUPY.install)
    if "cuda" in _backend._BY_DEVICE:
        return 0
    return int(importlib.import_module("cupy").cuda.Device().id)


def synchronize(device: int | None = None) -> None:
    """Wait for the GPU's queued work to finish (for timing)."""
    if not is_available() or "cuda" in _backend._BY_DEVICE:
        return
    cp = importlib.import_module("cupy")
    if device is None:
        cp.cuda.Device().synchronize()
    else:
        cp.cuda.Device(device).synchronize()


# gradkit draws every device's random numbers from its one default generator (seeded by
# gradkit.manual_seed, as torch.manual_seed seeds all devices), so there is no separate CUDA
# generator to seed: these accept PyTorch's calls and change nothing, as PyTorch's do on a
# machine without a GPU. (CPU draws must not change: torch.cuda.manual_seed leaves them alone.)
def manual_seed(seed: int) -> None:
    """Accepted for PyTorch code; gradkit's draws on every device follow ``gradkit.manual_seed``."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """Accepted for PyTorch code; see :func:`manual_seed`."""
    int(seed)


def seed() -> None:
    """Accepted for PyTorch code; see :func:`manual_seed`."""


def seed_all() -> None:
    """Accepted for PyTorch code; see :func:`manual_seed`."""


def __getattr__(name: str) -> object:
    # NOTE: torch.cuda.amp (PyTorch's deprecated spelling of torch.amp) loads on first use
    if name == "amp":
        return importlib.import_module("gradkit.cuda.amp")
    raise AttributeError(f"module 'gradkit.cuda' has no attribute {name!r}")

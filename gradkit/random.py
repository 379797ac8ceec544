"""``gradkit.random``: PyTorch's ``torch.random`` (the default generator's seed and state).

The functions are those of the top level (``gk.manual_seed`` is ``gk.random.manual_seed``);
``fork_rng`` saves the default generator's state on entry and puts it back on exit.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from gradkit._core.creation import (Generator, default_generator, get_rng_state, initial_seed,
                                    manual_seed, seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state", "thread_safe_generator"]


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Draws inside the block do not change the default generator's stream after it: its state
    is saved on entry and restored on exit (``enabled=False`` does nothing). gradkit has one
    generator for every device, so ``devices`` has nothing more to save."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def thread_safe_generator() -> Generator | None:
    """The generator a DataLoader thread worker should draw from; None in the main process,
    meaning the default generator (PyTorch's answer there). gradkit's ``DataLoader`` has no
    workers: it reads its dataset in the calling process (``data.get_worker_info()`` is None),
    so the answer is always None."""
    return None

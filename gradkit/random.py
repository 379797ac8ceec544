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
           "manual_seed", "seed", "set_rng_state"]


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

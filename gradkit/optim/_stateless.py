"""``swap_in_optimizer_params_and_state``: run an optimizer's API on other parameters and state
for the length of a ``with`` block, as ``torch.optim.swap_in_optimizer_params_and_state``."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any, Iterator

from gradkit._core.tensor import Tensor

from .optimizer import Optimizer

__all__ = ["swap_in_optimizer_params_and_state"]

_WHO = "swap_in_optimizer_params_and_state requires"


def _prepare(optimizer: Optimizer, parameters: dict[str, Tensor],
             optim_state: dict[str, Any]) -> tuple[dict[Any, Any], list[Any]]:
    """Check ``optim_state`` (an ``optimizer.state_dict()``-shaped dict) against the optimizer,
    with PyTorch's messages, and pair each group with its swap-in parameters."""
    if not optimizer.state:
        raise RuntimeError(f"{_WHO} initialized optimizer state.")
    if not isinstance(optim_state, dict):
        raise RuntimeError(f"{_WHO} a DCP-style optimizer state_dict.")
    state = optim_state.get("state")
    if not isinstance(state, dict):
        raise RuntimeError(f"{_WHO} swapin_optim_state['state'] to be a dict mapping packed "
                           f"parameter ids to per-param state dicts, got {type(state).__name__}.")
    if any(isinstance(k, Tensor) for k in state):
        raise RuntimeError(f"{_WHO} optimizer.state_dict()-style state keyed by packed "
                           "parameter ids.")
    if any(isinstance(k, int) and not isinstance(v, dict) for k, v in state.items()):
        raise RuntimeError(f"{_WHO} per-parameter optimizer state entries to be dictionaries.")
    groups = optim_state.get("param_groups")
    if not isinstance(groups, list):
        raise RuntimeError(f"{_WHO} swapin_optim_state['param_groups'] to be a list of "
                           f"param-group dicts, got {type(groups).__name__}.")
    if len(optimizer.param_groups) != len(groups):
        raise RuntimeError("swapin_optim_state has a different number of parameter groups than "
                           "the live optimizer.")
    flat = list(parameters.values())
    offset = 0
    seen: set[int] = set()
    infos = []
    for idx, (group, swap) in enumerate(zip(optimizer.param_groups, groups)):
        if not isinstance(swap, dict):
            raise RuntimeError(f"{_WHO} each optimizer param group to be a dictionary.")
        ids = swap.get("params")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise RuntimeError(f"{_WHO} optimizer.state_dict()-style param_groups[*]['params'] "
                               "entries keyed by packed parameter ids.")
        if len(group["params"]) != len(ids):
            raise RuntimeError(f"swapin_optim_state param group {idx} has a different number of "
                               "params than the live optimizer param group.")
        swap_only = [k for k in swap if k not in group]
        live_only = [k for k in group if k not in swap]
        if swap_only or live_only:
            raise RuntimeError(f"{_WHO} optimizer.state_dict()-style param group keys to exactly "
                               f"match the live optimizer group keys for group {idx}. Keys only "
                               f"in swap-in: {swap_only}. Keys only in live: {live_only}.")
        seen.update(ids)
        if offset + len(ids) > len(flat):
            raise RuntimeError(f"{_WHO} the explicit parameter state to match "
                               "optimizer.param_groups ordering.")
        infos.append((group, swap, flat[offset:offset + len(ids)]))
        offset += len(ids)
    extra = [k for k in state if k not in seen]
    if extra:
        raise RuntimeError(f"{_WHO} swapin_optim_state['state'] to be keyed only by packed "
                           f"parameter ids from param_groups[*]['params']; got extra keys "
                           f"{extra!r}.")
    return state, infos


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer: Optimizer, swapin_parameters: dict[str, Tensor],
                                       swapin_optim_state: dict[str, Any]) -> Iterator[None]:
    """Within the block the optimizer's groups hold ``swapin_parameters`` (in the order of its
    own parameters) and the hyper-parameters and state of ``swapin_optim_state`` (an
    ``optimizer.state_dict()``-shaped dict); on exit its own are back. In-place changes to the
    swapped-in state tensors reach ``swapin_optim_state``; new entries do not."""
    state, infos = _prepare(optimizer, swapin_parameters, swapin_optim_state)
    original_state = optimizer.state
    snapshots = [dict(g) for g in optimizer.param_groups]
    try:
        swapped: defaultdict[Any, Any] = defaultdict(dict)
        for group, swap, params in infos:
            group["params"] = params
            for key, value in swap.items():
                if key != "params":
                    group[key] = value
            for p, pid in zip(params, swap["params"]):
                swapped[p] = dict(state.get(pid, {}))
        optimizer.state = swapped
        yield
    finally:
        for group, snapshot in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snapshot)
        optimizer.state = original_state

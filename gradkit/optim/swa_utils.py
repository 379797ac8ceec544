"""Weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` (SWA's equal average or an
exponential moving average of a model's weights), the ``SWALR`` schedule, ``update_bn`` and the
averaging functions (``get_ema_multi_avg_fn``, ``get_swa_multi_avg_fn``, ``get_ema_avg_fn``,
``get_swa_avg_fn``).

The averages follow PyTorch's formulas step for step: an equal (SWA) average moves by
``(p - avg) / (n + 1)``, an EMA by ``(1 - decay) * (p - avg)`` (a ``lerp`` for floating weights;
integer buffers take ``avg * decay + p * (1 - decay)`` written back, truncated, as PyTorch).

Examples
--------
>>> import gradkit as gk
>>> from gradkit import nn
>>> from gradkit.optim.swa_utils import AveragedModel
>>> model = nn.Linear(1, 1, bias=False)
>>> swa = AveragedModel(model)
>>> for w in (1.0, 2.0, 6.0):
...     with gk.no_grad():
...         _ = model.weight.fill_(w)
...     swa.update_parameters(model)
>>> swa.module.weight
Parameter containing:
tensor([[3.]], requires_grad=True)
"""

from __future__ import annotations

import math
import warnings
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Iterable, Sequence

from gradkit._core import creation as _creation
from gradkit._core.dtype import int64
from gradkit._core.grad_mode import no_grad
from gradkit._core.tensor import Tensor
from gradkit.nn.modules.module import Module
from gradkit.nn.modules.normalization import _BatchNorm, _InstanceNorm

from .lr_scheduler._base import LRScheduler, _format_param
from .optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _inexact(t: Tensor) -> bool:
    return t.dtype.is_floating_point or t.dtype.is_complex


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[..., None]:
    """An in-place EMA step over lists of tensors: ``ema <- ema + (1 - decay) * (p - ema)``."""
    _check_decay(decay)

    def ema_update(ema_param_list: Sequence[Tensor], current_param_list: Sequence[Tensor],
                   _: Any) -> None:
        with no_grad():
            if _inexact(ema_param_list[0]):
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.lerp_(p_model, 1 - decay)
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn() -> Callable[..., None]:
    """An in-place equal-average step over lists: ``avg <- avg + (p - avg) / (n + 1)``."""

    def swa_update(averaged_param_list: Sequence[Tensor], current_param_list: Sequence[Tensor],
                   num_averaged: Any) -> None:
        with no_grad():
            if _inexact(averaged_param_list[0]):
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    p_avg.lerp_(p_model, 1 / (num_averaged + 1))
            else:
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    diff = p_model - p_avg
                    if isinstance(num_averaged, Tensor):
                        p_avg.addcdiv_(diff, num_averaged + 1)
                    else:
                        p_avg.add_(diff, alpha=1.0 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[..., Tensor]:
    """One tensor's EMA step: returns ``decay * ema + (1 - decay) * p``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn() -> Callable[..., Tensor]:
    """One tensor's equal-average step: returns ``avg + (p - avg) / (n + 1)``."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose weights are a running average of ``model``'s.

    ``update_parameters(model)`` first copies the weights, then averages: equally (SWA) by
    default, with ``avg_fn(avg, p, n)`` (returns the new average of one tensor) or with
    ``multi_avg_fn(avgs, ps, n)`` (updates lists in place). Buffers are copied from ``model``
    unless ``use_buffers=True``, which averages them too. ``n_averaged`` (a buffer) counts the
    updates.
    """

    n_averaged: Tensor

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[..., Tensor] | None = None,
                 multi_avg_fn: Callable[..., None] | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _creation.tensor(0, dtype=int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (a copy on the first call)."""
        if self.use_buffers:
            mine: Iterable[Tensor] = chain(self.module.parameters(), self.module.buffers())
            theirs: Iterable[Tensor] = chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        averaged, current = [], []
        first = int(self.n_averaged) == 0
        for p_avg, p_model in zip(mine, theirs):
            averaged.append(p_avg.detach())
            current.append(p_model.detach())
            if first:
                averaged[-1].copy_(current[-1])
        if not first:
            if self.avg_fn is None:
                # NOTE: grouped by dtype as PyTorch groups them (by device and dtype), so the
                # list functions pick their floating or integer path per group
                groups: dict[Any, tuple[list[Tensor], list[Tensor]]] = {}
                for a, c in zip(averaged, current):
                    g = groups.setdefault(a.dtype, ([], []))
                    g[0].append(a)
                    g[1].append(c)
                for avgs, curs in groups.values():
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(avgs, curs, self.n_averaged)
                    else:                     # PyTorch's path for CPU tensors: one at a time
                        step = get_swa_avg_fn()
                        for a, c in zip(avgs, curs):
                            a.copy_(step(a, c, self.n_averaged))
            else:
                for a, c in zip(averaged, current):
                    a.copy_(self.avg_fn(a, c, self.n_averaged))
        if not self.use_buffers:
            with no_grad():
                for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_avg.detach().copy_(b_model.detach())
        with no_grad():
            self.n_averaged.add_(1)


def _is_batch_norm(module: Any) -> bool:
    # NOTE: gradkit's InstanceNorm shares BatchNorm's base; PyTorch's does not, and update_bn
    # leaves it alone
    return isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every BatchNorm's running statistics of ``model`` in one pass over ``loader``
    (each batch a tensor, or a list/tuple whose first item is the input), as a cumulative
    average over the batches; the model's training mode and momenta are put back."""
    with no_grad():
        momenta = {}
        for module in model.modules():
            if _is_batch_norm(module):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate to ``swa_lr`` over ``anneal_epochs`` steps (``"cos"`` or
    ``"linear"``), then keep it there."""

    def __init__(self, optimizer: Optimizer, swa_lr: Any, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for value, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The rate annealing started from, given the rate ``lr`` reached at fraction ``alpha``."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list[float]:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        starts = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                  for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / span)))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, starts)]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer and the annealing function (as PyTorch)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)

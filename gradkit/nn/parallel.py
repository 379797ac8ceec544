"""``torch.nn.parallel``: ``DataParallel``, as PyTorch runs it where there is one device.

PyTorch's ``DataParallel`` splits a batch over several GPUs, runs a replica of the module on each
and gathers the outputs. With no GPU (or one), it just calls the wrapped module, and that is what
gradkit does. Several devices would change results that depend on the whole batch (BatchNorm's
statistics are per replica), so asking for more than one raises instead of running on one.
"""

from __future__ import annotations

from typing import Any, Sequence

from .modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Wrap ``module`` so ``DataParallel(module)(x)`` is ``module(x)``; ``state_dict`` keys start
    with ``module.`` as in PyTorch.

    Examples
    --------
    >>> import gradkit as gk
    >>> net = DataParallel(gk.nn.Linear(2, 1))
    >>> list(net.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        if device_ids is not None and len(device_ids) > 1:
            raise NotImplementedError(
                "gradkit's DataParallel runs the module on one device; it does not split a batch "
                f"over the devices {list(device_ids)} (use device_ids=None, or one device)")
        if device_ids is None:
            from gradkit import cuda
            if cuda.is_available() and cuda.device_count() > 1:
                raise NotImplementedError(
                    "gradkit's DataParallel runs the module on one device; with "
                    f"{cuda.device_count()} GPUs visible, pass device_ids=[0] to use one of them")
        self.module = module
        self.device_ids: list[Any] = list(device_ids or [])

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)

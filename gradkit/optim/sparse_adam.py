"""SparseAdam: PyTorch's Adam for sparse gradients, which gradkit does not make."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .optimizer import Optimizer, _check

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam``'s constructor and checks; its step refuses a dense gradient as
    PyTorch's does.

    NOTE: gradkit stores every gradient dense (``embedding(sparse=True)``'s included), so a step
    always meets a dense gradient. SparseAdam updates only the rows a sparse gradient lists, which
    a dense one cannot tell apart from rows whose gradient is 0: rather than guess, the step raises
    PyTorch's error; ``Adam`` is the optimizer for these gradients.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 < lr, f"Invalid learning rate: {lr}")
        _check(0.0 < eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        bad = [[i, j] for i, group in enumerate(self.param_groups)
               for j, p in enumerate(group["params"]) if p.is_complex()]
        if bad:
            raise ValueError(f"Complex params at indices {bad}: SparseAdam does not support "
                             "complex parameters")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            if any(p._grad is not None for p in group["params"]):
                raise RuntimeError("SparseAdam does not support dense gradients, please consider "
                                   "Adam instead (gradkit stores every gradient dense, "
                                   "embedding(sparse=True)'s included)")
        return loss

"""NAdam, RAdam, Adamax, Adadelta, Rprop and ASGD, with PyTorch's update rules (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _buf, _check, _grads, _step_tensor, _touch

__all__ = ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD"]


def _scalar(value: float) -> Any:
    """A 0-d float32 state tensor (PyTorch keeps ``mu_product``, ``eta``, ``mu`` so)."""
    return _buf(np.array(value, dtype=np.float32))


def _check_adam_like(lr: float, eps: float, betas: tuple[float, float], weight_decay: float) -> None:
    _check(0.0 <= lr, f"Invalid learning rate: {lr}")
    _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")


def _moments(state: dict[str, Any], x: np.ndarray) -> None:
    state["step"] = _step_tensor()
    state["exp_avg"] = _buf(np.zeros_like(x))
    state["exp_avg_sq"] = _buf(np.zeros_like(x))


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum, exactly as ``torch.optim.NAdam``.

    Notes
    -----
    With :math:`\mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi})` (:math:`\psi` = ``momentum_decay``):

    .. math::
        p \leftarrow p - \text{lr}\,\frac{(1-\mu_t)/(1-\prod_{i\le t}\mu_i)\, g
        + \mu_{t+1}/(1-\prod_{i\le t+1}\mu_i)\, m}{\sqrt{v / (1-\beta_2^t)} + \epsilon}
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        _check(0.0 <= momentum_decay, f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, eps, psi = group["lr"], group["weight_decay"], group["eps"], group["momentum_decay"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _scalar(1.0)
                    state["exp_avg"] = _buf(np.zeros_like(x))
                    state["exp_avg_sq"] = _buf(np.zeros_like(x))
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                step = float(state["step"]._data)
                bias_correction2 = 1 - beta2 ** step
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
                mp = state["mu_product"]
                mp._data = np.asarray(mp._data * np.float32(mu), dtype=np.float32)
                mu_product = float(mp._data)
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m += (g - m) * (1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                denom = np.sqrt(v / bias_correction2) + eps
                x += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
                x += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * m / denom
                _touch(p)
        return loss


class RAdam(Optimizer):
    r"""Rectified Adam, exactly as ``torch.optim.RAdam``.

    Notes
    -----
    With :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, the step is Adam's rectified by
    :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`
    when :math:`\rho_t > 5`, and plain momentum SGD (bias-corrected) otherwise.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    _moments(state, x)
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                step = float(state["step"]._data)
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m += (g - m) * (1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    num = (rho_t - 4) * (rho_t - 2) * rho_inf
                    rect = (num / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = (bias_correction2 ** 0.5) / (np.sqrt(v) + eps)
                    x -= corrected * lr * adaptive * rect
                else:
                    x -= corrected * lr
                _touch(p)
        return loss


class Adamax(Optimizer):
    r"""Adam over the infinity norm, exactly as ``torch.optim.Adamax``.

    Notes
    -----
    :math:`u \leftarrow \max(\beta_2 u, |g| + \epsilon)`,
    :math:`p \leftarrow p - \frac{\text{lr}}{1-\beta_1^t}\frac{m}{u}`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _buf(np.zeros_like(x))
                    state["exp_inf"] = _buf(np.zeros_like(x))
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                if wd != 0:
                    g = g + wd * x
                m, u = state["exp_avg"]._data, state["exp_inf"]._data
                m += (g - m) * (1 - beta1)
                u *= beta2
                np.maximum(u, np.abs(g) + eps, out=u)
                clr = lr / (1 - beta1 ** float(state["step"]._data))
                x += -clr * m / u
                _touch(p)
        return loss


class Adadelta(Optimizer):
    r"""Adadelta, exactly as ``torch.optim.Adadelta``.

    Notes
    -----
    :math:`v \leftarrow \rho v + (1-\rho) g^2`,
    :math:`\Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} g`,
    :math:`u \leftarrow \rho u + (1-\rho)\Delta^2`, :math:`p \leftarrow p - \text{lr}\,\Delta`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _buf(np.zeros_like(x))
                    state["acc_delta"] = _buf(np.zeros_like(x))
                state["step"]._data += 1
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g + wd * x
                v, u = state["square_avg"]._data, state["acc_delta"]._data
                v *= rho
                v += (1 - rho) * g * g
                delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
                u *= rho
                u += (1 - rho) * delta * delta
                x -= lr * delta
                _touch(p)
        return loss


class Rprop(Optimizer):
    r"""Resilient backpropagation, exactly as ``torch.optim.Rprop``.

    Notes
    -----
    Each entry's step size is multiplied by ``etas[1]`` when the gradient keeps its sign,
    by ``etas[0]`` when it flips (and that entry then skips the step), clamped to
    ``step_sizes``; the parameter moves by ``-sign(g) * step_size``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            lo, hi = group["step_sizes"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["prev"] = _buf(np.zeros_like(x))
                    state["step_size"] = _buf(np.full_like(g, group["lr"]))
                state["step"]._data += 1
                g = -g if group["maximize"] else g
                prev, size = state["prev"]._data, state["step_size"]._data
                sign = np.sign(g * prev)
                factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(size.dtype)
                size *= factor
                np.clip(size, lo, hi, out=size)
                g = np.where(sign < 0, 0, g).astype(g.dtype)
                x -= np.sign(g) * size
                prev[...] = g
                _touch(p)
        return loss


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent, exactly as ``torch.optim.ASGD``.

    Notes
    -----
    :math:`p \leftarrow p (1 - \lambda\eta) - \eta g`; the average ``ax`` follows ``p`` with weight
    :math:`\mu = 1/\max(1, t - t_0)`; :math:`\eta = \text{lr}/(1 + \lambda\,\text{lr}\,t)^\alpha`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["eta"] = _scalar(lr)
                    state["mu"] = _scalar(1.0)
                    state["ax"] = _buf(np.zeros_like(x))
                state["step"]._data += 1
                g = -g if group["maximize"] else g
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * x
                eta = float(state["eta"]._data)
                x *= 1 - lambd * eta
                x -= eta * g
                ax, mu = state["ax"]._data, state["mu"]._data
                if float(mu) != 1:
                    ax += (x - ax) * mu.astype(x.dtype)
                else:
                    ax[...] = x
                step = float(state["step"]._data)
                state["eta"]._data = np.array(lr / ((1 + lambd * lr * step) ** alpha), dtype=np.float32)
                state["mu"]._data = np.array(1 / max(1, step - t0), dtype=np.float32)
                _touch(p)
        return loss

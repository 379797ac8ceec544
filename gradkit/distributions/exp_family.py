"""``ExponentialFamily``: entropy from the log-normalizer (``torch.distributions.ExponentialFamily``)."""

from __future__ import annotations

from typing import Any

import gradkit as gk

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Densities ``p(x; theta) = exp(<t(x), theta> - F(theta) + k(x))``; a subclass states
    ``_natural_params``, ``_log_normalizer`` and ``_mean_carrier_measure``, and gets an entropy
    (and the Bregman KL between two members of one family) from them."""

    @property
    def _natural_params(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Any) -> Any:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError

    def entropy(self) -> Any:
        # H = F(theta) - <theta, grad F(theta)> - E[k(x)]
        result = -self._mean_carrier_measure
        # kept on their graph (a fresh leaf only for constants): the entropy stays differentiable
        # in the parameters
        nparams = [p if p.requires_grad else p.detach().requires_grad_()
                   for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = gk.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for np_, g in zip(nparams, gradients):
            result = result - (np_ * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result

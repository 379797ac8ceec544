"""PyTorch's sampling functions that return new tensors: ``multinomial``, ``poisson``,
``binomial`` (also ``Tensor.multinomial``). The draws come from gradkit's generators (NumPy's
PCG64), so a seed gives reproducible numbers that differ from PyTorch's; the results carry no
gradient, as in PyTorch (sampling is not differentiable).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._api.base import _scalar_name
from gradkit._core.backend import to_numpy
from gradkit._core.creation import _gen
from gradkit._core.tensor import Tensor, _make

__all__ = ["multinomial", "poisson", "binomial"]


def _host(t: Tensor, name: str) -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(t).__name__}")
    return np.asarray(to_numpy(t._data))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (non-negative weights, not
    necessarily summing to 1): int64 of shape ``(num_samples,)`` or ``(rows, num_samples)``.
    Without ``replacement`` a row's indices are distinct."""
    p = _host(input, "multinomial")
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind not in "fV":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_scalar_name(input.dtype)}")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and n > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rows = p.reshape(-1, p.shape[-1]).astype(np.float64)
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = rows.sum(axis=1)
    if np.any(sums <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _gen(generator, input)
    out = np.empty((rows.shape[0], n), dtype=np.int64)
    for i, (row, total) in enumerate(zip(rows, sums)):
        q = row / total
        if replacement:
            out[i] = rng.choice(len(q), size=n, replace=True, p=q)
        else:
            if np.count_nonzero(q) < n:
                # NOTE: PyTorch's words when fewer categories than draws have weight
                raise RuntimeError("invalid multinomial distribution (with replacement=False, "
                                   "not enough non-negative category to sample)")
            out[i] = rng.choice(len(q), size=n, replace=False, p=q)
    return _make(out.reshape(p.shape[:-1] + (n,)), False, None)


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson samples with the rates in ``input`` (same shape and dtype)."""
    rate = _host(input, "poisson")
    if rate.dtype.kind not in "fV":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_scalar_name(input.dtype)}'")
    if np.any(rate < 0) or np.any(np.isnan(rate)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    draws = _gen(generator, input).poisson(rate.astype(np.float64))
    return _make(np.asarray(draws).astype(rate.dtype), False, None)


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Binomial samples: successes in ``count`` trials of probability ``prob`` (float results)."""
    n, p = _host(count, "binomial"), _host(prob, "binomial")
    for t, a, name in ((count, n, "count"), (prob, p, "prob")):
        if a.dtype.kind not in "fV":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{_scalar_name(t.dtype)}")
    if np.any(p < 0) or np.any(p > 1) or np.any(np.isnan(p)):
        raise RuntimeError("binomial: prob must be in [0, 1]")
    if np.any(n < 0) or np.any(n != np.floor(n)) or not np.all(np.isfinite(n)):
        # (an infinite count reached NumPy as a negative int64: "n < 0")
        raise RuntimeError("binomial: count must be a non-negative whole number")
    draws = _gen(generator, count).binomial(n.astype(np.int64), p.astype(np.float64))
    dtype = np.result_type(n.dtype, p.dtype)
    return _make(np.asarray(draws).astype(dtype), False, None)

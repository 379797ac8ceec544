"""PyTorch's "In-place random sampling" Tensor methods: ``uniform_``, ``normal_``, ``log_normal_``,
``exponential_``, ``cauchy_``, ``geometric_``, ``bernoulli_``, ``random_``, and ``bernoulli``.

Attached at import time, after :mod:`gradkit._api.methods`, whose in-place machinery
(``_inplace``) gives version bumps, leaf checks and history.
"""


from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._api.base import _scalar_name
from gradkit._core.backend import backend_of, immutable, to_numpy
from gradkit._api.inplace import _check_inplace, _check_writable, _inplace
from gradkit.autograd import forward_ad as _fw
from gradkit.ops import _registry as _R
from gradkit._core.tensor import Tensor, _make
from gradkit._core.sites import bumped
from gradkit._core.grad_mode import _state
from gradkit._core.creation import _gen
from gradkit._core.creation import bernoulli as _b



# --- random in-place fills --------------------------------------------------------------
def _kind_name(t: Tensor) -> str:
    return _scalar_name(t.dtype)


def _fill_random(self: Tensor, name: str, arr: np.ndarray) -> Tensor:
    """Write the samples ``arr`` into ``self`` in place (its dtype and device)."""
    _check_inplace(self)
    _check_writable(self)
    arr = np.asarray(arr).astype(self._data.dtype, copy=False)
    if backend_of(self._data) is not None:
        from gradkit._core.creation import _SameAs, _place
        arr = _place(arr, _SameAs(self._data))
    if _state.grad_enabled and (self._rg or (self._base is not None and self._base._rg)):
        # NOTE: a non-leaf: the fill is recorded (zero gradient to the old values).
        value = _make(arr, False, None)
        return _inplace(self, lambda s: A.add(A.mul(s, 0), value), _name=name)
    if immutable(self._data):
        self._data = arr
    else:
        self._data[...] = arr
    self._vc[0] += 1
    if _state.record_sites:
        bumped(self, name)
    return self


def _rng(generator: Any, fills: Tensor) -> Any:
    return _gen(generator, fills)


def _need_float(self: Tensor, kernel: str) -> None:
    if not (self.is_floating_point()):
        raise RuntimeError(f"\"{kernel}\" not implemented for '{_kind_name(self)}'")


def _zero_tangent(s: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return s * 0.0


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples uniform on [a, b)."""
    if _R._fw_on and _fw._dual_call(self, (a, b), {"generator": generator}):
        return _fw._inplace_dual(self, _uniform, _zero_tangent, (a, b), {"generator": generator})
    return _uniform(self, a, b, generator=generator)


def _uniform(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    _need_float(self, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > "
                           f"to={b}")
    return _fill_random(self, "uniform_", _rng(generator, self).uniform(a, b, self.shape))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with normal samples of mean ``mean`` and standard deviation ``std``."""
    if _R._fw_on and _fw._dual_call(self, (mean, std), {"generator": generator}):
        return _fw._inplace_dual(self, _normal, _zero_tangent, (mean, std), {"generator": generator})
    return _normal(self, mean, std, generator=generator)


def _normal(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    _need_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_random(self, "normal_", _rng(generator, self).normal(mean, std, self.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """Fill with ``exp(N(mean, std))`` samples."""
    _need_float(self, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill_random(self, "log_normal_", _rng(generator, self).lognormal(mean, std, self.shape))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with exponential samples of rate ``lambd``."""
    if not self.is_floating_point():
        raise RuntimeError("Exponential distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {_kind_name(self)}")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_random(self, "exponential_", _rng(generator, self).exponential(1.0 / lambd, self.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with Cauchy samples ``median + sigma * tan(pi * (U - 1/2))``."""
    if not self.is_floating_point():
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype "
                           f"must be a floating point but you specified {self._data.dtype}")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill_random(self, "cauchy_",
                        median + sigma * _rng(generator, self).standard_cauchy(self.shape))


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill_random(self, "geometric_", _rng(generator, self).geometric(p, self.shape))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 0/1 samples, 1 with probability ``p`` (a number or a broadcastable tensor)."""
    if isinstance(p, Tensor):
        pd = to_numpy(p._data)
        if pd.size and (pd.min() < 0 or pd.max() > 1):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        pd = np.broadcast_to(pd, tuple(self.shape))
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        pd = p
    return _fill_random(self, "bernoulli_", _rng(generator, self).random(tuple(self.shape)) < pd)


def bernoulli(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """0/1 samples with probabilities ``self`` (or ``p``), in ``self``'s dtype."""
    if p is not None:
        return bernoulli_(A.clone(self.detach()), p, generator=generator)
    return _b(self.detach(), generator=generator)


def random_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with integers uniform on [from, to); ``random_(to)``; ``random_()`` spans the dtype's
    exactly representable integers (``[0, 2**24]`` for float32)."""
    lo: Any = kwargs.pop("from", None)
    hi: Any = kwargs.pop("to", None)
    if kwargs:
        raise TypeError(f"random_() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if len(args) == 1:
        if lo is None:
            lo, hi = 0, args[0]
        else:
            hi = args[0]
    elif len(args) == 2:
        lo, hi = args
    elif len(args) > 2:
        raise TypeError("random_() takes at most 2 arguments")
    lo = 0 if lo is None else int(lo)
    dt = self._data.dtype
    if hi is None:
        if dt.kind in "fV":
            hi = 2 ** {2: 11, 4: 24, 8: 53}[dt.itemsize] + 1
        elif dt.kind == "b":
            hi = 2
        else:
            hi = int(np.iinfo(dt).max) + (1 if dt.kind == "u" else 0)
    hi = int(hi)
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    rng = _rng(generator, self)
    if hi - 1 > np.iinfo(np.int64).max:
        arr = rng.integers(lo, hi - 1, size=tuple(self.shape), dtype=np.int64, endpoint=True)
    else:
        arr = rng.integers(lo, hi, size=tuple(self.shape), dtype=np.int64)
    return _fill_random(self, "random_", arr)


def _attach() -> None:
    for fn in (uniform_, normal_, log_normal_, exponential_, cauchy_, geometric_, bernoulli_,
               bernoulli, random_):
        setattr(Tensor, fn.__name__, fn)


_attach()

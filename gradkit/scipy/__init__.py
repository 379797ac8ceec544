"""SciPy's API on gradkit tensors: ``gradkit.scipy.special``, ``.stats``, ``.signal``, ``.linalg``,
``.integrate``.

SciPy's own functions convert their inputs with ``np.asarray``, which no dispatch protocol can
reach, so ``scipy.stats.norm.logpdf(t)`` cannot stay on the graph. This namespace mirrors
SciPy's signatures (as ``jax.scipy`` and ``autograd.scipy`` do) with gradkit operations:

>>> import gradkit as gk
>>> from gradkit.scipy import stats
>>> mu = gk.tensor(0.5, dtype=gk.float64, requires_grad=True)
>>> stats.norm.logpdf(1.0, loc=mu, scale=2.0).backward()
>>> mu.grad
tensor(0.1250, dtype=torch.float64)

Convention (the one ``jax.scipy`` follows for its arrays): when any argument is a gradkit
Tensor the result is a Tensor on the graph; when none is, the call is SciPy's own and returns
what SciPy returns. SciPy is an optional dependency (``pip install gradkit[scipy]``): forwards of
special functions are SciPy's ufuncs.
"""

from __future__ import annotations

import importlib

__all__ = ["special", "stats", "signal", "linalg", "integrate"]


def __getattr__(name: str) -> object:
    if name in __all__:
        mod = importlib.import_module(f"gradkit.scipy.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'gradkit.scipy' has no attribute {name!r}")

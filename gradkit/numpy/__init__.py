"""``gradkit.numpy``: NumPy's namespace for code that NumPy's dispatch cannot reach.

``import gradkit.numpy as np`` in place of ``import numpy as np`` is the one-line port (as
``autograd.numpy`` and ``jax.numpy``). It is not a second implementation: every public NumPy
name is here, generated from NumPy at import. A call with no gradkit Tensor among its
arguments (searched through lists and tuples) is NumPy's own call, after one cheap check;
ufuncs, dtypes and constants are NumPy's own objects. With tensors, NumPy's own function runs
too (its ``__array_function__``/``__array_ufunc__`` dispatch reaches gradkit), except where
NumPy has no hook:

- ``array``/``asarray``/``asanyarray``/``ascontiguousarray`` of sequences holding tensors
  stack them into a tensor on the graph (NumPy's dtype promotion: ints beside a float
  tensor give floats); ``array(t)`` copies (``clone``), ``asarray(t)`` is ``t``;
- ``r_``/``c_`` concatenate tensors with NumPy's index-trick rules;
- any function given a list of tensors (``mean([t1, t2])``) stacks it first;
- ``int64(t)`` and the other integer types cast a tensor (no gradient flows through an
  integer); ``isscalar`` of a 0-d tensor is True; ``allclose``, ``iscomplex``, ... return
  NumPy's plain answers.

``gradkit.numpy.random`` is NumPy's (random draws are not differentiated);
``gradkit.numpy.linalg`` and ``gradkit.numpy.fft`` are NumPy's functions wrapped the same way.

Examples
--------
>>> import gradkit as gk
>>> import gradkit.numpy as np
>>> gk.func.grad(lambda x: np.sum(np.array([x, 2 * x, 3.0]) ** 2))(1.0)
10.0
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ._generate import populate as _populate
from ._special import SPECIAL as _SPECIAL

__all__ = _populate(globals(), _np, _SPECIAL)
__version__ = _np.__version__

from . import fft, linalg, random  # noqa: E402  (ours, after NumPy's names)

__all__ += ["fft", "linalg", "random"]


def __getattr__(name: str) -> Any:
    # NOTE: NumPy's lazily loaded submodules and names (testing, polynomial, ma, ...) are NumPy's
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'gradkit.numpy' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(dir(_np)))

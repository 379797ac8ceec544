"""gradkit.linalg: eigendecomposition of general (non-Hermitian) matrices.

Part of ``gradkit.linalg`` (see its docstring).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.linalg._base import _return_type, _square
from gradkit._core.backend import values_unknown
from gradkit._core.tensor import Tensor
from gradkit.ops import linalg as L
from gradkit._core.autocast import autocast_op

_eig_ret = _return_type("linalg_eig", ["eigenvalues", "eigenvectors"])


@autocast_op
def eig(A: Tensor) -> Any:
    """Eigenvalues and eigenvectors of a square matrix, ``A V = V diag(L)``.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, n, n)``, real or complex.

    Returns
    -------
    (eigenvalues, eigenvectors) : named tuple of Tensors
        Complex (also for real ``A``, as in PyTorch), shapes ``(*, n)`` and ``(*, n, n)``;
        each eigenvector has unit norm, its phase is LAPACK's choice.

    Raises
    ------
    RuntimeError
        In backward, when eigenvalues are repeated and the loss reaches their eigenvectors,
        or when the loss depends on the eigenvectors' phases (``v -> v e^{i phi}``).

    Notes
    -----
    PyTorch's rule: ``gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / E*) V^H``
    with ``E*_ij = conj(l_j) - conj(l_i)``; a real ``A`` gets the real part.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.eig(gk.tensor([[2.0, 0.0], [0.0, 3.0]])).eigenvalues
    tensor([2.+0.j, 3.+0.j])
    """
    a = _square(A, "eig", True)
    if not values_unknown(a._data) and not bool(np.isfinite(a._data).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    w, v = L.eig_p(a)
    return _eig_ret(w, v)


@autocast_op
def eigvals(A: Tensor) -> Tensor:
    """Eigenvalues of a square matrix (complex); the gradient is ``V^-H diag(gL) V^H``.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.eigvals(gk.tensor([[0.0, -1.0], [1.0, 0.0]]))
    tensor([0.+1.j, 0.-1.j])
    """
    return L.eig_p(_square(A, "eigvals", True))[0]


def _numpy_eig(a: Tensor) -> tuple[Tensor, Tensor]:
    """``numpy.linalg.eig``'s results: real when ``a`` is real and every eigenvalue is real."""
    w, v = L.eig_p(_square(a, "eig", True))
    if not a.is_complex() and not w._data.imag.any():
        return w.real, v.real
    return w, v

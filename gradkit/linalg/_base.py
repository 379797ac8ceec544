"""Shared pieces of gradkit.linalg: PyTorch's return types and argument checks.

Part of ``gradkit.linalg`` (see its docstring).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from gradkit import _api as F
from gradkit._core.tensor import Tensor

_INF = float("inf")


def _return_type(name: str, fields: Sequence[str]) -> Any:
    """A named tuple that prints as ``torch.return_types.<name>(...)``, like PyTorch's."""
    def __repr__(self: Any) -> str:
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"torch.return_types.{name}(\n{body})"
    base = namedtuple(name, fields)  # type: ignore[misc]
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                "__module__": "gradkit.return_types"})


_slogdet_ret = _return_type("linalg_slogdet", ["sign", "logabsdet"])
_qr_ret = _return_type("linalg_qr", ["Q", "R"])
_eigh_ret = _return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
_svd_ret = _return_type("linalg_svd", ["U", "S", "Vh"])
_lstsq_ret = _return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# --- argument checks, with PyTorch's messages -------------------------------------------------
_NO_LAPACK = "This function doesn't handle types other than float and double"
#: LAPACK has no half precision: what PyTorch raises for a float16 input, by the name a check is
#: called with (a kernel name: NotImplementedError; else a RuntimeError with that text)
_HALF = {"det": '"lu_cpu"', "solve": '"lu_cpu"', "torch.lu_factor": '"lu_cpu"', "linalg.lu": '"lu_cpu"',
         "torch.linalg.lu_solve": '"linalg.lu_solve_cpu"', "cholesky": '"cholesky_cpu"',
         "qr": '"geqrf_cpu"', "torch.geqrf": '"geqrf_cpu"', "eigh": '"linalg_eigh_cpu"',
         "eig": '"linalg_eig_out_cpu"', "eigvals": '"linalg_eig_out_cpu"', "svd": '"linalg_svd_cpu"',
         "solve_triangular": '"triangular_solve_cpu"', "triangular_solve": '"triangular_solve_cpu"',
         "cholesky_solve": '"cholesky_solve_cpu"', "householder_product": '"orgqr_cpu"',
         "inv": "linalg.inv: Low precision dtypes not supported. Got Half",
         "slogdet": "linalg.slogdet: Low precision dtypes not supported. Got Half",
         "logdet:": "logdet: Low precision dtypes not supported. Got Half",
         "matrix_rank": _NO_LAPACK, "lstsq": _NO_LAPACK}


def _refuse_half(t: Tensor, name: str) -> None:
    """PyTorch's error for a float16 input to a LAPACK-backed function (NumPy's linalg raises a
    TypeError of its own)."""
    what = _HALF.get(name)
    if what is None or t._data.dtype != np.float16:
        return
    if what.startswith('"'):
        raise NotImplementedError(f"{what} not implemented for 'Half'")
    raise RuntimeError(what)


def _float(x: Any, name: str, arg: str = "input", complex_ok: bool = False) -> Tensor:
    """``x`` as a Tensor; it must hold real (or, with ``complex_ok``, complex) floating-point numbers."""
    t = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
    where = _where(name)                                   # "torch.lu_factor" is named in full
    if t.is_complex() and not complex_ok:
        raise NotImplementedError(f"{where}: complex inputs are not supported yet; "
                                  "pass a real floating-point tensor")
    if not (t.is_floating_point() or t.is_complex()):
        kind = t.dtype._legacy[: -len("Tensor")]
        raise RuntimeError(f"{where}: Expected a floating point or complex tensor as {arg}. "
                           f"Got {kind}")
    _refuse_half(t, name)
    return t


def _where(name: str) -> str:
    """The name PyTorch's messages give: ``linalg.<name>``, or ``name`` itself when it holds a
    dot (``torch.lu_factor``) or ends in a colon (``logdet:``, named without a prefix)."""
    if name.endswith(":"):
        return name[:-1]
    return name if "." in name else f"linalg.{name}"


def _matrix(x: Any, name: str, complex_ok: bool = False) -> Tensor:
    t = _float(x, name, complex_ok=complex_ok)
    if t.ndim < 2:
        raise RuntimeError(f"{_where(name)}: The input tensor A must have at least 2 dimensions.")
    return t


def _square(x: Any, name: str, complex_ok: bool = False) -> Tensor:
    t = _matrix(x, name, complex_ok)
    if t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{_where(name)}: A must be batches of square matrices, but they are "
                           f"{t.shape[-2]} by {t.shape[-1]} matrices")
    return t


def _mT(x: Tensor) -> Tensor:
    return F.transpose(x, -2, -1)


def _array(v: Any) -> Any:
    """A tolerance (number, array or Tensor) as a float or an ndarray (no gradient)."""
    if isinstance(v, Tensor):
        return v._data
    return v if isinstance(v, (int, float)) else np.asarray(v, dtype=np.float64)


def _same_dtype(name: str, a: Tensor, b: Tensor, a_name: str = "A", b_name: str = "B",
                lead: str = "linalg.") -> None:
    """PyTorch's solvers refuse operands of different dtypes (NumPy's and SciPy's promote,
    in their own wrappers, before they get here)."""
    if a.dtype is not b.dtype:
        from gradkit._api.base import _scalar_name

        raise RuntimeError(f"{lead}{name}: Expected {a_name} and {b_name} to have the same dtype, "
                           f"but found {a_name} of type {_scalar_name(a.dtype)} and {b_name} of "
                           f"type {_scalar_name(b.dtype)} instead")

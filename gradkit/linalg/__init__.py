"""Linear algebra with PyTorch's ``torch.linalg`` names, signatures and return types.

Inverses, determinants, solves and the decompositions (Cholesky, QR,
symmetric eigendecomposition, SVD, pseudoinverse) are fused primitives of the
derivative table (``gradkit/ops/linalg.py``): one LAPACK call forward, a
closed-form rule backward, written in table ops so that ``create_graph=True``
gives second derivatives. Norms, powers, ``lstsq`` and ``cross`` are
compositions of those. Every function accepts leading batch dimensions where
PyTorch does, and float32 stays float32.

Singular inputs raise :class:`LinAlgError` (a ``RuntimeError``) with
PyTorch's message. A gradient that is not defined (eigenvectors of a
repeated eigenvalue, singular vectors of a repeated singular value) raises a
``RuntimeError`` that names the problem instead of returning NaN.
"""

# ruff: noqa: F405
# NOTE: the functions live by family (``_linalg_base``: return types and checks; ``_solve``:
# inverses, determinants, solves; ``_decomp``: factorizations; ``_norms``: norms and
# compositions; ``_linalg_more``: the rarer ones); this module gathers them.
from __future__ import annotations

from gradkit.linalg._base import _array, _float, _matrix, _mT, _return_type, _square  # noqa: F401
from gradkit.linalg._decomp import *  # noqa: F401,F403
from gradkit.linalg._decomp import _numpy_hermitian  # noqa: F401  (np.linalg.eigh's dispatch)
from gradkit.linalg._eig import _numpy_eig, eig, eigvals  # noqa: F401
from gradkit.linalg._norms import *  # noqa: F401,F403
from gradkit.linalg._solve import *  # noqa: F401,F403
from gradkit.ops.linalg import LinAlgError  # noqa: F401

__all__ = ["LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh", "eigvalsh",
           "eig", "eigvals", "svd", "svdvals", "pinv", "matrix_rank", "norm", "vector_norm", "matrix_norm",
           "matrix_power", "lstsq", "cross", "vecdot", "multi_dot", "matmul", "diagonal",
           "solve_triangular", "matrix_exp", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "cholesky_ex", "inv_ex", "solve_ex", "cond", "vander", "householder_product",
           "tensorinv", "tensorsolve", "cholesky_solve", "triangular_solve", "ldl_factor",
           "ldl_factor_ex", "ldl_solve"]

from gradkit.linalg._factor import (cholesky_ex, cholesky_solve, cond, householder_product,  # noqa: E402
                                    inv_ex, ldl_factor, ldl_factor_ex, ldl_solve, lu, lu_factor,
                                    lu_factor_ex, lu_solve, matrix_exp,
                                    solve_ex, solve_triangular, tensorinv, tensorsolve,
                                    triangular_solve, vander)
from gradkit.linalg import _legacy  # noqa: E402,F401  (torch.qr, torch.lu, ..., Tensor.qr, ...)

# the public functions dispatch through __torch_function__ (gradkit/_core/torch_function.py)
from gradkit._core import torch_function as _torch_function  # noqa: E402
_torch_function.wrap_namespace(globals(), __all__, "gradkit.linalg", prefix="linalg_")

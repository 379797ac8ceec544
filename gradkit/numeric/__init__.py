"""Numerical differentiation: sampled data, black-box functions and gradient checks.

- ``gradient``: ``numpy.gradient``-compatible, plus ``accuracy=4|6`` stencils and periodic
  edges; works on ndarrays (fast path), gradkit tensors (differentiable) and Dask arrays.
- Field operators on sampled grids: ``divergence``, ``curl``, ``laplacian``, ``hessian``,
  ``jacobian_field``, ``strain_rate``, ``spin``, ``directional_derivative``.
- Black-box functions: ``derivative`` (adaptive step, Richardson extrapolation, complex
  step), ``approx_grad``, ``approx_jacobian``, ``approx_hessian``, each with an error estimate.
- Checks: ``check_grad`` and ``approx_fprime`` (SciPy's signatures and results) and
  ``compare_grad`` (a report with a tolerance that accounts for truncation and rounding).
"""

from __future__ import annotations

from gradkit.autograd._finite_diff import (DerivativeResult, approx_grad, approx_hessian,
                                           approx_jacobian, derivative)
from ._check import GradComparison, approx_fprime, check_grad, compare_grad
from ._fields import (curl, directional_derivative, divergence, hessian, jacobian_field, laplacian,
                      spin, strain_rate)
from ._sampled import gradient

__all__ = ["gradient", "divergence", "curl", "laplacian", "hessian", "jacobian_field", "strain_rate",
           "spin", "directional_derivative", "derivative", "approx_grad", "approx_jacobian",
           "approx_hessian", "DerivativeResult", "check_grad", "approx_fprime", "compare_grad",
           "GradComparison"]

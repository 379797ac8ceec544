"""A ``scipy.optimize`` bridge with exact derivatives, and native gradient descent.

``minimize``, ``least_squares``, ``curve_fit``, ``root``, ``minimize_scalar`` and the legacy
``fmin*`` functions have SciPy's signatures and results; gradkit supplies the derivatives
SciPy would otherwise approximate by finite differences: value and gradient from one
forward and one backward pass, Hessian-vector products, full Hessians and constraint
Jacobians. Objectives may use gradkit operations or plain NumPy; starting points may be
numbers, arrays, tensors (float32 too) or pytrees of them, and results keep that structure.

SciPy is optional (``pip install gradkit[scipy]``): ``gradient_descent`` and ``newton`` run
without it, the rest raise an ImportError naming the extra.

Examples
--------
>>> import numpy as np
>>> import gradkit.optimize as gopt
>>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
>>> res = gopt.minimize(rosen, np.zeros(5), method="Newton-CG", options={"xtol": 1e-10})
>>> np.round(res.x, 5)
array([1., 1., 1., 1., 1.])
"""

from __future__ import annotations

from ._legacy import (fmin, fmin_bfgs, fmin_cg, fmin_l_bfgs_b, fmin_ncg, fmin_powell,
                      minimize_scalar)
from ._lsq import curve_fit, least_squares, root
from ._minimize import minimize
from ._native import OptimizeResult, RootResults, gradient_descent, newton

__all__ = ["minimize", "minimize_scalar", "least_squares", "curve_fit", "root", "newton",
           "gradient_descent", "fmin", "fmin_powell", "fmin_bfgs", "fmin_cg", "fmin_ncg",
           "fmin_l_bfgs_b", "OptimizeResult", "RootResults"]

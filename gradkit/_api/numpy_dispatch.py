"""NumPy dispatch: plain NumPy code run on gradkit tensors stays on the graph.

``Tensor.__array_ufunc__`` maps ufuncs (called, reduced, accumulated, with
``out=``) and ``Tensor.__array_function__`` maps NumPy functions onto gradkit
operations, which all go through the one derivative table. A NumPy function
that gradkit cannot differentiate raises a ``TypeError`` when a tensor that
requires grad reaches it; nothing silently drops the graph. Tensors that do
not require grad go through NumPy itself and come back as tensors.
"""

from __future__ import annotations

from gradkit._api import numpy_functions as _numpy_functions  # noqa: F401  (registers handlers)
from gradkit._api import numpy_shape as _numpy_shape  # noqa: F401  (registers handlers)
from gradkit._api.numpy_protocol import (FUNCTIONS, UFUNCS, array_function, array_ufunc,
                                         dispatched_functions)
from gradkit._core.tensor import Tensor

__all__ = ["UFUNCS", "FUNCTIONS", "dispatched_functions"]

Tensor.__array_ufunc__ = array_ufunc  # type: ignore[attr-defined]
Tensor.__array_function__ = array_function  # type: ignore[attr-defined]
from gradkit._api import numpy_routines  # noqa: E402,F401  (more handlers, by NumPy's families)
from gradkit._api import numpy_statistics  # noqa: E402,F401  (NumPy's statistics)

"""PyTorch-style public functions (``gk.sum(x, dim=0)``), routed to the derivative table.

Every function validates its arguments and calls a primitive from ``gradkit/ops`` (or
composes several); none carries a derivative of its own. They live by family:

- ``base``: argument conversion, return types, views (shared helpers);
- ``pointwise``: elementwise functions, unary and binary;
- ``reduction``: reductions;
- ``shape``: reshapes, joins and splits;
- ``indexing``: indexing, sorting and searching;
- ``products``: products and whole-tensor comparisons;
- ``special``, ``complex``: the rarer special functions, complex numbers;
- ``mutating``, ``views``, ``differences``, ``distances``, ``histograms``, ``construction``,
  ``blas``: the rest of ``torch.*`` by PyTorch's families (exported by ``gradkit/__init__.py``).

This module gathers them, so ``from gradkit import _api as A`` sees every one.
"""

from __future__ import annotations

from gradkit._api.base import *  # noqa: F401,F403
from gradkit._api.base import (Dims, _dims, _not_lazy, _other, _scalar_name, _t, _view_op,  # noqa: F401
                               as_tensor_arg)
from gradkit._api.indexing import *  # noqa: F401,F403
from gradkit._api.indexing import _index_array  # noqa: F401
from gradkit._api.pointwise import *  # noqa: F401,F403
from gradkit._api.pointwise import _binary, _check_sub_bool, _unary, _wrap_int  # noqa: F401
from gradkit._api.pointwise import abs, pow, round  # noqa: F401
from gradkit._api.products import *  # noqa: F401,F403
from gradkit._api.reduction import *  # noqa: F401,F403
from gradkit._api.reduction import all, any, max, min, sum  # noqa: F401
from gradkit._api.shape import *  # noqa: F401,F403

__all__ = [n for n, v in list(globals().items())
           if callable(v) and not n.startswith("_") and n != "as_tensor_arg"
           and getattr(v, "__module__", "").startswith(("gradkit._api.base", "gradkit._api.pointwise",
                                                         "gradkit._api.reduction", "gradkit._api.shape",
                                                         "gradkit._api.indexing",
                                                         "gradkit._api.products"))]

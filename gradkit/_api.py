"""PyTorch-style public functions (``gk.sum(x, dim=0)``), routed to the derivative table.

Every function validates its arguments and calls a primitive from ``gradkit/ops`` (or
composes several); none carries a derivative of its own. They live by family:

- ``_api_base``: argument conversion, return types, views (shared helpers);
- ``_api_math``: elementwise functions, unary and binary;
- ``_api_reduce``: reductions;
- ``_api_shape``: reshapes, joins and splits;
- ``_api_index``: indexing, sorting and searching;
- ``_api_products``: products and whole-tensor comparisons;
- ``_api_more``: the rarer special functions.

This module gathers them, so ``from gradkit import _api as A`` sees every one.
"""

from __future__ import annotations

from ._api_base import *  # noqa: F401,F403
from ._api_base import (Dims, _dims, _not_lazy, _other, _scalar_name, _t, _view_op,  # noqa: F401
                        as_tensor_arg)
from ._api_index import *  # noqa: F401,F403
from ._api_index import _index_array  # noqa: F401
from ._api_math import *  # noqa: F401,F403
from ._api_math import _binary, _check_sub_bool, _unary, _wrap_int  # noqa: F401
from ._api_math import abs, pow, round  # noqa: F401
from ._api_products import *  # noqa: F401,F403
from ._api_reduce import *  # noqa: F401,F403
from ._api_reduce import all, any, max, min, sum  # noqa: F401
from ._api_shape import *  # noqa: F401,F403

__all__ = [n for n, v in list(globals().items())
           if callable(v) and not n.startswith("_") and n != "as_tensor_arg"
           and getattr(v, "__module__", "").startswith(("gradkit._api_base", "gradkit._api_math",
                                                         "gradkit._api_reduce", "gradkit._api_shape",
                                                         "gradkit._api_index",
                                                         "gradkit._api_products"))]

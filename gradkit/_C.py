"""``torch._C``'s few names that Python code written for PyTorch uses with ``__torch_function__``
(``with torch._C.DisableTorchFunctionSubclass(): ...``, ``_disabled_torch_function_impl``)."""

from __future__ import annotations

from gradkit._core.torch_function import (DisableTorchFunction, DisableTorchFunctionSubclass,
                                          _disabled_torch_function_impl)
from gradkit._core.torch_function import is_enabled as _is_torch_function_enabled
from gradkit._core.torch_function import mode_stack as _mode_stack

__all__ = ["DisableTorchFunction", "DisableTorchFunctionSubclass", "_disabled_torch_function_impl",
           "_is_torch_function_enabled", "_len_torch_function_stack"]


def _len_torch_function_stack() -> int:
    """How many TorchFunctionModes this thread has entered."""
    return len(_mode_stack())

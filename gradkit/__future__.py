"""``gradkit.__future__``: PyTorch's ``torch.__future__`` switches for ``nn.Module`` conversions.

By default (both off) ``module.to(dtype)``, ``module.double()``, ``module.half()``, ``to(device)``
and ``to_empty`` change each parameter's values in place: the Parameter objects (and their
``.grad`` objects) stay the same, as PyTorch's ``param.data = ...`` does.
``set_overwrite_module_params_on_conversion(True)`` assigns new Parameter objects instead (an
optimizer holding the old ones no longer sees the module's); ``set_swap_module_params_on_conversion
(True)`` swaps the converted values into the existing objects (PyTorch's ``swap_tensors``) and takes
precedence over overwrite. In gradkit a swap and the default keep the same objects alike.
"""

from __future__ import annotations

from gradkit._core import future as _f

__all__ = ["set_overwrite_module_params_on_conversion", "get_overwrite_module_params_on_conversion",
           "set_swap_module_params_on_conversion", "get_swap_module_params_on_conversion"]


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Whether ``nn.Module`` conversions assign new Parameter objects instead of changing the
    existing ones in place."""
    _f.OVERWRITE[0] = value


def get_overwrite_module_params_on_conversion() -> bool:
    """See :func:`set_overwrite_module_params_on_conversion` (default ``False``)."""
    return _f.OVERWRITE[0]


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Whether ``nn.Module`` conversions (and ``load_state_dict``) swap the new values into the
    existing parameter objects; takes precedence over overwrite."""
    _f.SWAP[0] = value


def get_swap_module_params_on_conversion() -> bool:
    """See :func:`set_swap_module_params_on_conversion` (default ``False``)."""
    return _f.SWAP[0]

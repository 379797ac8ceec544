"""``Module.load_state_dict``'s work: walk the module tree, copy (or assign) each persistent
tensor, and collect the missing and unexpected keys and the errors in PyTorch's words.

Kept apart from ``module.py`` (which calls it) so that file holds the container itself; the
``Parameter`` class is passed in, so this module imports nothing from ``module.py``.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from gradkit._core.tensor import Tensor, check_inplace_inference

__all__: list[str] = []


def load(root: Any, state_dict: Any, strict: bool, assign: bool,
         parameter: type) -> tuple[list[str], list[str]]:
    """Load ``state_dict`` into ``root`` and its submodules; return the missing and the
    unexpected keys. ``parameter`` wraps an assigned parameter (``nn.Parameter``)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing: list[str] = []
    unexpected: list[str] = []
    errors: list[str] = []

    def load_tree(module: Any, prefix: str) -> None:
        _load_own(module, state_dict, prefix, assign, parameter, missing, unexpected, errors)
        for name, child in module._modules.items():
            if child is not None:
                load_tree(child, prefix + name + ".")
    load_tree(root, "")
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected)))
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing)))
    if errors:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            type(root).__name__, "\n\t".join(errors)))
    return missing, unexpected


def _load_own(module: Any, state_dict: Mapping[str, Any], prefix: str, assign: bool,
              parameter: type, missing: list[str], unexpected: list[str],
              errors: list[str]) -> None:
    """One module's part of ``load_state_dict`` (PyTorch's ``_load_from_state_dict``)."""
    lazy_hook = getattr(module, "_lazy_load_hook", None)
    if lazy_hook is not None:
        lazy_hook(state_dict, prefix)
    local = {k: v for k, v in module._parameters.items() if v is not None}
    local.update((k, v) for k, v in module._buffers.items()
                 if v is not None and k not in module._non_persistent_buffers_set)
    for name, own in local.items():
        key = prefix + name
        if key not in state_dict:
            missing.append(key)
            continue
        value = state_dict[key]
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value))
        if tuple(value.shape) != tuple(own.shape):
            errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                          f"checkpoint, the shape in current model is {own.shape}.")
            continue
        if assign:
            if name in module._parameters:
                module._parameters[name] = parameter(value.detach(), own.requires_grad)
            else:
                module._buffers[name] = value
            continue
        check_inplace_inference(own)
        if own.is_meta and not value.is_meta:
            warnings.warn(f"for {key}: copying from a non-meta parameter in the checkpoint to a "
                          "meta parameter in the current model, which is a no-op. (Did you mean "
                          "to pass `assign=True` to assign items in the state dictionary to their "
                          "corresponding key in the module instead of copying them in place?)",
                          UserWarning, stacklevel=4)
        elif value.is_meta and not own.is_meta:
            errors.append(f'While copying the parameter named "{key}", whose dimensions in the '
                          f"model are {own.shape} and whose dimensions in the checkpoint are "
                          f"{value.shape}, an exception occurred : ('Cannot copy out of meta "
                          "tensor; no data!',).")
            continue
        own._data[...] = value._data
        own._vc[0] += 1
    for key in state_dict:
        if key.startswith(prefix):
            first = key[len(prefix):].split(".", 1)[0]
            if first not in module._modules and first not in local:
                unexpected.append(key)

"""``gradkit.jit``: the TorchScript markers model code uses in eager mode.

``torch.jit.is_scripting()`` / ``is_tracing()`` are ``False`` in eager PyTorch and always here;
``@torch.jit.ignore``, ``unused`` and ``export`` leave the function as it is; ``annotate`` and
``Attribute`` return their value; ``Final`` is ``typing.Final``. gradkit has no TorchScript, so
``script``, ``trace``, ``save`` and ``load`` raise rather than hand back something that is not a
ScriptModule.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Final  # noqa: F401  (torch.jit.Final)

__all__ = ["is_scripting", "is_tracing", "ignore", "unused", "export", "annotate", "Attribute",
           "Final", "script", "trace", "save", "load"]


def is_scripting() -> bool:
    """``False``: nothing runs as TorchScript in gradkit."""
    return False


def is_tracing() -> bool:
    """``False``: ``torch.jit.trace`` is never under way in gradkit."""
    return False


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@ignore`` or ``@ignore(drop=...)``: the function unchanged."""
    if callable(drop):
        return drop
    if drop:
        warnings.warn("ignore(True) has been deprecated. TorchScript will now drop the function "
                      "call on compilation. Use torch.jit.unused now. {}", FutureWarning,
                      stacklevel=2)
    return lambda fn: fn


def unused(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def export(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def annotate(the_type: Any, the_value: Any) -> Any:
    """``the_value`` (the type is for the TorchScript compiler)."""
    return the_value


def Attribute(value: Any, type: Any) -> Any:  # noqa: N802  (PyTorch's name)
    """``value`` (in eager PyTorch too)."""
    return value


def _no_torchscript(name: str) -> Any:
    raise NotImplementedError(
        f"torch.jit.{name}: gradkit has no TorchScript. Run the module or function eagerly, "
        "or use gradkit.compile to trace it; save weights with gradkit.save(model.state_dict()).")


def script(obj: Any, *args: Any, **kwargs: Any) -> Any:
    _no_torchscript("script")


def trace(func: Any, *args: Any, **kwargs: Any) -> Any:
    _no_torchscript("trace")


def save(m: Any, f: Any, *args: Any, **kwargs: Any) -> Any:
    _no_torchscript("save")


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    _no_torchscript("load")

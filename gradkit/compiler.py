"""``gradkit.compiler``: the parts of ``torch.compiler`` that model code calls in eager mode.

Libraries ask ``torch.compiler.is_compiling()`` to pick an eager or a graph-friendly path, and
mark functions with ``@torch.compiler.disable`` or ``allow_in_graph``. gradkit runs eagerly (its
own ``gradkit.compile`` traces differently), so these report "not compiling" and return the
function unchanged, which is what PyTorch does outside ``torch.compile``.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["is_compiling", "is_dynamo_compiling", "is_exporting", "disable", "allow_in_graph",
           "assume_constant_result", "reset", "compile"]


def is_compiling() -> bool:
    """``False``: gradkit code runs eagerly (``torch.compile`` tracing is never under way)."""
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def disable(fn: Callable[..., Any] | None = None, recursive: bool = True, *,
            reason: str | None = None) -> Any:
    """``fn`` unchanged (a decorator with or without arguments): it already runs eagerly."""
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def assume_constant_result(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def reset() -> None:
    """Nothing to clear (``gradkit.compile`` keeps its caches on each compiled function)."""
    return None


def compile(*args: Any, **kwargs: Any) -> Any:
    """``gradkit.compile``."""
    from gradkit.compile import compile as _compile
    return _compile(*args, **kwargs)

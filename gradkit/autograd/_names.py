"""The user's names for tensors in explanations: the variable that holds a tensor in the
innermost frame outside gradkit, and a source site as text."""

from __future__ import annotations

import sys
from typing import Any


from gradkit._core.sites import _inside, _PKG, where_str

def _user_frame() -> Any:
    f = sys._getframe(1)
    while f is not None:
        co = f.f_code
        fn = co.co_filename
        inside = _inside.get(fn)
        if inside is None:
            inside = _inside[fn] = fn.startswith(_PKG)
        if not inside:
            return f
        f = f.f_back
    return None


def _name_of(t: Any, default: str) -> str:
    """The user's variable name for ``t`` in the innermost frame outside gradkit."""
    f = _user_frame()
    if f is not None and t is not None:
        for k, v in f.f_locals.items():
            if v is t and not k.startswith("_"):
                return f"`{k}`"
    return default


def _loc(s: Any) -> str | None:
    return where_str(s) or None

"""Cheap source locations for diagnostics: where a node was recorded, where a version bumped.

A *site* is ``(code, lasti)`` of the first frame outside the gradkit package: taking
it costs a ``sys._getframe`` and a dict lookup per frame walked (no traceback, no line
table). The line number is worked out only when a message needs it. Sites are taken
when a node saves values for backward, on in-place operations, and where a gradient
is dropped (``detach``, an op under ``no_grad``, an integer cast, a comparison); a
:class:`Why` mark on the resulting tensor says which, and travels through the
unrecorded operations that follow, so a later error can name the line.

``set_record_locations(False)`` switches all of this off (a call or a context manager).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gradkit._core.grad_mode import _GradMode, _state

__all__ = ["set_record_locations", "is_record_locations_enabled", "site", "where_str", "Why"]

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_getframe = sys._getframe
#: file name -> True when it belongs to gradkit (frames to skip); str hashes are cached,
#: code objects' are not
_inside: dict[Any, bool] = {}


def site(depth: int = 2) -> Any:
    """``(code, lasti)`` of the innermost caller outside gradkit, or None when switched off."""
    if not _state.record_sites:
        return None
    # NOTE: ``depth`` is the usual distance to the user's frame: _getframe jumps there
    # without materialising the frames in between (walking f_back costs a frame object each).
    try:
        f = _getframe(depth)
    except ValueError:
        f = _getframe(1)
    while f is not None:
        co = f.f_code
        fn = co.co_filename
        inside = _inside.get(fn)
        if inside is None:
            inside = _inside[fn] = fn.startswith(_PKG)
        if not inside:
            return (co, f.f_lasti)
        f = f.f_back
    return None


def line_of(s: Any) -> tuple[str, int] | None:
    """``(filename, line)`` of a site."""
    if s is None:
        return None
    co, lasti = s
    line = co.co_firstlineno
    for start, end, ln in co.co_lines():
        if start <= lasti < end and ln is not None:
            line = ln
            break
    return co.co_filename, line


def where_str(s: Any) -> str:
    """``file.py:10`` (the base name) for a site, or ``''``."""
    loc = line_of(s)
    if loc is None:
        return ""
    return f"{os.path.basename(loc[0])}:{loc[1]}"


def at(s: Any) -> str:
    """`` at file.py:10`` or ``''``."""
    w = where_str(s)
    return f" at {w}" if w else ""


class Why:
    """Why a tensor has no gradient history: ``kind``, the ``op`` and the ``site`` that did it.

    ``kind`` is one of ``'no_grad'``, ``'detach'``, ``'cast'``, ``'non_differentiable'``.
    ``source`` is the tensor that did require grad (held weakly).
    """

    __slots__ = ("kind", "op", "site", "source", "detail", "recipe")

    def __init__(self, kind: str, op: str, s: Any, source: Any = None, detail: str = "") -> None:
        #: ``(prim, params, inputs)`` to recompute the marked tensor (explain after backward)
        self.recipe: Any = None
        self.kind = kind
        self.op = op
        self.site = s
        self.detail = detail
        if source is not None:
            import weakref
            try:
                source = weakref.ref(source)
            except TypeError:
                source = None
        self.source = source

    def __repr__(self) -> str:
        return f"Why({self.kind!r}, {self.op!r}{at(self.site)})"


def mark(t: Any, kind: str, op: str, source: Any = None, detail: str = "", depth: int = 3) -> Any:
    """Attach a :class:`Why` to ``t`` (when recording locations) and return ``t``."""
    if _state.record_sites:
        t._why = Why(kind, op, site(depth), source, detail)
    return t


def bumped(t: Any, op: str, depth: int = 3) -> None:
    """Remember on ``t``'s version counter which in-place op bumped it last, and where."""
    if _state.record_sites:
        vc = t._vc
        vc[1:] = (op, site(depth))


def last_bump(vc: list[Any]) -> tuple[str, Any] | None:
    """``(op, site)`` of the last recorded in-place change to a version counter."""
    return (vc[1], vc[2]) if len(vc) >= 3 else None


def is_record_locations_enabled() -> bool:
    return _state.record_sites


class set_record_locations(_GradMode):
    """Record source locations for diagnostics (default on): a call, context manager or decorator.

    Locations cost a frame walk per recorded node that saves values and per in-place
    operation (about 1-2% of the per-op time); switch them off for the last bit of speed.
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _state.record_sites
        self.mode = bool(mode)
        _state.record_sites = self.mode

    def __call__(self, fn: Any) -> Any:
        _state.record_sites = self.prev
        return super().__call__(fn)

    def __enter__(self) -> None:
        _state.record_sites = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.record_sites = self.prev

    def clone(self) -> set_record_locations:
        return self.__class__(self.mode)

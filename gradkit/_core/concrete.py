"""A differentiated tensor turned into a plain Python or NumPy value: an error, never a zero.

``float(t)``, ``int(t)``, ``complex(t)``, ``t.item()``, ``t.tolist()`` and ``np.asarray(t)``
give values that gradkit's graph cannot see. Whatever is computed from them is a constant
to autograd, so a gradient through them would silently be zero (``math.sin(x[0])``,
``np.float64(x)``, ``y = np.zeros(2); y[0] = x[0] ** 2``).

While a transform differentiates user code (``gradkit.func.*``, ``gradkit.autograd.functional.*``,
``gradkit.optimize.*``, a recording ``GradientTape``), such a conversion of a tensor that is
being differentiated raises :class:`ConcretizationError`, in the spirit of JAX's
``ConcretizationTypeError``: what happened, at which line, and what to write instead. A tensor
is differentiated when it carries a forward-mode tangent or is computed from the transform's
inputs (a short walk of its graph, only when a conversion happens); a closed-over parameter
that requires grad is not, as in JAX, where it would not be traced. Inside a GradientTape every
tensor that requires grad counts (the tape differentiates whatever it watches).

NOTE: the choice follows JAX: any such conversion raises inside a transform, even one whose
value only goes to a log line (``print(float(loss))``), because gradkit cannot know where the
value flows. ``t.detach()`` (or ``with gradkit.no_grad():``) says "values only" and works.
Comparisons and ``bool(t)`` stay allowed: gradkit runs the user's code eagerly, so Python
control flow on a differentiated value is fine (as in PyTorch and HIPS autograd), and
formatting (``f"{loss:.3f}"``, ``repr``) yields text, never a number that flows on.

Outside transforms, ``float(t)`` and ``complex(t)`` of a tensor that requires grad warn
once per process, as PyTorch 2.x does; ``item()``, ``int()`` and ``tolist()`` do not warn
(as in PyTorch).
"""

from __future__ import annotations

import linecache
import threading
import warnings
from typing import Any, Sequence

__all__ = ["ConcretizationError", "differentiating", "is_differentiating"]


class ConcretizationError(RuntimeError):
    """A tensor being differentiated was converted to a Python or NumPy value.

    NOTE: a ``RuntimeError`` (what PyTorch raises for ``np.asarray`` of a tensor that requires
    grad), not a ``TypeError`` as JAX's ``ConcretizationTypeError``: NumPy swallows a
    TypeError from ``__float__`` and retries the value as a sequence, which would replace
    this message by "setting an array element with a sequence".
    """


ConcretizationError.__module__ = "gradkit"          # shown as gradkit.ConcretizationError


class _Local(threading.local):
    #: how many differentiating transforms are running user code in this thread
    depth = 0
    #: the outermost one's public name, for messages
    name = ""
    #: the running contexts, outermost first
    stack: tuple[Any, ...] = ()


_local = _Local()

#: PyTorch's warning, word for word (TORCH_WARN_ONCE in python_variable_methods.cpp)
SCALAR_WARNING = ("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                  "behavior.\nConsider using tensor.detach() first.")
_warned = [False]


class differentiating:
    """``with differentiating("gradkit.func.grad", primals):`` marks user code run by a transform.

    ``primals`` are the tensors the transform differentiates with respect to (they may be set
    on the context after entering it); a conversion raises for a tensor computed from them.
    Contexts without primals (a GradientTape, or an outer one that only names the public
    function) count every tensor that requires grad as differentiated, unless a context
    inside them names primals. Re-entrant and thread-local; the state is restored on every
    exit, exceptions included.
    """

    __slots__ = ("name", "primals", "prev")

    def __init__(self, name: str, primals: Sequence[Any] | None = None) -> None:
        self.name = name
        self.primals = primals

    def __enter__(self) -> differentiating:
        self.prev = (_local.name, _local.stack)
        if _local.depth == 0:
            _local.name = self.name
        _local.stack = self.prev[1] + (self,)
        _local.depth += 1
        return self

    def __exit__(self, typ: Any, exc: Any, tb: Any) -> None:
        _local.depth -= 1
        _local.name, _local.stack = self.prev
        if exc is not None and not isinstance(exc, ConcretizationError):
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ConcretizationError):
                # NOTE: NumPy turns an error in ``__float__`` of a sequence-like object into
                # "setting an array element with a sequence" (ValueError) with ours as the
                # cause; surface ours, which says what happened and what to do
                raise cause.with_traceback(cause.__traceback__) from None


def is_differentiating() -> bool:
    """Whether a transform is running user code in this thread (conversions then raise)."""
    return _local.depth > 0


def _grad_enabled() -> bool:
    from gradkit._core.grad_mode import _state
    return _state.grad_enabled


def check(t: Any, what: str) -> None:
    """Raise for a conversion ``what`` of ``t`` inside a transform when ``t`` is differentiated.

    Called by the conversion methods only (never on an operation's hot path).
    """
    if _local.depth and (t._rg or t._fw) and _grad_enabled() and _differentiated(t):
        raise error(what)


def _differentiated(t: Any) -> bool:
    """Whether ``t`` carries a tangent, or depends on the running transforms' primals (any
    tensor requiring grad when none names its primals)."""
    if t._fw:
        return True
    prims = [p for ctx in _local.stack if ctx.primals is not None for p in ctx.primals]
    return not prims or depends(t, prims)


def depends(t: Any, prims: Sequence[Any]) -> bool:
    """Whether tensor ``t`` is one of ``prims`` or is computed from one through the graph."""
    leaves = {id(p) for p in prims if p._fn is None}
    outputs = {(id(p._fn), p._oi) for p in prims if p._fn is not None}
    if id(t) in leaves or (t._fn is not None and (id(t._fn), t._oi) in outputs):
        return True
    if t._fn is None:
        return False                     # a leaf the transforms do not differentiate
    # NOTE: a depth-first walk of t's graph (the primals sit at its bottom), only when a
    # conversion happens inside a transform, or once per differentiated call in optimize
    seen = {id(t._fn)}
    todo = [t._fn]
    while todo:
        for edge in todo.pop().next or ():
            if type(edge) is tuple:
                node = edge[0]
                if (id(node), edge[1]) in outputs:
                    return True
                if id(node) not in seen:
                    seen.add(id(node))
                    todo.append(node)
            elif edge is not None and id(edge) in leaves:
                return True
    return False


def check_scalar(t: Any, what: str) -> None:
    """``check``, plus PyTorch's one-time warning for ``float()``/``complex()`` otherwise."""
    check(t, what)
    if t._rg and not _warned[0] and _grad_enabled():
        _warned[0] = True
        warnings.warn(SCALAR_WARNING, UserWarning, stacklevel=user_stacklevel())


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` in the caller that points at the user's line."""
    import sys

    from gradkit._core.sites import _PKG
    f: Any = sys._getframe(2)
    level = 2
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        f = f.f_back
        level += 1
    return level


def user_line() -> str:
    """`` at file.py:12 (`source line`)`` for the innermost frame outside gradkit, or ``''``."""
    import sys

    from gradkit._core.sites import _PKG, where_str
    f: Any = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        f = f.f_back
    if f is None:
        return ""
    loc = where_str((f.f_code, f.f_lasti))
    text = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f" at {loc}" + (f" (`{text}`)" if text else "")


def error(what: str) -> ConcretizationError:
    """The error for a conversion ``what`` (``"float()"``, ``"np.asarray()"``, ...)."""
    name = _local.name or "a gradkit transform"
    black_box = ""
    if name.startswith("gradkit.optimize"):
        black_box = (" For an objective that cannot be written with tensors (a true black box), "
                     "pass jac='2-point' to use finite differences instead.")
    return ConcretizationError(
        f"{what} was called{user_line()} on a tensor that {name} is differentiating. The result "
        "is a value that gradkit's graph cannot see (a Python/NumPy value, or a copy off the "
        "graph), so the gradient through it would silently be zero. Keep the value a tensor: "
        "call NumPy or gradkit functions on "
        "it (np.sin(x[0]) instead of math.sin(x[0]), x ** 2 instead of np.float64(x) ** 2), and "
        "build arrays from tensors with np.stack([...]) or gradkit.stack([...]) instead of "
        "np.array([...]) or filling np.zeros(...) element by element. For a value that must not "
        "be differentiated (a log line), use tensor.detach()." + black_box)

"""Per-thread state of the transforms: vmap levels, dual levels and the table's forward hook.

While a ``vmap`` or a dual level runs in a thread, every primitive that thread applies
meets a hook (batching rules, tangents). The table checks one global flag on its fast
path, ``gradkit.ops._registry._fw_on``; it is on while *any* thread has a hook, and the
hook installed in the table is ``_dispatch``, which runs the calling thread's own hook
(or the plain primitive when that thread has none). So a transform in one thread never
changes what an operation computes in another, and once every transform has returned
(normally or by an exception) the flag is off again and eager ops pay only the check.

NOTE: while exactly one thread has a hook, the table holds that hook itself (one call
less per primitive). Both hooks are right for a thread without one too: vmap's finds no
batched tensor and no dual level of the calling thread and runs the primitive; forward
mode's finds no tangent and returns the primal (a tangent of another thread's level
raises ``foreign_level_error`` there, as ``_dispatch`` does).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from ..ops import _registry as R
from gradkit._core.grad_mode import _state

__all__ = ["PerThreadList", "current_hook", "set_hook", "active_threads"]

_lock = threading.RLock()       # reentrant: a _Token may be collected while the lock is held
#: how many threads have a hook set now (the table's flag is ``_active > 0``)
_active = 0


class _Token:
    """Held in a thread's state while it has a hook: a thread that ends with its hook still set
    (a level entered and never exited) drops its token, and the count goes down with it."""

    __slots__ = ("live",)

    def __init__(self) -> None:
        self.live = True

    def __del__(self) -> None:
        if self.live:
            self.live = False
            try:
                _count(-1)
            except Exception:                # NOTE: only at interpreter shutdown (modules torn down)
                pass


def _count(delta: int, hook: Any = None) -> None:
    """Change the number of hooked threads by ``delta``; ``hook``: the caller's new hook."""
    global _active
    with _lock:
        _active += delta
        R._fw_hook = hook if hook is not None and _active == 1 else _dispatch
        R._fw_on = _active > 0


def foreign_level_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"{name}: a dual tensor of a forward-mode level that another thread opened was used in "
        "this thread, where that level does not exist (its tangent would be dropped). Dual "
        "levels (forward_ad.dual_level, gradkit.func.jvp/jacfwd) belong to the thread that "
        "opened them: compute with the dual tensor in that thread, or open a level in this one "
        "and make_dual there.")


class PerThreadList(threading.local):
    """A list whose items belong to the calling thread: each thread sees (and changes) its own.

    It has the list operations the level stacks use (``len``, truth, indexing and slices,
    ``append``, ``pop``, ``clear``, iteration); ``.items`` is the calling thread's list itself
    (one attribute read, for hot paths).
    """

    def __init__(self) -> None:
        self.items: list[Any] = []          # run once per thread, on its first use

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self.items[index] = value

    def __iter__(self) -> Any:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        return self.items == (other.items if isinstance(other, PerThreadList) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.items)

    def append(self, value: Any) -> None:
        self.items.append(value)

    def pop(self, index: int = -1) -> Any:
        return self.items.pop(index)

    def clear(self) -> None:
        self.items.clear()


def _dispatch(prim: Any, args: Any, params: Any, variant: int) -> Any:
    """The table's hook while any thread has one: the calling thread's hook, or the primitive."""
    hook = _state.fw_hook
    if hook is None:
        for a in args:
            if getattr(a, "_fw", None):
                raise foreign_level_error(prim.name)
        return R.apply(prim, args, params, variant, True)
    return hook(prim, args, params, variant)


def current_hook() -> Callable[..., Any] | None:
    """The hook of the calling thread (None: its primitives run as they are)."""
    return _state.fw_hook


def set_hook(hook: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """Make ``hook`` the calling thread's hook (None removes it); returns the previous one.

    Callers restore the previous hook in a ``finally`` so that no exit path leaves it set.
    """
    prev = _state.fw_hook
    if prev is None and hook is not None:
        _count(1, hook)
        _state.fw_token = _Token()
    elif prev is not None and hook is None:
        token = _state.fw_token
        _state.fw_token = None
        if token is not None and token.live:
            token.live = False
            _count(-1)
    elif hook is not prev:
        _count(0, hook)
    _state.fw_hook = hook
    return prev


def active_threads() -> int:
    """How many threads have a hook set now (0 when no transform runs anywhere)."""
    return _active

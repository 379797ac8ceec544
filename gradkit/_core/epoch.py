"""The state epoch: a counter every change of a module's or an optimizer's own tables moves.

``nn.Module`` keeps its parameters, buffers, submodules and hooks in tables of the types below
(``Optimizer`` its hooks): each mutating method bumps ``EPOCH[0]`` before it runs, whoever calls
it (``register_*``, a handle's ``remove()``, ``del module._parameters[name]`` in user code or in
``nn.utils``). ``gradkit.compile`` reads the counter to skip re-reading these tables on a call:
when it did not move since the last walk over a function's state, no such table changed. What
the counter cannot see (a write through ``dict.__setitem__(table, ...)``, which skips the
subclass) is the same as writing into any other object's memory behind Python's back.

Reading or iterating a table costs what an ``OrderedDict`` or ``set`` costs; only writes pay a
Python call.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

__all__ = ["EPOCH", "VersionedDict", "VersionedSet"]

#: the counter (a list, so that readers keep a reference to the cell, not to a number)
EPOCH = [0]


def _bumping(base: type, name: str) -> Any:
    method = getattr(base, name)

    def bump(self: Any, *args: Any, **kwargs: Any) -> Any:
        EPOCH[0] += 1
        return method(self, *args, **kwargs)
    bump.__name__ = bump.__qualname__ = name
    bump.__doc__ = method.__doc__
    return bump


class VersionedDict(OrderedDict):  # type: ignore[type-arg]
    """An ``OrderedDict`` whose every write bumps ``EPOCH``."""

    __slots__ = ()


for _name in ("__setitem__", "__delitem__", "__ior__", "pop", "popitem", "setdefault",
              "update", "clear", "move_to_end"):
    setattr(VersionedDict, _name, _bumping(OrderedDict, _name))


class VersionedSet(set):  # type: ignore[type-arg]
    """A ``set`` whose every write bumps ``EPOCH``."""

    __slots__ = ()


for _name in ("__init__", "add", "discard", "remove", "pop", "clear", "update", "difference_update",
              "intersection_update", "symmetric_difference_update", "__ior__", "__iand__",
              "__isub__", "__ixor__"):
    setattr(VersionedSet, _name, _bumping(set, _name))
del _name

"""The state epoch: a counter that every change of a tensor's hook tables moves.

``Tensor.register_hook`` and ``register_post_accumulate_grad_hook`` keep their hooks in a
``VersionedDict``: each write (a hook added, a handle's ``remove()``, a write into the table by
hand) bumps ``EPOCH[0]`` before it runs. ``gradkit.compile`` checks the state a compiled
function reaches on every call; a tensor's hooks are part of that state (a replay would not
call them), and the counter tells the check whether any hook table changed since its last
walk, without reading every tensor's tables. A write through ``dict.__setitem__(table, ...)``,
which skips the subclass, is not seen, as any write behind Python's back.

Reading or iterating such a table costs a little more than a plain ``dict`` (a subclass of
``OrderedDict``), which is why module tables are not versioned this way: every layer call reads
them (``Module.__getattr__``), and eager code must not pay for ``compile``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

__all__ = ["EPOCH", "VersionedDict"]

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


for _name in ("__setitem__", "__delitem__", "__ior__", "pop", "popitem", "setdefault",
              "update", "clear", "move_to_end"):
    setattr(VersionedDict, _name, _bumping(OrderedDict, _name))
del _name

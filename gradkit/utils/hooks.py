"""``torch.utils.hooks``: the handle that every ``register_*_hook`` of a module returns."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

__all__ = ["RemovableHandle"]

_ids = itertools.count()   # next() on a count is atomic: no two handles share an id


class RemovableHandle:
    """What ``register_*_hook`` returns: ``remove()`` unregisters the hook; as a context
    manager it removes the hook on exit (``torch.utils.hooks.RemovableHandle``)."""

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(_ids)
        extras = [] if extra_dict is None else (
            [extra_dict] if isinstance(extra_dict, dict) else list(extra_dict))
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def __getstate__(self) -> tuple[Any, ...]:
        # NOTE: the tables themselves, so a deep copy of a module gets handles to its own tables
        return (self.hooks_dict_ref(), self.id, tuple(r() for r in self.extra_dict_ref))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        table, self.id, extras = state
        self.hooks_dict_ref = weakref.ref(table if table is not None else {}.__class__())
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras if d is not None)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            table = ref()
            if table is not None:
                table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

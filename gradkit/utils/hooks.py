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

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            table = ref()
            if table is not None:
                table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

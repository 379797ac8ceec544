"""``torch.utils.dlpack``: ``from_dlpack`` and ``to_dlpack`` (the DLPack exchange of
``gradkit._api.buffers``, also ``gradkit.from_dlpack``)."""

from __future__ import annotations

from gradkit._api.buffers import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]

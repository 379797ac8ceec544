"""``torch.nn.modules.channelshuffle``'s path for ``ChannelShuffle`` (defined in ``pixelshuffle.py``)."""

from .pixelshuffle import ChannelShuffle

__all__ = ["ChannelShuffle"]

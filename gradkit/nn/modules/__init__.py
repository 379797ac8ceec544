"""``Module``, ``Parameter`` and the layers built on them (``gradkit.nn.Linear``, ...)."""

from __future__ import annotations

from .activation import *  # noqa: F401,F403
from .activation import __all__ as _act
from .container import ModuleDict, ModuleList, Sequential
from .conv import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d
from .extra import *  # noqa: F401,F403
from .extra import __all__ as _extra
from .extra2 import *  # noqa: F401,F403
from .extra2 import __all__ as _extra2
from .linear import Dropout, Embedding, Flatten, Identity, Linear, Unflatten
from .loss import *  # noqa: F401,F403
from .loss import __all__ as _loss
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "Flatten",
           "Unflatten", "Dropout", "Embedding", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
           "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "RNNBase", "RNN",
           "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", *_act, *_loss, *_extra, *_extra2]

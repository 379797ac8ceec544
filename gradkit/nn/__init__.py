"""Neural-network building blocks, PyTorch style: ``gradkit.nn.functional`` (``F``).

Modules, parameters and layers (``gradkit.nn.Module``, ``Linear``, ...) live
beside it; the functional form is the foundation they are built on.
"""

from __future__ import annotations

import sys as _sys

from . import functional
from . import _rnn_utils
from . import init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from . import parametrize, parametrizations, prune
from . import parameter, parallel
from .parameter import Buffer
from .parallel import DataParallel

# NOTE: PyTorch's path is torch.nn.utils.parametrize; nn.utils is a module here, so the
# submodule is attached to it (and registered for ``import gradkit.nn.utils.parametrize``).
utils.parametrize = parametrize  # type: ignore[attr-defined]
_sys.modules[__name__ + ".utils.parametrize"] = parametrize
utils.parametrizations = parametrizations  # type: ignore[attr-defined]
_sys.modules[__name__ + ".utils.parametrizations"] = parametrizations
utils.prune = prune  # type: ignore[attr-defined]
_sys.modules[__name__ + ".utils.prune"] = prune
# An empty __path__ makes nn.utils a package to the import system, so an import of
# ``<alias>.nn.utils.parametrize`` through a finder that maps torch to gradkit (PyTorch code run
# with ``import gradkit as torch``) reaches the submodules registered above.
utils.__path__ = []  # type: ignore[attr-defined]
utils.rnn = _rnn_utils  # type: ignore[attr-defined]
_sys.modules[__name__ + ".utils.rnn"] = _rnn_utils

__all__ = ["functional", "init", "utils", "parametrize", "parameter", "Buffer", "parallel",
           "DataParallel", *_modules_all]

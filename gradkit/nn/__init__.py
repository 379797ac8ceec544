"""Neural-network building blocks, PyTorch style: ``gradkit.nn.functional`` (``F``).

Modules, parameters and layers (``gradkit.nn.Module``, ``Linear``, ...) live
beside it; the functional form is the foundation they are built on.
"""

from __future__ import annotations

from . import functional
from . import init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all

__all__ = ["functional", "init", "utils", *_modules_all]

"""``gradkit.optim``: PyTorch's optimizers and learning-rate schedulers on NumPy buffers.

Updates match ``torch.optim`` for the same inputs and hyper-parameters.

Examples
--------
>>> import gradkit as gk
>>> from gradkit import optim
>>> w = gk.tensor(5.0, requires_grad=True)
>>> opt = optim.SGD([w], lr=0.4)
>>> for _ in range(3):
...     opt.zero_grad()
...     (w ** 2).backward()
...     _ = opt.step()
>>> w
tensor(0.0400, requires_grad=True)
"""

from __future__ import annotations

from typing import Any

from . import lr_scheduler
from ._stateless import swap_in_optimizer_params_and_state
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS", "NAdam", "RAdam", "Adamax",
           "Adadelta", "Rprop", "ASGD", "Muon", "Adafactor",
           "SparseAdam", "lr_scheduler", "swa_utils", "swap_in_optimizer_params_and_state"]


def __getattr__(name: str) -> Any:
    # NOTE: ``swa_utils`` builds on gradkit.nn (AveragedModel is a Module), so it loads on first
    # use (``torch.optim.swa_utils.AveragedModel`` after ``import torch``), not with the optimizers
    if name == "swa_utils":
        import importlib
        return importlib.import_module(f"{__name__}.swa_utils")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

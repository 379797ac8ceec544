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

from . import lr_scheduler
from .adam import Adam, AdamW
from .extra import ASGD, Adadelta, Adamax, NAdam, RAdam, Rprop
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import Adagrad, RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS", "NAdam", "RAdam", "Adamax",
           "Adadelta", "Rprop", "ASGD", "lr_scheduler"]

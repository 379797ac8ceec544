"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2017), PyTorch's layout.

A head ``Linear`` scores the ``cutoffs[0]`` frequent classes and one entry per tail cluster; each
cluster's classes are scored by a two-layer projection (``in_features // div_value ** (i + 1)``
hidden units). Parameter names and shapes follow PyTorch, so its state dict loads.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from gradkit import _api as A
from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor, _make

from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _index(arr: np.ndarray) -> Tensor:
    return _make(np.ascontiguousarray(arr, dtype=np.int64), False, None)


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: ``forward(input, target)`` gives each target's log-probability and the mean NLL."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an "
                             "increasing order, where each value is between 1 and n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Any) -> _ASMoutput:
        tgt = target_ if isinstance(target_, Tensor) else _make(np.asarray(target_), False, None)
        if tgt.dim() == 1:
            if input_.shape[0] != tgt.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{input_.size()}")
        elif tgt.dim() == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = tgt.dim() > 0
        input = input_ if batched else A.unsqueeze(input_, 0)
        target = np.asarray(_backend.to_numpy(tgt._data)).astype(np.int64).reshape(-1)
        bounds = [0] + self.cutoffs
        gather_inds = target.copy()
        rows_seen, pieces, order = 0, [], []
        for i in range(len(bounds) - 1):
            mask = (target >= bounds[i]) & (target < bounds[i + 1])
            rows = np.nonzero(mask)[0]
            if rows.size == 0:
                continue
            rows_seen += rows.size
            if i == 0:
                pieces.append(F._const(np.zeros(rows.size), input))
            else:
                cluster = F.log_softmax(self.tail[i - 1](A.index_select(input, 0, _index(rows))), 1)
                local = A.gather(cluster, 1, _index((target[rows] - bounds[i])[:, None]))
                pieces.append(A.reshape(local, (-1,)))
                gather_inds[rows] = self.shortlist_size + i - 1
            order.append(rows)
        if rows_seen != target.shape[0]:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min()}, {target.max()}] were found. ")
        if order:
            where = np.argsort(np.concatenate(order), kind="stable")   # back to the batch order
            cluster_part = A.index_select(A.cat(pieces, 0), 0, _index(where))
        else:                   # an empty batch: an empty output, and a NaN loss (mean of none)
            cluster_part = F._const(np.zeros(0), input)
        head_logprob = F.log_softmax(self.head(input), 1)
        output = cluster_part + A.reshape(A.gather(head_logprob, 1, _index(gather_inds[:, None])), (-1,))
        loss = A.mean(-output)
        if not batched:
            output = A.squeeze(output, 0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logprob = F.log_softmax(head_output, 1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i, _ in enumerate(itertools.pairwise(self.cutoffs)):
            cluster_logprob = F.log_softmax(self.tail[i](input), 1)
            parts.append(cluster_logprob + A.unsqueeze(head_logprob[:, self.shortlist_size + i], 1))
        return A.cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of all ``n_classes`` classes, ``(N, n_classes)``."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class of each row (``log_prob(input).argmax(1)``, cheaper)."""
        head_output = self.head(input)
        best = np.asarray(head_output._data).argmax(1)
        outside = best >= self.shortlist_size
        if outside.any():
            rows = _index(np.nonzero(outside)[0])
            full = self._get_full_log_prob(A.index_select(input, 0, rows),
                                           A.index_select(head_output, 0, rows))
            best = best.copy()
            best[outside] = np.asarray(full._data).argmax(1)
        return _index(best)

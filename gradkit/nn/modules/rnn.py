"""Recurrent layers ``RNN``, ``LSTM`` and ``GRU`` (multi-layer, bidirectional, ``batch_first``).

Parameter names, shapes, gate order (LSTM: i, f, g, o; GRU: r, z, n) and the
initialization U(-1/sqrt(hidden), 1/sqrt(hidden)) follow PyTorch, so a PyTorch
state dict loads and gives the same outputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradkit._core import creation as Fa
from gradkit._core import dtype as _dtype
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from gradkit._core.tensor import Tensor

from ... import _api as A
from .. import functional as F
from .. import init
from .._rnn_utils import PackedSequence
from .linear import _empty
from .module import Module

__all__ = ["RNN", "LSTM", "GRU", "RNNBase", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size != 0:
            raise NotImplementedError("proj_size is not supported")
        self.mode, self.input_size, self.hidden_size, self.num_layers = (
            mode,
            input_size,
            hidden_size,
            num_layers,
        )
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for d in range(dirs):
                size_in = input_size if layer == 0 else hidden_size * dirs
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih", (gates, size_in)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, _empty(*shape, dtype=dtype))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs the weights into one block for cuDNN only (a no-op on
        CPU, as here); word_language_model calls it after loading."""

    # ------------------------------------------------------------------ forward
    def _cell(self, x: Tensor, state: Any, suffix: str) -> Any:
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        if self.mode == "LSTM":
            h, c = state
            gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
            i, f, g, o = A.chunk(gates, 4, 1)
            c = A.sigmoid(f) * c + A.sigmoid(i) * A.tanh(g)
            return A.sigmoid(o) * A.tanh(c), c
        if self.mode == "GRU":
            h = state
            gi, gh = F.linear(x, w_ih, b_ih), F.linear(h, w_hh, b_hh)
            i_r, i_z, i_n = A.chunk(gi, 3, 1)
            h_r, h_z, h_n = A.chunk(gh, 3, 1)
            r, z = A.sigmoid(i_r + h_r), A.sigmoid(i_z + h_z)
            n = A.tanh(i_n + r * h_n)
            return (1 - z) * n + z * h
        pre = F.linear(x, w_ih, b_ih) + F.linear(state, w_hh, b_hh)
        return A.tanh(pre) if self.mode == "RNN_TANH" else F.relu(pre)

    def _run_direction(
        self, xs: list[Tensor], state: Any, suffix: str, reverse: bool
    ) -> tuple[list[Tensor], Any]:
        outs: list[Tensor] = [None] * len(xs)  # type: ignore[list-item]
        order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
        for t in order:
            state = self._cell(xs[t], state, suffix)
            outs[t] = state[0] if self.mode == "LSTM" else state
        return outs, state

    def _run_packed(self, xs: list[Tensor], sizes: list[int], state: Any, suffix: str,
                    reverse: bool) -> tuple[list[Tensor], Any]:
        """One direction over packed steps: step ``t`` runs the first ``sizes[t]`` sequences.

        Forward, a sequence that has ended keeps its state (its last step's, which h_n reports);
        in reverse, a sequence joins at its own last step with its initial state.
        """
        is_lstm = self.mode == "LSTM"
        outs: list[Tensor] = [None] * len(xs)  # type: ignore[list-item]
        if reverse:
            init, running = state, 0
            cur: Any = None
            for t in range(len(xs) - 1, -1, -1):
                b = sizes[t]
                if b > running:
                    if is_lstm:
                        new = (init[0][running:b], init[1][running:b])
                        cur = new if cur is None else (A.cat([cur[0], new[0]], 0), A.cat([cur[1], new[1]], 0))
                    else:
                        new = init[running:b]
                        cur = new if cur is None else A.cat([cur, new], 0)
                    running = b
                cur = self._cell(xs[t], cur, suffix)
                outs[t] = cur[0] if is_lstm else cur
            return outs, cur
        for t, b in enumerate(sizes):
            full = state[0].shape[0] if is_lstm else state.shape[0]
            if is_lstm:
                h, c = self._cell(xs[t], (state[0][:b], state[1][:b]), suffix)
                state = (h, c) if b == full else (A.cat([h, state[0][b:]], 0), A.cat([c, state[1][b:]], 0))
                outs[t] = h
            else:
                h = self._cell(xs[t], state[:b], suffix)
                state = h if b == full else A.cat([h, state[b:]], 0)
                outs[t] = h
        return outs, state

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> Any:
        is_lstm = self.mode == "LSTM"
        data = packed.data
        sizes = [int(b) for b in np.asarray(packed.batch_sizes._data).reshape(-1)]
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]}")
        dirs = 2 if self.bidirectional else 1
        if hx is not None and packed.sorted_indices is not None:   # hx is in the caller's order
            idx = packed.sorted_indices
            hx = ((A.index_select(hx[0], 1, idx), A.index_select(hx[1], 1, idx)) if is_lstm
                  else A.index_select(hx, 1, idx))
        h0, c0 = self._initial_state(hx, True, sizes[0], dirs, data)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        layer_in = [data[starts[t]:starts[t + 1]] for t in range(len(sizes))]
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                state = (h0[k], c0[k]) if is_lstm else h0[k]
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                o, state = self._run_packed(layer_in, sizes, state, suffix, reverse=d == 1)
                outs.append(o)
                h_n.append(state[0] if is_lstm else state)
                if is_lstm:
                    c_n.append(state[1])
            layer_in = [A.cat([outs[0][t], outs[1][t]], 1) if dirs == 2 else outs[0][t]
                        for t in range(len(sizes))]
            if layer < self.num_layers - 1 and self.dropout and self.training:
                layer_in = [F.dropout(t, self.dropout, True) for t in layer_in]
        output = packed._with_data(A.cat(layer_in, 0))
        h = A.stack(h_n, 0)
        back = packed.unsorted_indices
        if back is not None:
            h = A.index_select(h, 1, back)
        if is_lstm:
            c = A.stack(c_n, 0)
            return output, (h, c if back is None else A.index_select(c, 1, back))
        return output, h

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        is_lstm = self.mode == "LSTM"
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead"
            )
        x = input if batched else A.unsqueeze(input, 1 if not self.batch_first else 0)
        if self.batch_first:
            x = A.transpose(x, 0, 1)
        seq, batch = x.shape[0], x.shape[1]
        dirs = 2 if self.bidirectional else 1
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        h0, c0 = self._initial_state(hx, batched, batch, dirs, x)
        layer_in = list(A.unbind(x, 0))
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                state = (h0[k], c0[k]) if is_lstm else h0[k]
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                o, state = self._run_direction(layer_in, state, suffix, reverse=d == 1)
                outs.append(o)
                if is_lstm:
                    h_n.append(state[0])
                    c_n.append(state[1])
                else:
                    h_n.append(state)
            if layer == self.num_layers - 1:
                break
            layer_in = [A.cat([outs[0][t], outs[1][t]], 1) if dirs == 2 else outs[0][t] for t in range(seq)]
            if self.dropout and self.training:
                layer_in = [F.dropout(t, self.dropout, True) for t in layer_in]
        # PyTorch's last nodes: the two directions' outputs joined by one cat; a unidirectional
        # float32 LSTM's output is its fused kernel's node (same values as a stack)
        if dirs == 2:
            output = A.cat([A.stack(outs[0], 0), A.stack(outs[1], 0)], 2)
        elif is_lstm and x.dtype is _dtype.float32 and not x.is_meta:   # meta: no fused kernel
            output = apply(S.stack_p.prim, tuple(outs[0]), {"dim": 0}, 1)
        else:
            output = A.stack(outs[0], 0)
        if self.batch_first:
            output = A.transpose(output, 0, 1)
        h = A.stack(h_n, 0)
        if not batched:
            output = A.squeeze(output, 1 if not self.batch_first else 0)
            h = A.squeeze(h, 1)
        if is_lstm:
            c = A.stack(c_n, 0)
            return output, (h, c if batched else A.squeeze(c, 1))
        return output, h

    def _initial_state(self, hx: Any, batched: bool, batch: int, dirs: int, x: Tensor) -> tuple[Any, Any]:
        n = self.num_layers * dirs
        if hx is None:
            zeros = Fa.zeros(n, batch, self.hidden_size, dtype=x.dtype, device=x.device)
            return A.unbind(zeros, 0), A.unbind(zeros, 0)
        if self.mode == "LSTM":
            h, c = hx
        else:
            h, c = hx, None
        if not batched:
            h = A.unsqueeze(h, 1)
            c = A.unsqueeze(c, 1) if c is not None else None
        expected = (n, batch, self.hidden_size)
        if tuple(h.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(h.shape)}")
        return A.unbind(h, 0), (A.unbind(c, 0) if c is not None else None)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
        )


class LSTM(RNNBase):
    """Long short-term memory; returns ``output, (h_n, c_n)``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            dtype=dtype,
        )


class GRU(RNNBase):
    """Gated recurrent unit; returns ``output, h_n``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype
        )


class RNNCellBase(Module):
    """One step of a recurrent layer; parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = _empty(num_chunks * hidden_size, input_size, dtype=dtype)
        self.weight_hh = _empty(num_chunks * hidden_size, hidden_size, dtype=dtype)
        if bias:
            self.bias_ih = _empty(num_chunks * hidden_size, dtype=dtype)
            self.bias_hh = _empty(num_chunks * hidden_size, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx: Any) -> tuple[Tensor, bool]:
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.dim() == 2
        return (input if batched else A.unsqueeze(input, 0)), batched

    def _hidden(self, h: Any, x: Tensor, batched: bool, name: str = "hx") -> Tensor:
        if h is None:
            return Fa.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        if h.dim() != (2 if batched else 1):
            raise RuntimeError(f"{type(self).__name__}: Expected hidden to be {2 if batched else 1}D when "
                               f"input is {2 if batched else 1}D, got {h.dim()}D instead")
        h = h if batched else A.unsqueeze(h, 0)
        if tuple(h.shape) != (x.shape[0], self.hidden_size):
            raise RuntimeError(f"{name} has inconsistent hidden_size or batch size: got {list(h.shape)}")
        return h

    def _gates(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return F.linear(x, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh)


class RNNCell(RNNCellBase):
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._prepare(input, hx)
        h = self._hidden(hx, x, batched)
        gi, gh = self._gates(x, h)
        if self.nonlinearity == "tanh":
            out = A.tanh(gi + gh)
        elif self.nonlinearity == "relu":
            out = F.relu(gi + gh)
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return out if batched else A.squeeze(out, 0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o); returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, dtype=dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        x, batched = self._prepare(input, hx)
        h, c = (None, None) if hx is None else hx
        h, c = self._hidden(h, x, batched, "hx[0]"), self._hidden(c, x, batched, "hx[1]")
        gi, gh = self._gates(x, h)
        i, f, g, o = A.chunk(gi + gh, 4, 1)
        c = A.sigmoid(f) * c + A.sigmoid(i) * A.tanh(g)
        h = A.sigmoid(o) * A.tanh(c)
        return (h, c) if batched else (A.squeeze(h, 0), A.squeeze(c, 0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._prepare(input, hx)
        h = self._hidden(hx, x, batched)
        gi, gh = self._gates(x, h)
        i_r, i_z, i_n = A.chunk(gi, 3, 1)
        h_r, h_z, h_n = A.chunk(gh, 3, 1)
        r, z = A.sigmoid(i_r + h_r), A.sigmoid(i_z + h_z)
        n = A.tanh(i_n + r * h_n)
        out = (1 - z) * n + z * h
        return out if batched else A.squeeze(out, 0)

"""``torch.stft`` and ``torch.istft`` through NumPy's FFT, with gradients.

Both are compositions of table rows: ``stft`` pads (reflect by default, with an index gather),
cuts overlapping frames (``unfold``), multiplies by the window and transforms each frame with
the FFT rows of ``ops/fft.py``; ``istft`` inverts each frame, multiplies by the window,
overlap-adds the frames (``index_add``) and divides by the summed squared window. So gradients
(of any order) come from the table, with PyTorch's shapes, defaults and checks.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._api import complex as _cx
from gradkit._api.base import _t
from gradkit._core.concrete import user_stacklevel
from gradkit._core import dtype as _dtype
from gradkit._api.special import index_add
from gradkit._core.tensor import Tensor, _make
from gradkit.ops.fft import fft_c2c, fft_c2r, fft_r2c
from gradkit._core.autocast import autocast_op

__all__ = ["stft", "istft"]

#: PyTorch's warnings when no window is given
_NO_WINDOW = {
    "stft": "A window was not provided. A rectangular window will be applied,which is known to "
            "cause spectral leakage. Other windows such as torch.hann_window or "
            "torch.hamming_window are recommended to reduce spectral leakage.To suppress this "
            "warning and use a rectangular window, explicitly set "
            "`window=torch.ones(n_fft, device=<device>)`.",
    "istft": "A window was not provided. A rectangular window will be applied.Please provide the "
             "same window used by stft to make the inversion lossless.To suppress this warning "
             "and use a rectangular window, explicitly set "
             "`window=torch.ones(n_fft, device=<device>)`.",
}


def _window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor, fn: str) -> Tensor:
    if window is None:
        warnings.warn(_NO_WINDOW[fn], UserWarning, stacklevel=user_stacklevel())
        w = _make(np.ones(win_length, dtype=np.dtype(like._data.dtype).type(0).real.dtype),
                  False, None)
    else:
        w = _t(window, "window")
        if w.ndim != 1 or w.shape[0] != win_length:
            raise RuntimeError(f"{fn}: expected a 1D window tensor of size equal to "
                               f"win_length={win_length}, but got window with size "
                               f"{list(w.shape)}")
    if win_length < n_fft:                  # centred in n_fft points, zeros on both sides
        left = (n_fft - win_length) // 2
        w = A.cat([_make(np.zeros(left, w._data.dtype), False, None), w,
                   _make(np.zeros(n_fft - win_length - left, w._data.dtype), False, None)])
    return w


def _lengths(n_fft: int, hop_length: Any, win_length: Any, fn: str) -> tuple[int, int]:
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    if hop <= 0:
        raise RuntimeError(f"{fn}: expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{fn}: expected 0 < win_length <= n_fft, but got win_length={win}")
    return hop, win


def _pad(x: Tensor, p: int, mode: str) -> Tensor:
    """``x`` padded by ``p`` on both ends of its last dim (PyTorch's ``pad_mode``)."""
    n = x.shape[-1]
    if mode == "constant":
        z = _make(np.zeros(tuple(x.shape[:-1]) + (p,), x._data.dtype), False, None)
        return A.cat([z, x, z], dim=-1)
    k = np.arange(-p, n + p)
    if mode == "reflect":
        if p >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({p}, {p}) at dimension "
                               f"{x.ndim - 1} of input {list(x.shape)}")
        idx = np.abs(k)
        idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)
    elif mode == "replicate":
        idx = np.clip(k, 0, n - 1)
    elif mode == "circular":
        idx = k % n
    else:
        raise RuntimeError(f"stft: unsupported pad_mode {mode!r}")
    return A.index_select(x, -1, _make(idx.astype(np.int64), False, None))


@autocast_op
def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect",
         normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """The short-time Fourier transform: ``(freq, frames)`` (``(batch, freq, frames)`` for a
    2-D input), complex; ``return_complex=False`` gives the real view (a last dim of 2)."""
    x = _t(input)
    if return_complex is None and not x.is_complex() and not (window is not None
                                                              and _t(window).is_complex()):
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, "
                           "and will further require that return_complex=True in a future "
                           "PyTorch release.")
    if x.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {x.ndim}D")
    if align_to_window:
        raise NotImplementedError("stft(align_to_window=True) is not supported by gradkit")
    n_fft = int(n_fft)
    hop, win = _lengths(n_fft, hop_length, win_length, "stft")
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(_dtype.get_default_dtype())
    batched = x.ndim == 2
    if not batched:
        x = A.unsqueeze(x, 0)
    if center:
        x = _pad(x, n_fft // 2, pad_mode)
    n = x.shape[-1]
    if not 0 < n_fft <= n:
        raise RuntimeError(f"stft: expected 0 < n_fft < {n}, but got n_fft={n_fft}")
    w = _window(window, win, n_fft, x, "stft")
    frames = A.mul(x.unfold(-1, n_fft, hop), w)            # (B, frames, n_fft)
    one = (not frames.is_complex()) if onesided is None else bool(onesided)
    if one and frames.is_complex():
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    if one:
        spec = fft_r2c(frames, s=None, axes=(2,), norm=norm, onesided=True)
    elif frames.is_complex():
        spec = fft_c2c(frames, s=None, axes=(2,), norm=norm, inverse=False)
    else:
        spec = fft_r2c(frames, s=None, axes=(2,), norm=norm, onesided=False)
    spec = A.transpose(spec, 1, 2)
    if not batched:
        spec = A.squeeze(spec, 0)
    if return_complex is False:
        return _cx.view_as_real(spec.contiguous())
    return spec


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False,
          onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of :func:`stft`: overlap-add of the inverse-transformed, windowed frames,
    divided by the overlap-added squared window (which must not vanish)."""
    spec = _t(input)
    if not spec.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from "
                           "stft with return_complex=True.")
    if spec.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex values, "
                           f"but got {spec.ndim}")
    n_fft = int(n_fft)
    hop, win = _lengths(n_fft, hop_length, win_length, "istft")
    batched = spec.ndim == 3
    if not batched:
        spec = A.unsqueeze(spec, 0)
    n_freq, n_frames = spec.shape[1], spec.shape[2]
    one = (n_freq != n_fft) if onesided is None else bool(onesided)
    if one and n_freq != n_fft // 2 + 1:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft / 2 + 1 when onesided=True, but got "
                           f"{n_freq}")
    if not one and n_freq != n_fft:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {n_freq}")
    if one and return_complex:
        raise RuntimeError("cannot have onesided output if window or input is complex")
    frames = A.transpose(spec, 1, 2)                         # (B, frames, freq)
    norm = "ortho" if normalized else "backward"
    if one:
        frames = fft_c2r(frames, s=(n_fft,), axes=(2,), norm=norm)
    else:
        frames = fft_c2c(frames, s=None, axes=(2,), norm=norm, inverse=True)
        if not return_complex:
            frames = _cx.real(frames)
    w = _window(window, win, n_fft, frames, "istft")
    frames = A.mul(frames, w)
    total = n_fft + hop * (n_frames - 1)
    idx = (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None, :]).reshape(-1)
    b = frames.shape[0]
    zeros = _make(np.zeros((b, total), frames._data.dtype), False, None)
    y = index_add(zeros, 1, _make(idx, False, None), A.reshape(frames, (b, -1)))
    w2 = np.asarray(w._data, dtype=np.float64) ** 2
    envelope = np.zeros(total)
    np.add.at(envelope, idx, np.tile(w2, n_frames))
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else min(start + int(length), total)
    if envelope[start:end].size and np.abs(envelope[start:end]).min() < 1e-11:
        raise RuntimeError("istft: window overlap add min: "
                           f"{np.abs(envelope[start:end]).min():.3g} (the window's overlapping "
                           "squares must not vanish: check window, hop_length and center)")
    y = A.div(A.narrow(y, 1, start, end - start),
              _make(envelope[start:end].astype(np.dtype(y._data.dtype).type(0).real.dtype),
                    False, None))
    if length is not None and end - start < int(length):
        warnings.warn("The length of signal is shorter than the length parameter. Result is being "
                      "padded with zeros in the tail. Please check your center and hop_length "
                      "settings.", UserWarning, stacklevel=user_stacklevel())
        pad = _make(np.zeros((b, int(length) - (end - start)), y._data.dtype), False, None)
        y = A.cat([y, pad], dim=1)
    return y if batched else A.squeeze(y, 0)

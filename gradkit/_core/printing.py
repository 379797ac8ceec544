"""PyTorch-compatible text formatting of tensors.

This module renders the repr of a tensor from a plain NumPy array, character
for character as PyTorch 2.x does: element widths, automatic scientific
notation, integer-valued floats (``2.``), summarization with ``...``, line
wrapping at ``linewidth`` and the placement of trailing items such as
``dtype=...`` and ``grad_fn=<...>``.

Print options are module-global, like ``torch.set_printoptions``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["format_tensor", "get_printoptions", "printoptions", "set_printoptions"]

_PREFIX = "tensor("

# Namespace written in ``dtype=`` items. Its length matters: it takes part in
# deciding whether trailing items still fit on the last line.
# NOTE: PyTorch's text, so ``import gradkit as torch`` code prints what PyTorch prints.
_DTYPE_NAMESPACE = "torch"

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_OPTIONS: dict[str, Any] = {**_PROFILES["default"], "sci_mode": None}

# For an empty tensor there are no elements to reveal the dtype, so PyTorch
# prints it unless it is the default floating dtype.
_ALWAYS_SHOWN_WHEN_EMPTY = frozenset({"int64", "bool", "complex64", "complex128"})


# --------------------------------------------------------------------------- #
# Print options
# --------------------------------------------------------------------------- #


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the options used to print tensors.

    Parameters
    ----------
    precision : int, optional
        Digits after the decimal point for floating point output (default 4).
    threshold : float, optional
        Number of elements above which the output is summarized (default 1000).
    edgeitems : int, optional
        Items shown at each end of every dimension when summarizing (default 3).
    linewidth : int, optional
        Characters per line used to wrap long rows (default 80).
    profile : {'default', 'short', 'full'}, optional
        Preset applied first; the other arguments override it.
    sci_mode : bool, optional
        Force (True) or forbid (False) scientific notation. As in PyTorch,
        leaving it out resets it to None, which chooses automatically.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}")
        _OPTIONS.update(_PROFILES[profile])
    given = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "linewidth": linewidth,
    }
    _OPTIONS.update({key: value for key, value in given.items() if value is not None})
    _OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options.

    Returns
    -------
    dict
        Keys ``precision``, ``threshold``, ``edgeitems``, ``linewidth`` and
        ``sci_mode``; it can be passed back to :func:`set_printoptions`.
    """
    return dict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options inside a ``with`` block.

    Parameters
    ----------
    **kwargs
        Same arguments as :func:`set_printoptions`.
    """
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# --------------------------------------------------------------------------- #
# Element formatting
# --------------------------------------------------------------------------- #


class _Formatter:
    """Format single elements with one common width.

    Parameters
    ----------
    values : numpy.ndarray
        The (possibly summarized) elements that will be printed; their kind
        and magnitudes decide the width and notation.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.precision: int = _OPTIONS["precision"]
        self.floating = np.issubdtype(values.dtype, np.floating)
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.ravel().tolist()])
            return
        flat = values.ravel().astype(np.float64)
        nonzero = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero.size == 0:
            return
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        self.sci_mode = self._choose_sci_mode(np.abs(nonzero))
        texts = [self._plain(v) for v in nonzero.tolist()]
        extra = 1 if self.int_mode and not self.sci_mode else 0  # the trailing '.'
        self.width = max(len(text) for text in texts) + extra

    @staticmethod
    def _choose_sci_mode(magnitudes: np.ndarray) -> bool:
        """Return whether the finite nonzero ``magnitudes`` need 1.0e+05 style."""
        if _OPTIONS["sci_mode"] is not None:
            return bool(_OPTIONS["sci_mode"])
        low, high = float(magnitudes.min()), float(magnitudes.max())
        return high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4

    def _plain(self, value: float) -> str:
        """Format a float in the chosen notation, without padding or '.'."""
        if self.sci_mode:
            return f"{value:.{self.precision}e}"
        if self.int_mode:
            return f"{value:.0f}"
        return f"{value:.{self.precision}f}"

    def format(self, value: Any) -> str:
        """Return ``value`` (a Python scalar) right-aligned to the common width."""
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{self.precision}e}"
        else:
            text = self._plain(value)
            if self.int_mode and math.isfinite(value):
                text += "."
        return text.rjust(self.width)


class _ComplexFormatter:
    """Format complex elements as PyTorch does: real and imaginary parts each get their own
    :class:`_Formatter`, joined as ``re+imj`` (the sign of the imaginary part kept).

    Parameters
    ----------
    real, imag : numpy.ndarray
        The real and imaginary parts of the elements that will be printed.
    """

    def __init__(self, real: np.ndarray, imag: np.ndarray) -> None:
        self.real = _Formatter(real)
        self.imag = _Formatter(imag)
        # NOTE: PyTorch's per-line count uses both widths plus the 'j'.
        self.width = self.real.width + self.imag.width + 1

    def format(self, value: Any) -> str:
        """Return ``value`` (a Python complex) as ``real+imagj``."""
        value = complex(value)
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        if imag[0] in "+-":
            return real + imag
        return real + "+" + imag


def _summarized_values(data: np.ndarray, edgeitems: int) -> np.ndarray:
    """Return, flattened, the elements that a summarized print will show.

    Mirrors PyTorch, including its quirk that a 1-D tensor with
    ``edgeitems == 0`` keeps all of its elements (``x[-0:]`` is everything).
    """
    if data.ndim == 0:
        return data.reshape(1)
    if data.ndim == 1:
        if len(data) > 2 * edgeitems:
            tail = data[-edgeitems:]  # with edgeitems == 0 this is all of data
            return np.concatenate([data[:edgeitems], tail])
        return data
    if edgeitems == 0:
        return data[:0].reshape(0)
    rows = list(data)
    if len(rows) > 2 * edgeitems:
        rows = rows[:edgeitems] + rows[-edgeitems:]
    return np.concatenate([_summarized_values(row, edgeitems) for row in rows])


# --------------------------------------------------------------------------- #
# Layout
# --------------------------------------------------------------------------- #


def _vector_str(data: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """Format a 1-D array, wrapping rows that would exceed the line width."""
    edgeitems = _OPTIONS["edgeitems"]
    per_line = max(1, math.floor((_OPTIONS["linewidth"] - indent) / (fmt.width + 2)))
    if summarize and not edgeitems:
        items = ["..."]
    elif summarize and len(data) > 2 * edgeitems:
        head = [fmt.format(v) for v in data[:edgeitems].tolist()]
        tail = [fmt.format(v) for v in data[-edgeitems:].tolist()]
        items = head + [" ..."] + tail
    else:
        items = [fmt.format(v) for v in data.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(data: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """Format an array of any rank; ``indent`` is the column of its '['."""
    if data.ndim == 0:
        return fmt.format(data.item())
    if data.ndim == 1:
        return _vector_str(data, indent, summarize, fmt)
    edgeitems = _OPTIONS["edgeitems"]
    if summarize and len(data) > 2 * edgeitems:
        head = [_array_str(row, indent + 1, summarize, fmt) for row in data[:edgeitems]]
        tail = [
            _array_str(data[i], indent + 1, summarize, fmt)
            for i in range(len(data) - edgeitems, len(data))
        ]
        blocks = head + ["..."] + tail
    else:
        blocks = [_array_str(row, indent + 1, summarize, fmt) for row in data]
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _body_str(data: np.ndarray, indent: int) -> str:
    """Format the contents of a non-empty array (everything inside 'tensor(')."""
    summarize = data.size > _OPTIONS["threshold"]
    shown = _summarized_values(data, _OPTIONS["edgeitems"]) if summarize else data
    fmt: Any
    if np.iscomplexobj(data):
        fmt = _ComplexFormatter(shown.real, shown.imag)
    else:
        fmt = _Formatter(shown)
    return _array_str(data, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    """Append ``suffixes`` and the closing ')' to ``text``.

    An item stays on the current line when it fits within the line width and
    otherwise starts a new line aligned under the first element. PyTorch
    counts two characters too many for the current line; that is reproduced.
    """
    linewidth = _OPTIONS["linewidth"]
    parts = [text]
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _default_complex_name() -> str:
    """Name of PyTorch's default complex dtype: complex128 under a float64 default."""
    from gradkit._core import dtype as _dtype

    return "complex128" if _dtype.get_default_dtype() is _dtype.float64 else "complex64"


def format_tensor(
    data: np.ndarray,
    suffixes: Sequence[str] = (),
    *,
    dtype_is_default: bool = True,
    dtype_name: str = "float32",
    device: str | None = None,
    prefix: str = _PREFIX,
) -> str:
    """Return PyTorch's repr of a tensor holding ``data``.

    Parameters
    ----------
    data : numpy.ndarray
        The values to print (floating, complex, integer or bool).
    suffixes : sequence of str, optional
        Already-formatted trailing items such as ``'grad_fn=<AddBackward0>'``
        or ``'requires_grad=True'``, placed after any size and dtype items.
    dtype_is_default : bool, optional
        Whether the dtype is implied (PyTorch omits float32, int64 and bool).
        When False, ``dtype=torch.<dtype_name>`` is added. The complex dtype
        matching the default floating dtype (complex64 for float32) also counts
        as default, as in PyTorch.
    dtype_name : str, optional
        Name of the dtype, used in the ``dtype=`` item.
    prefix : str, optional
        What opens the repr: ``tensor(``, or a Tensor subclass's ``MyTensor(``.

    Returns
    -------
    str
        For example ``'tensor([0.0000, 0.5000])'`` or
        ``'tensor([1., 2.], dtype=gradkit.float64, requires_grad=True)'``.

    Notes
    -----
    Empty tensors show the dtype unless it is the default floating dtype,
    as PyTorch does, so an empty int64 tensor prints ``dtype=torch.int64``.
    """
    data = np.asarray(data)
    if data.dtype.kind == "V":          # bfloat16 (ml_dtypes): every value is exact in float32
        data = data.astype(np.float32)
    if not dtype_is_default and dtype_name == _default_complex_name():
        dtype_is_default = True
    indent = len(prefix)
    items = []
    if device is not None:
        # NOTE: PyTorch shows the device before the dtype
        suffixes = [f"device='{device}'", *([] if dtype_is_default else
                                            [f"dtype={_DTYPE_NAMESPACE}.{dtype_name}"]), *suffixes]
        dtype_is_default = True
    dtype_item = f"dtype={_DTYPE_NAMESPACE}.{dtype_name}"
    if data.size == 0:
        if data.ndim != 1:
            items.append(f"size={tuple(data.shape)}")
        if not dtype_is_default or dtype_name in _ALWAYS_SHOWN_WHEN_EMPTY:
            items.append(dtype_item)
        body = "[]"
    else:
        if not _OPTIONS["edgeitems"]:
            items.append(f"size={tuple(data.shape)}")
        if not dtype_is_default:
            items.append(dtype_item)
        body = _body_str(data, indent)
    return _add_suffixes(prefix + body, [*items, *suffixes], indent)


def format_meta(shape: Sequence[int], suffixes: Sequence[str] = (), *,
                dtype_is_default: bool = True, dtype_name: str = "float32") -> str:
    """PyTorch's repr of a meta tensor (no values to show):
    ``tensor(..., device='meta', size=(3, 4), dtype=torch.int64)``. Only the default
    floating dtype goes unnamed (int64 and bool are named, unlike a tensor with values)."""
    items = ["device='meta'", f"size={tuple(shape)}"]
    if not dtype_is_default:
        items.append(f"dtype={_DTYPE_NAMESPACE}.{dtype_name}")
    return _add_suffixes(_PREFIX + "...", [*items, *suffixes], len(_PREFIX))

"""Tests for gradkit._core.printing: PyTorch-compatible tensor reprs.

The expected strings in ``CASES`` were recorded from ``repr()`` of tensors in
PyTorch 2.13.0 (with ``torch.`` replaced by ``gradkit.``). The randomized test
compares against a live PyTorch when it is installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

try:
    import gradkit._core.printing as printing
except Exception:  # noqa: BLE001  (the package may be mid-rewrite)
    _PATH = Path(__file__).resolve().parents[2] / "gradkit" / "_core" / "printing.py"
    _SPEC = importlib.util.spec_from_file_location("_gradkit_printing", _PATH)
    printing = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(printing)

format_tensor = printing.format_tensor

# dtypes whose name PyTorch leaves out of the repr of a non-empty tensor
IMPLIED_DTYPES = {"float32", "int64", "bool"}


def call_format(arr: np.ndarray, suffixes: list[str]) -> str:
    """Format ``arr`` the way a gradkit tensor of the same dtype would be."""
    name = str(arr.dtype)
    return format_tensor(
        arr, suffixes, dtype_is_default=name in IMPLIED_DTYPES, dtype_name=name
    )


@pytest.fixture(autouse=True)
def _default_options():
    printing.set_printoptions(profile="default")
    yield
    printing.set_printoptions(profile="default")


# --------------------------------------------------------------------------- #
# Expected strings recorded from PyTorch 2.13.0
# --------------------------------------------------------------------------- #

# array, suffixes, print options, expected repr
CASES = [
    pytest.param(
        np.array(16.0, dtype=np.float32),
        [],
        {},
        "tensor(16.)",
        id="scalar-int-valued-float",
    ),
    pytest.param(
        np.array(3),
        [],
        {},
        "tensor(3)",
        id="scalar-int",
    ),
    pytest.param(
        np.array(True),
        [],
        {},
        "tensor(True)",
        id="scalar-bool",
    ),
    pytest.param(
        np.array(0.5, dtype=np.float32),
        [],
        {},
        "tensor(0.5000)",
        id="scalar-fraction",
    ),
    pytest.param(
        np.array(-0.0, dtype=np.float32),
        [],
        {},
        "tensor(-0.)",
        id="scalar-negative-zero",
    ),
    pytest.param(
        np.array(np.nan, dtype=np.float32),
        [],
        {},
        "tensor(nan)",
        id="scalar-nan",
    ),
    pytest.param(
        np.array(1e-5, dtype=np.float32),
        [],
        {},
        "tensor(1.0000e-05)",
        id="scalar-tiny",
    ),
    pytest.param(
        np.array(39.0, dtype=np.float32),
        ["grad_fn=<AddBackward0>"],
        {},
        "tensor(39., grad_fn=<AddBackward0>)",
        id="scalar-grad-fn",
    ),
    pytest.param(
        np.array(2.5),
        ["requires_grad=True"],
        {},
        "tensor(2.5000, dtype=torch.float64, requires_grad=True)",
        id="scalar-float64",
    ),
    pytest.param(
        np.array([0.0, 0.5], dtype=np.float32),
        [],
        {},
        "tensor([0.0000, 0.5000])",
        id="half-and-zero",
    ),
    pytest.param(
        np.array([2.0, 2.0, 2.0], dtype=np.float32),
        [],
        {},
        "tensor([2., 2., 2.])",
        id="int-valued-floats",
    ),
    pytest.param(
        np.array([1.5, 2.0], dtype=np.float32),
        [],
        {},
        "tensor([1.5000, 2.0000])",
        id="mixed",
    ),
    pytest.param(
        np.array([-1.5, 2.25, 10.0], dtype=np.float32),
        [],
        {},
        "tensor([-1.5000,  2.2500, 10.0000])",
        id="negatives",
    ),
    pytest.param(
        np.array([-1.0, 20.0, -300.0], dtype=np.float32),
        [],
        {},
        "tensor([  -1.,   20., -300.])",
        id="negative-int-valued",
    ),
    pytest.param(
        np.array([-0.0, 0.5], dtype=np.float32),
        [],
        {},
        "tensor([-0.0000, 0.5000])",
        id="negative-zero",
    ),
    pytest.param(
        np.array([1e-5, 1e5], dtype=np.float32),
        [],
        {},
        "tensor([1.0000e-05, 1.0000e+05])",
        id="sci-ratio",
    ),
    pytest.param(
        np.array([1.0, 2e8], dtype=np.float32),
        [],
        {},
        "tensor([1.0000e+00, 2.0000e+08])",
        id="sci-big",
    ),
    pytest.param(
        np.array([5e-5, 2e-4], dtype=np.float32),
        [],
        {},
        "tensor([5.0000e-05, 2.0000e-04])",
        id="sci-small",
    ),
    pytest.param(
        np.array([1.0, 2000.0], dtype=np.float32),
        [],
        {},
        "tensor([1.0000e+00, 2.0000e+03])",
        id="sci-int-valued",
    ),
    pytest.param(
        np.array([0.5, 500.0], dtype=np.float32),
        [],
        {},
        "tensor([  0.5000, 500.0000])",
        id="no-sci-at-1000",
    ),
    pytest.param(
        np.array([np.inf, np.nan, 1.0], dtype=np.float32),
        [],
        {},
        "tensor([inf, nan, 1.])",
        id="inf-nan",
    ),
    pytest.param(
        np.array([-np.inf, 0.25], dtype=np.float32),
        [],
        {},
        "tensor([  -inf, 0.2500])",
        id="neg-inf",
    ),
    pytest.param(
        np.array([np.nan, -np.inf, 0.0], dtype=np.float32),
        [],
        {},
        "tensor([nan, -inf, 0.])",
        id="only-nonfinite",
    ),
    pytest.param(
        np.array([1, 100]),
        [],
        {},
        "tensor([  1, 100])",
        id="ints",
    ),
    pytest.param(
        np.array([-5, 10, 300]),
        [],
        {},
        "tensor([ -5,  10, 300])",
        id="negative-ints",
    ),
    pytest.param(
        np.array([7, -8], dtype=np.int32),
        [],
        {},
        "tensor([ 7, -8], dtype=torch.int32)",
        id="int32",
    ),
    pytest.param(
        np.array([0, 255], dtype=np.uint8),
        [],
        {},
        "tensor([  0, 255], dtype=torch.uint8)",
        id="uint8",
    ),
    pytest.param(
        np.array([True, False]),
        [],
        {},
        "tensor([ True, False])",
        id="bools",
    ),
    pytest.param(
        np.array([1.0, 2.0]),
        ["requires_grad=True"],
        {},
        "tensor([1., 2.], dtype=torch.float64, requires_grad=True)",
        id="float64-requires-grad",
    ),
    pytest.param(
        np.array([0.1, 0.2], dtype=np.float16),
        [],
        {},
        "tensor([0.1000, 0.2000], dtype=torch.float16)",
        id="float16",
    ),
    pytest.param(
        np.arange(6, dtype=np.float32).reshape(2, 3),
        [],
        {},
        ("tensor([[0., 1., 2.],\n        [3., 4., 5.]])"),
        id="matrix",
    ),
    pytest.param(
        np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        ["grad_fn=<MulBackward0>"],
        {},
        (
            "tensor([[0.0000, 0.2500, 0.5000],\n"
            "        [0.7500, 1.0000, 1.2500]], grad_fn=<MulBackward0>)"
        ),
        id="matrix-grad-fn",
    ),
    pytest.param(
        (np.arange(24, dtype=np.float32) / 7).reshape(2, 3, 4),
        ["grad_fn=<MulBackward0>"],
        {},
        (
            "tensor([[[0.0000, 0.1429, 0.2857, 0.4286],\n"
            "         [0.5714, 0.7143, 0.8571, 1.0000],\n"
            "         [1.1429, 1.2857, 1.4286, 1.5714]],\n"
            "\n"
            "        [[1.7143, 1.8571, 2.0000, 2.1429],\n"
            "         [2.2857, 2.4286, 2.5714, 2.7143],\n"
            "         [2.8571, 3.0000, 3.1429, 3.2857]]], grad_fn=<MulBackward0>)"
        ),
        id="3d-blocks",
    ),
    pytest.param(
        np.arange(16).reshape(2, 2, 2, 2),
        [],
        {},
        (
            "tensor([[[[ 0,  1],\n"
            "          [ 2,  3]],\n"
            "\n"
            "         [[ 4,  5],\n"
            "          [ 6,  7]]],\n"
            "\n"
            "\n"
            "        [[[ 8,  9],\n"
            "          [10, 11]],\n"
            "\n"
            "         [[12, 13],\n"
            "          [14, 15]]]])"
        ),
        id="4d-ints",
    ),
    pytest.param(
        np.arange(30, dtype=np.float32) * 1.5,
        [],
        {},
        (
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
            "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
            "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])"
        ),
        id="long-row-wraps",
    ),
    pytest.param(
        np.arange(30, dtype=np.float32) * 1.5,
        ["requires_grad=True"],
        {},
        (
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
            "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
            "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000],\n"
            "       requires_grad=True)"
        ),
        id="long-row-suffix-new-line",
    ),
    pytest.param(
        np.arange(40) * 1001,
        [],
        {},
        (
            "tensor([    0,  1001,  2002,  3003,  4004,  5005,  6006,  7007,  8008,  9009,\n"
            "        10010, 11011, 12012, 13013, 14014, 15015, 16016, 17017, 18018, 19019,\n"
            "        20020, 21021, 22022, 23023, 24024, 25025, 26026, 27027, 28028, 29029,\n"
            "        30030, 31031, 32032, 33033, 34034, 35035, 36036, 37037, 38038, 39039])"
        ),
        id="long-ints-wrap",
    ),
    pytest.param(
        np.arange(24, dtype=np.float32).reshape(2, 12) / 3,
        [],
        {},
        (
            "tensor([[0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
            "         3.0000, 3.3333, 3.6667],\n"
            "        [4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667, 6.0000, 6.3333, 6.6667,\n"
            "         7.0000, 7.3333, 7.6667]])"
        ),
        id="wide-matrix",
    ),
    pytest.param(
        np.arange(2000),
        [],
        {},
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
        id="summarized-1d",
    ),
    pytest.param(
        np.arange(2000, dtype=np.float32).reshape(40, 50) / 3,
        [],
        {},
        (
            "tensor([[0.0000e+00, 3.3333e-01, 6.6667e-01,  ..., 1.5667e+01, 1.6000e+01,\n"
            "         1.6333e+01],\n"
            "        [1.6667e+01, 1.7000e+01, 1.7333e+01,  ..., 3.2333e+01, 3.2667e+01,\n"
            "         3.3000e+01],\n"
            "        [3.3333e+01, 3.3667e+01, 3.4000e+01,  ..., 4.9000e+01, 4.9333e+01,\n"
            "         4.9667e+01],\n"
            "        ...,\n"
            "        [6.1667e+02, 6.1700e+02, 6.1733e+02,  ..., 6.3233e+02, 6.3267e+02,\n"
            "         6.3300e+02],\n"
            "        [6.3333e+02, 6.3367e+02, 6.3400e+02,  ..., 6.4900e+02, 6.4933e+02,\n"
            "         6.4967e+02],\n"
            "        [6.5000e+02, 6.5033e+02, 6.5067e+02,  ..., 6.6567e+02, 6.6600e+02,\n"
            "         6.6633e+02]])"
        ),
        id="summarized-2d",
    ),
    pytest.param(
        np.arange(280).reshape(7, 5, 8),
        [],
        {"threshold": 100, "edgeitems": 2},
        (
            "tensor([[[  0,   1,  ...,   6,   7],\n"
            "         [  8,   9,  ...,  14,  15],\n"
            "         ...,\n"
            "         [ 24,  25,  ...,  30,  31],\n"
            "         [ 32,  33,  ...,  38,  39]],\n"
            "\n"
            "        [[ 40,  41,  ...,  46,  47],\n"
            "         [ 48,  49,  ...,  54,  55],\n"
            "         ...,\n"
            "         [ 64,  65,  ...,  70,  71],\n"
            "         [ 72,  73,  ...,  78,  79]],\n"
            "\n"
            "        ...,\n"
            "\n"
            "        [[200, 201,  ..., 206, 207],\n"
            "         [208, 209,  ..., 214, 215],\n"
            "         ...,\n"
            "         [224, 225,  ..., 230, 231],\n"
            "         [232, 233,  ..., 238, 239]],\n"
            "\n"
            "        [[240, 241,  ..., 246, 247],\n"
            "         [248, 249,  ..., 254, 255],\n"
            "         ...,\n"
            "         [264, 265,  ..., 270, 271],\n"
            "         [272, 273,  ..., 278, 279]]])"
        ),
        id="summarized-3d",
    ),
    pytest.param(
        np.linspace(-1, 1, 1001),
        ["grad_fn=<MulBackward0>"],
        {},
        (
            "tensor([-1.0000, -0.9980, -0.9960,  ...,  0.9960,  0.9980,  1.0000],\n"
            "       dtype=torch.float64, grad_fn=<MulBackward0>)"
        ),
        id="summarized-float64-grad",
    ),
    pytest.param(
        np.zeros(0, dtype=np.float32),
        [],
        {},
        "tensor([])",
        id="empty",
    ),
    pytest.param(
        np.zeros((0, 3), dtype=np.float32),
        [],
        {},
        "tensor([], size=(0, 3))",
        id="empty-2d",
    ),
    pytest.param(
        np.zeros(0, dtype=np.int64),
        [],
        {},
        "tensor([], dtype=torch.int64)",
        id="empty-int64",
    ),
    pytest.param(
        np.zeros((2, 0)),
        ["requires_grad=True"],
        {},
        "tensor([], size=(2, 0), dtype=torch.float64, requires_grad=True)",
        id="empty-2d-float64",
    ),
    pytest.param(
        np.zeros((0,), dtype=np.bool_),
        [],
        {},
        "tensor([], dtype=torch.bool)",
        id="empty-bool",
    ),
    pytest.param(
        np.array([1.12345], dtype=np.float32),
        [],
        {"precision": 2},
        "tensor([1.12])",
        id="precision-2",
    ),
    pytest.param(
        np.arange(10),
        [],
        {"threshold": 5},
        "tensor([0, 1, 2,  ..., 7, 8, 9])",
        id="threshold-5",
    ),
    pytest.param(
        np.arange(100, dtype=np.float32).reshape(10, 10),
        [],
        {"edgeitems": 1},
        (
            "tensor([[ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9.],\n"
            "        [10., 11., 12., 13., 14., 15., 16., 17., 18., 19.],\n"
            "        [20., 21., 22., 23., 24., 25., 26., 27., 28., 29.],\n"
            "        [30., 31., 32., 33., 34., 35., 36., 37., 38., 39.],\n"
            "        [40., 41., 42., 43., 44., 45., 46., 47., 48., 49.],\n"
            "        [50., 51., 52., 53., 54., 55., 56., 57., 58., 59.],\n"
            "        [60., 61., 62., 63., 64., 65., 66., 67., 68., 69.],\n"
            "        [70., 71., 72., 73., 74., 75., 76., 77., 78., 79.],\n"
            "        [80., 81., 82., 83., 84., 85., 86., 87., 88., 89.],\n"
            "        [90., 91., 92., 93., 94., 95., 96., 97., 98., 99.]])"
        ),
        id="edgeitems-1",
    ),
    pytest.param(
        np.arange(100, dtype=np.float32).reshape(10, 10),
        ["requires_grad=True"],
        {"edgeitems": 0},
        (
            "tensor([[ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9.],\n"
            "        [10., 11., 12., 13., 14., 15., 16., 17., 18., 19.],\n"
            "        [20., 21., 22., 23., 24., 25., 26., 27., 28., 29.],\n"
            "        [30., 31., 32., 33., 34., 35., 36., 37., 38., 39.],\n"
            "        [40., 41., 42., 43., 44., 45., 46., 47., 48., 49.],\n"
            "        [50., 51., 52., 53., 54., 55., 56., 57., 58., 59.],\n"
            "        [60., 61., 62., 63., 64., 65., 66., 67., 68., 69.],\n"
            "        [70., 71., 72., 73., 74., 75., 76., 77., 78., 79.],\n"
            "        [80., 81., 82., 83., 84., 85., 86., 87., 88., 89.],\n"
            "        [90., 91., 92., 93., 94., 95., 96., 97., 98., 99.]], size=(10, 10),\n"
            "       requires_grad=True)"
        ),
        id="edgeitems-0",
    ),
    pytest.param(
        np.arange(12, dtype=np.float32) / 2,
        [],
        {"linewidth": 30},
        (
            "tensor([0.0000, 0.5000,\n"
            "        1.0000, 1.5000,\n"
            "        2.0000, 2.5000,\n"
            "        3.0000, 3.5000,\n"
            "        4.0000, 4.5000,\n"
            "        5.0000, 5.5000])"
        ),
        id="linewidth-30",
    ),
    pytest.param(
        np.array([1.0, 2.5], dtype=np.float32),
        [],
        {"sci_mode": True},
        "tensor([1.0000e+00, 2.5000e+00])",
        id="sci-mode-forced",
    ),
    pytest.param(
        np.array([1e-6, 1e6], dtype=np.float32),
        [],
        {"sci_mode": False},
        "tensor([      0.0000, 1000000.0000])",
        id="sci-mode-off",
    ),
    pytest.param(
        np.arange(2000, dtype=np.float32) / 3,
        [],
        {"profile": "short"},
        "tensor([0.00e+00, 3.33e-01,  ..., 6.66e+02, 6.66e+02])",
        id="profile-short",
    ),
]


@pytest.mark.parametrize(("arr", "suffixes", "options", "expected"), CASES)
def test_matches_recorded_torch_repr(arr, suffixes, options, expected):
    with printing.printoptions(**options):
        assert call_format(arr, suffixes) == expected


def test_profile_full_disables_summarization():
    with printing.printoptions(threshold=5), printing.printoptions(profile="full"):
        text = format_tensor(np.arange(12))
    assert text == "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11])"


def test_dtype_item_precedes_suffixes():
    text = format_tensor(
        np.array([1.0, 2.0]),
        ["requires_grad=True"],
        dtype_is_default=False,
        dtype_name="float64",
    )
    assert text == "tensor([1., 2.], dtype=torch.float64, requires_grad=True)"


def test_accepts_array_like():
    assert format_tensor([[1, 2], [3, 4]]) == "tensor([[1, 2],\n        [3, 4]])"


def test_complex_is_formatted():
    # NOTE: compared with live PyTorch in test_oracle_complex.py; complex64 is the default
    assert format_tensor(np.array([1 + 2j, 3.5 - 1j], np.complex64), dtype_is_default=False,
                         dtype_name="complex64") == "tensor([1.0000+2.j, 3.5000-1.j])"


# --------------------------------------------------------------------------- #
# Print options
# --------------------------------------------------------------------------- #


def test_default_printoptions():
    assert printing.get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


def test_profiles():
    printing.set_printoptions(profile="short")
    assert printing.get_printoptions()["precision"] == 2
    assert printing.get_printoptions()["edgeitems"] == 2
    printing.set_printoptions(profile="full", precision=6)
    assert printing.get_printoptions()["threshold"] == float("inf")
    assert printing.get_printoptions()["precision"] == 6
    with pytest.raises(ValueError):
        printing.set_printoptions(profile="tiny")


def test_sci_mode_resets_when_not_given():
    # as in PyTorch, every call sets sci_mode, to None when it is left out
    printing.set_printoptions(sci_mode=True)
    assert printing.get_printoptions()["sci_mode"] is True
    printing.set_printoptions(precision=3)
    assert printing.get_printoptions()["sci_mode"] is None


def test_printoptions_context_restores_on_error():
    before = printing.get_printoptions()
    with pytest.raises(RuntimeError), printing.printoptions(precision=1, sci_mode=True):
        assert format_tensor(np.array([0.25], dtype=np.float32)) == "tensor([2.5e-01])"
        raise RuntimeError
    assert printing.get_printoptions() == before


# --------------------------------------------------------------------------- #
# Randomized comparison with PyTorch
# --------------------------------------------------------------------------- #

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"]


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    """A shape of rank 0-4, sometimes empty, sometimes over 1000 elements."""
    ndim = int(rng.integers(0, 5))
    if rng.random() < 0.1:
        highs = [1500, 40, 12, 8][:ndim]  # usually summarized
    else:
        highs = [40, 12, 7, 5][:ndim]
    low = 0 if rng.random() < 0.1 else 1
    return tuple(int(rng.integers(low, high)) for high in highs)


def random_floats(rng: np.random.Generator, n: int, dtype: str) -> np.ndarray:
    """Floats of one magnitude, maybe integer-valued, with zeros and non-finites."""
    scale = (
        10.0 ** rng.uniform(-12, 12)
        if rng.random() < 0.4
        else 10.0 ** rng.integers(-3, 6)
    )
    values = rng.standard_normal(n) * scale
    kind = rng.integers(0, 3)
    if kind == 1:
        values = np.round(values)
    elif kind == 2:
        values = np.round(values * 4) / 4
    special = rng.choice([0.0, -0.0, np.nan, np.inf, -np.inf], n)
    mask = rng.random(n) < rng.choice([0.0, 0.2, 0.9])
    values[mask] = special[mask]
    with np.errstate(all="ignore"):  # float16 overflows to inf, like torch
        return values.astype(dtype)


def random_array(rng: np.random.Generator) -> np.ndarray:
    shape = random_shape(rng)
    dtype = str(rng.choice(DTYPES))
    n = int(np.prod(shape))
    if dtype == "bool":
        values = rng.random(n) < 0.5
    elif dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        high = min(int(info.max), 10 ** int(rng.integers(0, 12)))
        low = max(int(info.min), -high) if rng.random() < 0.7 else 0
        values = rng.integers(low, high, n, endpoint=True, dtype=dtype)
    else:
        values = random_floats(rng, n, dtype)
    return values.reshape(shape)


def random_options(rng: np.random.Generator) -> dict:
    if rng.random() < 0.6:
        return {}
    return {
        "precision": int(rng.integers(0, 7)),
        "threshold": int(rng.integers(0, 200)),
        "edgeitems": int(rng.integers(0, 4)),
        "linewidth": int(rng.integers(20, 130)),
        "sci_mode": [None, True, False][int(rng.integers(0, 3))],
    }


def torch_tensor_and_suffixes(torch, arr: np.ndarray, rng: np.random.Generator):
    """A torch tensor for ``arr``, maybe with autograd info, and its suffixes."""
    tensor = torch.from_numpy(arr)
    if arr.dtype.kind != "f" or rng.random() < 0.5:
        return tensor, []
    tensor = tensor.requires_grad_()
    if rng.random() < 0.5:
        return tensor, ["requires_grad=True"]
    return tensor.clone(), ["grad_fn=<CloneBackward0>"]


@pytest.mark.parametrize("seed", range(6))
def test_random_arrays_match_torch(seed, monkeypatch):
    torch = pytest.importorskip("torch")
    # 'gradkit.' is two characters longer than 'torch.', which can move a
    # trailing item onto the next line; print the torch namespace to compare.
    monkeypatch.setattr(printing, "_DTYPE_NAMESPACE", "torch")
    rng = np.random.default_rng(seed)
    for _ in range(50):
        arr = random_array(rng)
        options = random_options(rng)
        tensor, suffixes = torch_tensor_and_suffixes(torch, arr, rng)
        with (
            torch._tensor_str.printoptions(**options),
            printing.printoptions(**options),
        ):
            expected = repr(tensor)
            actual = call_format(arr, suffixes)
        assert actual == expected, (arr.dtype, arr.shape, options)

"""The hand-written name lists agree with what the table implies (issue #15).

The root ``__all__`` and the Tensor method lists in ``gradkit/_api/methods.py`` are written by
hand (generating them would change ``from gradkit import *``); these tests hold them to the
table and to PyTorch's own variants: a row with a ``torch.<name>`` function has a
``Tensor.<name>`` method and a ``Tensor.<name>_`` in-place method exactly when PyTorch has
them, apart from the differences listed here.
"""

from __future__ import annotations

import pytest

import gradkit as gk
from gradkit._api import blas, construction, differences, distances, histograms, mutating, views
from gradkit.ops import REGISTRY

#: methods gradkit has and PyTorch does not (kept: public names stay)
EXTRA_METHODS = {"rsub", "std_mean"}
#: in-place variants gradkit has and PyTorch does not
EXTRA_INPLACE = {"maximum", "minimum", "logaddexp"}
#: in-place variants PyTorch has and gradkit does not yet
MISSING_INPLACE = {"as_strided"}


def _row_functions() -> list[str]:
    return sorted(n for n in REGISTRY if callable(getattr(gk, n, None)))


def test_root_all_names_exist() -> None:
    missing = [n for n in gk.__all__ if not hasattr(gk, n)]
    assert not missing


def test_root_all_lists_the_family_modules() -> None:
    family = set()
    for mod in (blas, construction, differences, distances, histograms, mutating, views):
        family |= set(mod.__all__)
    family |= {"msort", "ravel", "is_same_size", "is_signed"}
    # NOTE: gk.unfold exists but stays out of ``import *`` (PyTorch has only Tensor.unfold)
    assert family - set(gk.__all__) == {"unfold"}


def test_every_row_function_is_the_public_function() -> None:
    # a row's public function is a gradkit function, never the raw row (its argument handling)
    for name in _row_functions():
        assert getattr(gk, name) is not REGISTRY[name], name


def test_method_variants_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rows = [n for n in _row_functions() if hasattr(torch, n)]
    assert len(rows) > 100
    methods = {n for n in rows if hasattr(gk.Tensor, n) != hasattr(torch.Tensor, n)}
    assert methods == EXTRA_METHODS
    inplace = {n for n in rows if hasattr(gk.Tensor, n + "_") != hasattr(torch.Tensor, n + "_")}
    assert inplace == EXTRA_INPLACE | MISSING_INPLACE
    assert all(hasattr(gk.Tensor, n + "_") for n in EXTRA_INPLACE)
    assert not any(hasattr(gk.Tensor, n + "_") for n in MISSING_INPLACE)


def test_plain_methods_are_the_functions() -> None:
    # Tensor.sin is gradkit.sin (one function, two spellings), as the method table says; a
    # function taking out= is wrapped once for its method, which refuses out= as PyTorch's do
    # (gradkit.sin itself is the __torch_function__ dispatch wrapper around that function)
    for name in ("sin", "exp", "add", "reshape", "matmul", "clamp"):
        method = getattr(gk.Tensor, name)
        assert getattr(method, "__wrapped__", method) is getattr(gk, name).__wrapped__, name

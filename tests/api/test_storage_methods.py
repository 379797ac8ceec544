"""Tensor.storage() / untyped_storage(): the storage a view shares with its base, counted in
elements and in bytes, as PyTorch's serialization note prints it (a slice of a 999-element
tensor has a storage of 999 elements, its clone one of 5); against torch where installed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def test_sizes_and_sharing() -> None:
    large = gk.arange(1, 1000)
    small = large[0:5]
    assert _quiet(lambda: small.storage().size()) == 999
    assert _quiet(lambda: len(small.clone().storage())) == 5
    assert small.untyped_storage().nbytes() == 999 * 8 == small.untyped_storage().size()
    assert small.untyped_storage().data_ptr() == large.untyped_storage().data_ptr()
    assert small.clone().untyped_storage().data_ptr() != large.untyped_storage().data_ptr()
    x = gk.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4))
    st = _quiet(lambda: x.t().storage())
    assert st.size() == 12 and st.element_size() == 4 and st.dtype == gk.float32
    assert st.tolist() == list(np.arange(12.0))
    assert x[1].untyped_storage().nbytes() == 48 and str(x.untyped_storage().device) == "cpu"


def test_storage_warns_as_pytorch_does() -> None:
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        gk.ones(2).storage()


def test_same_as_torch() -> None:
    torch = pytest.importorskip("torch")
    got, want = [], []
    for lib, out in ((gk, got), (torch, want)):
        a = lib.arange(24).reshape(2, 3, 4)
        for t in (a, a[1], a[:, 1:], a.transpose(0, 2), a.reshape(6, 4)[2:], a.clone()[0], a + 1,
                  a.as_strided((2, 2), (1, 2), 3), a.flatten()[::5]):
            out.append((_quiet(lambda t=t: t.storage().size()), t.untyped_storage().nbytes(),
                        t.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()))
    assert got == want


def test_is_storage_and_storage_constructors_as_torch() -> None:
    # torch.is_storage's docstring example: True for both storage kinds, False for a tensor
    # or a list (gradkit used to answer False for every object)
    torch = pytest.importorskip("torch")
    got, want = [], []
    for lib, out in ((gk, got), (torch, want)):
        t = lib.tensor([1, 2, 3])
        typed = _quiet(lambda lib=lib: lib.TypedStorage(5, dtype=lib.int16))
        listed = _quiet(lambda lib=lib: lib.TypedStorage([1, 2, 3]))
        out.append((lib.is_storage(t.untyped_storage()), lib.is_storage(typed),
                    lib.is_storage(_quiet(t.storage)), lib.is_storage(t),
                    lib.is_storage([1, 2, 3]), len(typed), typed.element_size(),
                    listed.tolist(), str(listed.dtype), lib.UntypedStorage(6).nbytes(),
                    lib.is_storage(lib.UntypedStorage(6))))
    assert got == want
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        gk.TypedStorage(2)

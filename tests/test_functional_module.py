"""``gradkit.functional`` stands in for ``torch.functional`` (``import torch.functional as F``)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.functional as F


def test_functional_holds_the_top_level_functions() -> None:
    for name in F.__all__:
        assert getattr(F, name) is getattr(gk, name), name
    assert gk.functional is F


def test_functional_einsum_and_split() -> None:
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(F.einsum("ij,jk->ik", a, a).numpy(), [[7.0, 10.0], [15.0, 22.0]])
    assert [tuple(p.shape) for p in F.split(gk.arange(5), 2)] == [(2,), (2,), (1,)]


def test_functional_names_are_pytorchs() -> None:
    torch_functional = pytest.importorskip("torch.functional")
    assert set(F.__all__) <= set(torch_functional.__all__)
    missing = set(torch_functional.__all__) - set(F.__all__)
    assert missing == {"istft", "stft", "lu", "pca_lowrank", "svd_lowrank", "unique_consecutive",
                       "unravel_index"}

"""NumPy's functions order complex numbers (lexicographically) on tensors as NumPy does on
arrays, while gradkit's PyTorch-style functions refuse them as PyTorch does. NumPy itself on the
same values is the oracle."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

Z = np.array([1 + 2j, -1j, 0.5 + 0j, 1 - 3j])

CALLS = {
    "max": lambda a: np.max(a), "amin": lambda a: np.amin(a), "sort": lambda a: np.sort(a),
    "median": lambda a: np.median(a), "argmax": lambda a: np.argmax(a),
    "clip": lambda a: np.clip(a, 0, 1), "ptp": lambda a: np.ptp(a),
    "maximum.reduce": lambda a: np.maximum.reduce(a), "minimum": lambda a: np.minimum(a, a[::-1]),
    "max_axis": lambda a: a.reshape(2, 2).max(axis=0),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("requires_grad", [False, True])
def test_numpy_functions_keep_numpys_complex_order(name, requires_grad):
    got = CALLS[name](gk.tensor(Z, requires_grad=requires_grad))
    np.testing.assert_array_equal(np.asarray(got.detach() if requires_grad else got),
                                  CALLS[name](Z))


def test_pytorch_spelling_still_refuses():
    c = gk.tensor(Z)
    with pytest.raises(NotImplementedError, match="max_all"):
        gk.max(c)
    with pytest.raises(RuntimeError, match="Sort does not support complex"):
        c.sort()

"""Public classes print under their public path, as PyTorch's do (``<class 'torch.Tensor'>``),
and still pickle, copy, save and cross process boundaries by that path."""

from __future__ import annotations

import copy
import multiprocessing
import operator
import pickle

import numpy as np
import pytest

import gradkit as gk

#: the path PyTorch 2.13 prints for each (``torch.Generator`` is ``torch._C.Generator`` there,
#: not a public path; gradkit's is its public home ``gradkit.Generator``)
PATHS = {
    "Tensor": "<class 'gradkit.Tensor'>",
    "Size": "<class 'gradkit.Size'>",
    "dtype": "<class 'gradkit.dtype'>",
    "device": "<class 'gradkit.device'>",
    "Generator": "<class 'gradkit.Generator'>",
}


def test_types_print_their_public_path() -> None:
    t = gk.tensor([1.0, 2.0], requires_grad=True)
    assert repr(type(t)) == PATHS["Tensor"]
    assert repr(type(t.shape)) == PATHS["Size"]
    assert repr(type(t.dtype)) == PATHS["dtype"]
    assert repr(type(t.device)) == PATHS["device"]
    assert repr(type(gk.Generator())) == PATHS["Generator"]
    assert repr(gk.nn.Parameter) == "<class 'gradkit.nn.parameter.Parameter'>"
    for name in PATHS:
        assert getattr(gk, name).__module__ == "gradkit"
    assert repr(gk.Generator()).startswith("<gradkit.Generator object at ")


def test_paths_match_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    for name in ("Tensor", "Size", "dtype", "device"):
        assert PATHS[name] == repr(getattr(torch, name)).replace("torch", "gradkit")


def test_pickle_and_copies_keep_working() -> None:
    t = gk.tensor([[1.0, -2.0], [3.0, 4.5]], dtype=gk.float64, requires_grad=True)
    for back in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t), copy.copy(t)):
        assert type(back) is gk.Tensor
        np.testing.assert_array_equal(back.detach().numpy(), [[1.0, -2.0], [3.0, 4.5]])
        assert back.requires_grad and back.dtype is gk.float64
    s = pickle.loads(pickle.dumps(t.shape))
    assert type(s) is gk.Size and s == (2, 2) and repr(s) == "torch.Size([2, 2])"
    assert pickle.loads(pickle.dumps(gk.float32)) is gk.float32
    assert copy.deepcopy(gk.int64) is gk.int64
    d = pickle.loads(pickle.dumps(gk.device("cpu")))
    assert type(d) is gk.device and d == "cpu"
    g = gk.Generator().manual_seed(3)
    want = gk.rand(4, generator=copy.deepcopy(g)).numpy()
    back = pickle.loads(pickle.dumps(g))
    assert type(back) is gk.Generator
    np.testing.assert_array_equal(gk.rand(4, generator=back).numpy(), want)
    p = gk.nn.Parameter(gk.ones(2))
    assert type(pickle.loads(pickle.dumps(p))) is gk.nn.Parameter


def test_save_and_load(tmp_path) -> None:
    t = gk.arange(6.0).reshape(2, 3)
    path = tmp_path / "t.pt"
    gk.save({"t": t, "shape": t.shape}, path)
    back = gk.load(path)
    assert type(back["t"]) is gk.Tensor
    np.testing.assert_array_equal(back["t"].numpy(), t.numpy())
    assert tuple(back["shape"]) == (2, 3)


def test_tensors_cross_process_boundaries() -> None:
    t = gk.tensor([1.0, -2.0, 3.0])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        neg, shape, dt = pool.map(operator.neg, [t, ]) + pool.map(copy.copy, [t.shape, gk.float32])
    assert type(neg) is gk.Tensor
    np.testing.assert_array_equal(neg.numpy(), [-1.0, 2.0, -3.0])
    assert type(shape) is gk.Size and shape == (3,)
    assert dt is gk.float32

"""Small pieces of PyTorch's surface that model code calls (issue #17): ``torch.compiler`` /
``torch.jit`` markers in eager mode, ``torch.version``, ``torch.distributed``'s guards,
``nn.NLLLoss2d``, ``nn.LazyConvTranspose3d``, ``Tensor.module_load``; against live PyTorch."""

import numpy as np
import pytest

import gradkit as gk


def test_compiler_and_jit_markers_as_eager_pytorch():
    torch = pytest.importorskip("torch")

    def f(x):
        return x + 1

    for lib in (gk, torch):
        assert lib.compiler.is_compiling() is False
        assert lib.compiler.is_dynamo_compiling() is False
        assert lib.compiler.disable(f)(1) == 2
        assert lib.compiler.disable()(f)(1) == 2
        assert lib.compiler.disable(recursive=False)(f)(1) == 2
        assert lib.jit.is_scripting() is False and lib.jit.is_tracing() is False
        assert lib.jit.ignore(f) is f
        with pytest.warns(FutureWarning, match=r"ignore\(True\) has been deprecated"):
            assert lib.jit.ignore(drop=True)(f) is f
        assert lib.jit.unused(f) is f and lib.jit.export(f) is f
        assert lib.jit.annotate(list, [1]) == [1]
    assert gk.jit.Final is torch.jit.Final
    assert gk.jit.Attribute(3, int) == 3


def test_jit_script_refuses_instead_of_faking():
    with pytest.raises(NotImplementedError, match="gradkit has no TorchScript"):
        gk.jit.script(gk.nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match="torch.jit.trace"):
        gk.jit.trace(lambda x: x, (gk.ones(1),))


def test_version_and_distributed_guards():
    torch = pytest.importorskip("torch")
    assert gk.version.cuda is None and gk.version.cuda == torch.version.cuda
    assert gk.version.__version__ == gk.__version__
    assert gk.distributed.is_available() is False
    assert gk.distributed.is_initialized() is torch.distributed.is_initialized() is False


def test_nllloss2d_deprecated_alias_as_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    t = rng.integers(0, 3, (2, 4, 4))
    res = []
    for lib in (gk, torch):
        with pytest.warns(FutureWarning) as rec:
            crit = lib.nn.NLLLoss2d(ignore_index=1)
        assert isinstance(crit, lib.nn.NLLLoss)
        xi = lib.tensor(x, requires_grad=True)
        loss = crit(lib.log_softmax(xi, 1), lib.tensor(t))
        loss.backward()
        res.append((str(rec[0].message), loss.item(), xi.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-5, atol=1e-7)


def test_lazy_conv_transpose3d_as_pytorch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (gk, torch):
        m = lib.nn.LazyConvTranspose3d(4, 2, stride=2)
        before = repr(m)
        y = m(lib.ones(1, 3, 2, 2, 2))
        got.append((before, repr(m), tuple(y.shape), tuple(m.weight.shape), type(m).__name__))
    assert got[0] == got[1]


def test_module_load_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (gk, torch):
        p = lib.nn.Parameter(lib.zeros(2))
        other = lib.tensor([1.0, 2.0], dtype=lib.float64)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            p.module_load(other)
        with lib.no_grad():                     # as load_state_dict calls it
            out = p.module_load(other)
        assert out is not p and out is not other and not out.requires_grad
        assert out.dtype == lib.float32 and out.tolist() == [1.0, 2.0]
        assert p.tolist() == [1.0, 2.0]
        assigned = lib.zeros(2).module_load(other, assign=True)
        assert assigned.dtype == lib.float64 and assigned is not other


def test_utils_data_submodules_are_attributes():
    torch = pytest.importorskip("torch")
    for name in ("dataloader", "dataset", "distributed", "sampler"):
        assert hasattr(torch.utils.data, name)
        assert hasattr(gk.utils.data, name)
    assert gk.utils.data.sampler.RandomSampler is gk.utils.data.RandomSampler
    assert gk.utils.data.distributed.DistributedSampler is gk.utils.data.DistributedSampler

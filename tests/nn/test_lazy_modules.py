"""Lazy modules and uninitialized parameters; printed text recorded from PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

# (class, constructor args, input shape, text before the first call, text after, param shapes)
CASES = [
    (nn.LazyLinear, (3,), (4, 2), "LazyLinear(in_features=0, out_features=3, bias=True)",
     "Linear(in_features=2, out_features=3, bias=True)", [(3, 2), (3,)]),
    (nn.LazyConv1d, (4, 3), (1, 2, 8), "LazyConv1d(0, 4, kernel_size=(3,), stride=(1,))",
     "Conv1d(2, 4, kernel_size=(3,), stride=(1,))", [(4, 2, 3), (4,)]),
    (nn.LazyConv2d, (4, 3), (1, 2, 8, 8), "LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1))",
     "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1))", [(4, 2, 3, 3), (4,)]),
    (nn.LazyConv3d, (4, 3), (1, 2, 5, 5, 5),
     "LazyConv3d(0, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1))",
     "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1))", [(4, 2, 3, 3, 3), (4,)]),
    (nn.LazyConvTranspose1d, (4, 3), (1, 2, 8),
     "LazyConvTranspose1d(0, 4, kernel_size=(3,), stride=(1,))",
     "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,))", [(2, 4, 3), (4,)]),
    (nn.LazyConvTranspose2d, (4, 3), (1, 2, 8, 8),
     "LazyConvTranspose2d(0, 4, kernel_size=(3, 3), stride=(1, 1))",
     "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(1, 1))", [(2, 4, 3, 3), (4,)]),
]
_NORM = "(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
for _name, _shape in [("BatchNorm1d", (3, 2)), ("BatchNorm2d", (3, 2, 4, 4)),
                      ("BatchNorm3d", (3, 2, 2, 2, 2)), ("InstanceNorm1d", (3, 2, 4)),
                      ("InstanceNorm2d", (3, 2, 4, 4)), ("InstanceNorm3d", (3, 2, 2, 2, 2))]:
    # NOTE: PyTorch's lazy instance norms default to affine=True, track_running_stats=True
    CASES.append((getattr(nn, "Lazy" + _name), (), _shape, "Lazy" + _name + _NORM,
                  _name + _NORM.replace("(0,", "(2,"), [(2,), (2,)]))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].__name__)
def test_materializes_on_first_call_and_prints_as_torch(case):
    cls, args, shape, before, after, shapes = case
    m = cls(*args)
    assert repr(m) == before and m.has_uninitialized_params()
    assert all(repr(p) == "<UninitializedParameter>" for p in m.parameters())
    gk.manual_seed(0)
    out = m(gk.randn(*shape))
    assert repr(m) == after and type(m).__name__ == after.split("(")[0]
    assert [tuple(p.shape) for p in m.parameters()] == shapes
    assert all(type(p) is nn.Parameter for p in m.parameters())
    assert not np.isnan(out.detach().numpy()).any()
    assert "_initialize_hook" not in m.__dict__ and not m._forward_pre_hooks


def test_lazy_linear_computes_like_linear_after_materializing():
    m = nn.LazyLinear(2)
    x = gk.tensor([[1.0, 2.0, 3.0]])
    y = m(x)
    np.testing.assert_allclose(y.detach().numpy(),
                               x.numpy() @ m.weight.detach().numpy().T + m.bias.detach().numpy(),
                               rtol=1e-6)
    bound = 1 / np.sqrt(3)                     # PyTorch's U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(m.weight.detach().numpy()).max() <= bound


def test_uninitialized_parameter_refuses_use():
    p = nn.UninitializedParameter()
    assert repr(p) == "<UninitializedParameter>" and p.requires_grad and p.dtype == gk.float32
    with pytest.raises(RuntimeError, match=r"^Can't access the shape of an uninitialized "
                                           r"parameter or buffer\."):
        _ = p.shape
    with pytest.raises(ValueError, match="^Attempted to use an uninitialized parameter in"):
        p + 1
    with pytest.raises(ValueError, match="^Attempted to use an uninitialized parameter in"):
        gk.sin(p)
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3)
    assert repr(nn.UninitializedBuffer()) == "<UninitializedBuffer>"


def test_state_dict_dtype_and_errors_before_the_first_call():
    m = nn.LazyBatchNorm1d()
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    assert repr(m.running_mean) == "<UninitializedBuffer>" and repr(m.num_batches_tracked) == "tensor(0)"
    m = nn.LazyLinear(2).double()
    assert m.weight.dtype == gk.float64
    m(gk.ones(1, 3, dtype=gk.float64))
    assert m.weight.dtype == gk.float64
    with pytest.raises(RuntimeError, match=r"^Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           r"to LazyConv2d, but got input of size: "
                                           r"torch.Size\(\[3\]\)$"):
        nn.LazyConv2d(2, 3)(gk.ones(3))


def test_load_state_dict_materializes():
    src = nn.Linear(2, 3)
    m = nn.LazyLinear(3)
    assert repr(m.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    assert tuple(m.weight.shape) == (3, 2)
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())


def test_same_as_live_torch():
    torch = pytest.importorskip("torch")
    for cls, args, shape, before, after, _ in CASES:
        t = getattr(torch.nn, cls.__name__)(*args)
        assert repr(t) == before
        t(torch.randn(*shape))
        assert repr(t) == after


def test_deepcopy_before_the_first_call_is_independent():
    import copy
    m = nn.LazyLinear(2)
    c = copy.deepcopy(m)
    c(gk.ones(1, 3))
    c(gk.ones(1, 3))                            # the copy's own hook was removed
    assert repr(c) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(m) == "LazyLinear(in_features=0, out_features=2, bias=True)"
    m(gk.ones(1, 4))
    assert tuple(m.weight.shape) == (2, 4) and tuple(c.weight.shape) == (2, 3)


def test_data_before_the_first_call_is_an_unconnected_empty_tensor():
    # PyTorch 2.13: `LazyLinear(1).weight.data` is tensor([]) (shape (0,), float32), so d2l's
    # `net.weight.data.normal_(0, 0.01)` before the first call changes nothing
    m = nn.LazyLinear(1)
    d = m.weight.data
    assert tuple(d.shape) == (0,) and d.dtype == gk.float32 and not d.requires_grad
    assert tuple(d.normal_(0, 0.01).shape) == (0,)
    assert tuple(m.bias.data.fill_(0).shape) == (0,)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = m.weight.shape
    assert tuple(m.double().weight.data.shape) == (0,) and m.weight.data.dtype == gk.float64
    m(gk.ones(2, 3, dtype=gk.float64))
    assert tuple(m.weight.shape) == (1, 3) and m.weight.dtype == gk.float64

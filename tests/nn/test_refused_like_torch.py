"""Arguments PyTorch refuses, refused with its words: non-positive strides and dilations,
negative padding, mixed dtypes in linear layers, out-of-range margin-loss targets. A negative
stride used to read the input backwards; a float64 input to a float32 ``nn.Linear`` used to be
promoted. Messages recorded from PyTorch 2.13."""

import pytest

import gradkit as gk

F = gk.nn.functional

CONVS = {
    "conv1d": (lambda **kw: F.conv1d(gk.ones(1, 1, 3), gk.ones(1, 1, 2), **kw), [1]),
    "conv2d": (lambda **kw: F.conv2d(gk.ones(1, 1, 3, 3), gk.ones(1, 1, 2, 2), **kw), []),
    "conv3d": (lambda **kw: F.conv3d(gk.ones(1, 1, 3, 3, 3), gk.ones(1, 1, 2, 2, 2), **kw), []),
    "conv_transpose1d": (lambda **kw: F.conv_transpose1d(gk.ones(1, 1, 3), gk.ones(1, 1, 2), **kw),
                         None),
    "conv_transpose2d": (lambda **kw: F.conv_transpose2d(gk.ones(1, 1, 3, 3), gk.ones(1, 1, 2, 2),
                                                         **kw), None),
    "conv_transpose3d": (lambda **kw: F.conv_transpose3d(gk.ones(1, 1, 3, 3, 3),
                                                         gk.ones(1, 1, 2, 2, 2), **kw), None),
}


@pytest.mark.parametrize("name", sorted(CONVS))
@pytest.mark.parametrize("stride", [0, -1])
def test_non_positive_stride(name, stride):
    with pytest.raises(RuntimeError, match="^non-positive stride is not supported$"):
        CONVS[name][0](stride=stride)


@pytest.mark.parametrize("name", sorted(CONVS))
def test_zero_dilation(name):
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        CONVS[name][0](dilation=0)


@pytest.mark.parametrize("name", sorted(CONVS))
def test_negative_padding(name):
    with pytest.raises(RuntimeError, match="^negative padding is not supported$"):
        CONVS[name][0](padding=-1)


def test_dilation_message_lists_the_dims():
    with pytest.raises(RuntimeError, match=r"but got \[1, 0\]$"):
        CONVS["conv1d"][0](dilation=0)
    with pytest.raises(RuntimeError, match=r"but got \[0, 0\]$"):
        CONVS["conv2d"][0](dilation=0)


def test_linear_refuses_mixed_dtypes():
    lin = gk.nn.Linear(3, 2)
    same = "must have the same dtype, but got"
    with pytest.raises(RuntimeError, match=f"mat1 and mat2 {same} Double and Float"):
        lin(gk.ones(2, 3, dtype=gk.float64))
    with pytest.raises(RuntimeError, match=f"mat1 and mat2 {same} Long and Float"):
        lin(gk.ones(4, 2, 3, dtype=gk.int64))
    with pytest.raises(RuntimeError, match=f"self and mat2 {same} Double and Float"):
        F.linear(gk.ones(2, 3), gk.ones(2, 3), gk.ones(2, dtype=gk.float64))
    with pytest.raises(RuntimeError, match=f"self and mat2 {same} Float and Double"):
        gk.addmm(gk.ones(2, 2), gk.ones(2, 3, dtype=gk.float64), gk.ones(3, 2, dtype=gk.float64))
    assert lin.double()(gk.ones(2, 3, dtype=gk.float64)).dtype == gk.float64


def test_margin_loss_targets_out_of_range():
    with pytest.raises(RuntimeError, match="^target out of range$"):
        F.multi_margin_loss(gk.ones(2, 3), gk.tensor([0, 3]))
    with pytest.raises(RuntimeError, match="^argument #2 'target' is out of range$"):
        F.multilabel_margin_loss(gk.ones(2, 3), gk.tensor([[0, 5, -1], [1, -1, 0]]))

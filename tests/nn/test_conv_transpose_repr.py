"""ConvTranspose reprs list every non-default option as PyTorch's do (strings recorded from
torch 2.13; DCGAN's printed generator showed none of padding/bias=False)."""

import gradkit as gk


def test_conv_transpose_repr_matches_torch():
    assert repr(gk.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                      dilation=2, bias=False)) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "dilation=(2, 2), output_padding=(1, 1), groups=2, bias=False)")
    assert repr(gk.nn.ConvTranspose2d(16, 64, 4, 1, 0, bias=False)) == (
        "ConvTranspose2d(16, 64, kernel_size=(4, 4), stride=(1, 1), bias=False)")
    assert repr(gk.nn.ConvTranspose1d(4, 6, 3)) == (
        "ConvTranspose1d(4, 6, kernel_size=(3,), stride=(1,))")
    assert repr(gk.nn.ConvTranspose3d(4, 6, (1, 2, 3), padding=(0, 1, 0))) == (
        "ConvTranspose3d(4, 6, kernel_size=(1, 2, 3), stride=(1, 1, 1), padding=(0, 1, 0))")
